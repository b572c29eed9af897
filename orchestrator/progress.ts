/**
 * Live progress of the slots: on a TTY one cli-progress line per slot (model, run index, epoch/max, last val ROC
 * AUC, ETA of the run) under a line counting finished runs; otherwise one plain line per event. Always on stderr,
 * so that stdout holds only the summary (or the --json document).
 */
import cliProgress from 'cli-progress';
import type { EpochRecord } from '../workers/protocol.ts';

export interface RunLabel {
  model: string;
  runIndex: number;
  seed: number;
  attempt: number;
  epochs: number;
}

export type RunOutcome =
  | { status: 'completed'; seconds: number; testRocAuc: number | null }
  | { status: 'failed'; error: string; willRetry: boolean }
  | { status: 'interrupted' };

export interface Progress {
  runStarted(slot: string, run: RunLabel): void;
  epoch(slot: string, run: RunLabel, record: EpochRecord, best: boolean): void;
  runEnded(slot: string, run: RunLabel, outcome: RunOutcome): void;
  log(message: string): void;
  stop(): void;
}

const auc = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '  -   ' : x.toFixed(4));
const name = (r: RunLabel) => `${r.model} run ${r.runIndex}`;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function endLine(slot: string, run: RunLabel, outcome: RunOutcome): string {
  if (outcome.status === 'completed') {
    return `[${slot}] ${name(run)}: completed in ${formatDuration(outcome.seconds)}, test ROC AUC ${auc(outcome.testRocAuc)}`;
  }
  if (outcome.status === 'failed') {
    return `[${slot}] ${name(run)}: attempt ${run.attempt} failed: ${outcome.error}${outcome.willRetry ? ' (will retry)' : ''}`;
  }
  return `[${slot}] ${name(run)}: interrupted`;
}

export function plainProgress(write: (line: string) => void): Progress {
  return {
    runStarted: (slot, run) => write(`[${slot}] ${name(run)} (seed ${run.seed}, attempt ${run.attempt}): started`),
    epoch: (slot, run, r, best) =>
      write(`[${slot}] ${name(run)} epoch ${r.epoch}/${run.epochs} ${r.seconds.toFixed(1)}s loss ${r.train.loss.toFixed(4)} val_loss ${r.val.loss.toFixed(4)} val_roc_auc ${auc(r.val.roc_auc)}${best ? ' (best)' : ''}`),
    runEnded: (slot, run, outcome) => write(endLine(slot, run, outcome)),
    log: (message) => write(message),
    stop() {},
  };
}

export function ttyProgress(stream: NodeJS.WriteStream, slots: string[], totalRuns: number): Progress {
  const multibar = new cliProgress.MultiBar(
    { format: '{label} |{bar}| {value}/{total} {unit} {detail}', stream, hideCursor: true, clearOnComplete: false, barsize: 24, autopadding: true, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...slots.map((s) => s.length), 4);
  let completed = 0;
  let failed = 0;
  const overall = multibar.create(totalRuns, 0, { label: 'runs'.padEnd(width + 22), unit: 'runs', detail: '' });
  const bars = new Map(slots.map((slot) => [slot, multibar.create(1, 0, { label: `${slot.padEnd(width)} ${'idle'.padEnd(21)}`, unit: 'epochs', detail: '' })]));
  const seconds = new Map<string, number[]>();
  const updateOverall = () => overall.update(completed, { detail: failed ? `(${failed} failed)` : '' });
  return {
    runStarted(slot, run) {
      seconds.set(slot, []);
      bars.get(slot)?.setTotal(run.epochs);
      bars.get(slot)?.update(0, { label: `${slot.padEnd(width)} ${`${run.model} #${run.runIndex}`.padEnd(21)}`, detail: `attempt ${run.attempt}` });
    },
    epoch(slot, run, r) {
      const times = seconds.get(slot) ?? [];
      times.push(r.seconds);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      bars.get(slot)?.update(r.epoch, { detail: `val AUC ${auc(r.val.roc_auc)} ETA ${formatDuration(mean * (run.epochs - r.epoch))}` });
    },
    runEnded(slot, run, outcome) {
      if (outcome.status === 'completed') completed++;
      if (outcome.status === 'failed' && !outcome.willRetry) failed++;
      updateOverall();
      if (outcome.status !== 'completed') multibar.log(endLine(slot, run, outcome) + '\n');
      bars.get(slot)?.update({ label: `${slot.padEnd(width)} ${'idle'.padEnd(21)}`, detail: '' });
    },
    log: (message) => multibar.log(message + '\n'),
    stop: () => multibar.stop(),
  };
}
