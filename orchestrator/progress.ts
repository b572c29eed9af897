/**
 * Live progress of the slots: on a TTY one cli-progress line per slot under a line counting finished runs with the
 * experiment's time left. A slot's bar moves through the run's epochs, inside the current one too; beside it the
 * phase (decoding, caching, training, evaluating) with its step counter, images/s and ETA, the run's ETA and the
 * last val ROC AUC. Otherwise one plain line per event (and per phase). Always on stderr, so that stdout holds
 * only the summary (or the --json document).
 */
import cliProgress from 'cli-progress';
import type { PhaseProgress } from '../study/live.ts';
import type { EpochRecord } from '../study/run.ts';

export interface RunLabel {
  model: string;
  runIndex: number;
  seed: number;
  attempt: number;
  epochs: number;
  /** Images per training step. */
  batchSize: number;
}

export type RunOutcome =
  | { status: 'completed'; seconds: number; testRocAuc: number | null }
  | { status: 'failed'; error: string; willRetry: boolean }
  | { status: 'interrupted' };

export interface Progress {
  runStarted(slot: string, run: RunLabel): void;
  /** Progress inside a phase of the run (a few times a second). */
  phase(slot: string, run: RunLabel, progress: PhaseProgress): void;
  epoch(slot: string, run: RunLabel, record: EpochRecord, best: boolean): void;
  /** The experiment's time left, in words (e.g. 'at most about 41h00m left'). */
  estimate(text: string): void;
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

/** What a phase has done: 'epoch 3 training step 20/66, 52 images/s, ETA 25s' or 'decoding 1200/3297 images, ...'. */
export function describePhase(p: PhaseProgress, batchSize: number): string {
  const rate = p.imagesPerSecond === null ? '' : `, ${p.imagesPerSecond.toFixed(0)} images/s, ETA ${formatDuration((p.total - p.done) / p.imagesPerSecond)}`;
  const count = p.phase === 'training' ? `step ${Math.ceil(p.done / batchSize)}/${Math.ceil(p.total / batchSize)}` : `${p.done}/${p.total} images`;
  const what = p.phase === 'evaluating' && p.epoch === null ? 'final evaluation' : p.phase;
  return `${p.epoch === null ? '' : `epoch ${p.epoch} `}${what} ${count}${rate}`;
}

/** Plain lines: the phases before training as they start and end, training at most once a minute per slot. */
export function plainProgress(write: (line: string) => void, now = () => Date.now()): Progress {
  const lastLine = new Map<string, { key: string; at: number }>();
  return {
    runStarted: (slot, run) => write(`[${slot}] ${name(run)} (seed ${run.seed}, attempt ${run.attempt}): started`),
    phase(slot, run, p) {
      const key = `${p.phase}:${p.epoch}`;
      const last = lastLine.get(slot);
      const boundary = p.done === 0 || p.done === p.total;
      const inEpoch = p.phase === 'training' || (p.phase === 'evaluating' && p.epoch !== null);
      if (inEpoch ? last?.key === key && now() - last.at < 60_000 && !(p.done === 0 && last.key !== key) : !boundary && last?.key === key) return;
      if (inEpoch && p.done === p.total) return; // the epoch line follows
      lastLine.set(slot, { key, at: now() });
      write(`[${slot}] ${name(run)}: ${describePhase(p, run.batchSize)}`);
    },
    estimate: (text) => write(`estimate: ${text}`),
    epoch: (slot, run, r, best) =>
      write(
        `[${slot}] ${name(run)} epoch ${r.epoch}/${run.epochs} ${r.seconds.toFixed(1)}s loss ${r.train.loss.toFixed(4)} val_loss ${r.val.loss.toFixed(4)} val_roc_auc ${auc(r.val.roc_auc)}${best ? ' (best)' : ''}`,
      ),
    runEnded: (slot, run, outcome) => write(endLine(slot, run, outcome)),
    log: (message) => write(message),
    stop() {},
  };
}

/** A slot's bar counts thousandths of epochs, so that it moves inside an epoch; `{count}` shows whole epochs. */
const STEPS_PER_EPOCH = 1000;

export function ttyProgress(stream: NodeJS.WriteStream, slots: string[], totalRuns: number): Progress {
  const multibar = new cliProgress.MultiBar(
    { format: '{label} |{bar}| {count} {detail}', stream, hideCursor: true, clearOnComplete: false, barsize: 24, autopadding: true, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...slots.map((s) => s.length), 4);
  let completed = 0;
  let failed = 0;
  let estimate = '';
  const overall = multibar.create(totalRuns, 0, { label: 'runs'.padEnd(width + 22), count: `0/${totalRuns} runs`, detail: '' });
  const bars = new Map(slots.map((slot) => [slot, multibar.create(1, 0, { label: `${slot.padEnd(width)} ${'idle'.padEnd(21)}`, count: '', detail: '' })]));
  /** Per slot: seconds of each finished epoch, the last val AUC, and the current phase's words. */
  const state = new Map<string, { times: number[]; epochsDone: number; lastAuc: string; phase: string; fraction: number }>();
  const updateOverall = () =>
    overall.update(completed, { count: `${completed}/${totalRuns} runs`, detail: [failed ? `(${failed} failed)` : '', estimate].filter(Boolean).join(' ') });
  const redraw = (slot: string, run: RunLabel) => {
    const st = state.get(slot);
    if (!st) return;
    const mean = st.times.length ? st.times.reduce((a, b) => a + b, 0) / st.times.length : null;
    // ≤: the run may stop early.
    const runEta = mean === null ? '' : `run ETA ≤ ${formatDuration(mean * (run.epochs - st.epochsDone - st.fraction))}`;
    const bar = bars.get(slot);
    bar?.setTotal(run.epochs * STEPS_PER_EPOCH);
    bar?.update(Math.round((st.epochsDone + st.fraction) * STEPS_PER_EPOCH), {
      count: `${st.epochsDone}/${run.epochs} epochs`,
      detail: [st.phase, runEta, st.lastAuc].filter(Boolean).join(' · '),
    });
  };
  return {
    runStarted(slot, run) {
      state.set(slot, { times: [], epochsDone: 0, lastAuc: '', phase: `attempt ${run.attempt}`, fraction: 0 });
      bars.get(slot)?.update({ label: `${slot.padEnd(width)} ${`${run.model} #${run.runIndex}`.padEnd(21)}` });
      redraw(slot, run);
    },
    phase(slot, run, p) {
      const st = state.get(slot);
      if (!st) return;
      st.phase = describePhase(p, run.batchSize);
      if (p.phase === 'training' && p.total > 0) {
        st.fraction = p.done / p.total;
        if (!st.times.length && p.imagesPerSecond) {
          // No epoch has finished: its training pace stands for the epoch.
          const epochSeconds = p.total / p.imagesPerSecond;
          const left = run.epochs - st.epochsDone - st.fraction;
          st.phase += ` · run ETA ≤ ${formatDuration(epochSeconds * left)}`;
        }
      }
      redraw(slot, run);
    },
    epoch(slot, run, r) {
      const st = state.get(slot);
      if (!st) return;
      st.times.push(r.seconds);
      st.epochsDone = r.epoch;
      st.fraction = 0;
      st.lastAuc = `val AUC ${auc(r.val.roc_auc)}`;
      st.phase = `epoch ${r.epoch} took ${formatDuration(r.seconds)}`;
      redraw(slot, run);
    },
    estimate(text) {
      estimate = text;
      updateOverall();
    },
    runEnded(slot, run, outcome) {
      if (outcome.status === 'completed') completed++;
      if (outcome.status === 'failed' && !outcome.willRetry) failed++;
      updateOverall();
      if (outcome.status !== 'completed') multibar.log(endLine(slot, run, outcome) + '\n');
      state.delete(slot);
      bars.get(slot)?.update(0, { label: `${slot.padEnd(width)} ${'idle'.padEnd(21)}`, count: '', detail: '' });
    },
    log: (message) => multibar.log(message + '\n'),
    stop: () => multibar.stop(),
  };
}
