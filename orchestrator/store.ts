/**
 * The orchestrator's view of the database: one experiment's run queue, its events and its outcome, on top of db/.
 *
 * Recovery rules: on start, runs no live process holds (interrupted, failed unless the store joins, and running ones
 * whose heartbeat is stale; with PGlite, which admits one process, every running one) go back to pending. Each continues from its last
 * completed epoch when its resume state (OUT/<experiment>/<model>-run<i>/resume, saved by the run at the end of each
 * epoch) is on this machine, else it trains again from scratch; its start sets its epoch rows to match.
 * Each store has its own owner id (host:pid:random); it beats the heartbeat of the runs it owns, and an idle slot
 * takes back the runs of a dead peer. A run taken back from this store while it stalled (its lease expired) is no
 * longer its own: its events and outcome are refused by the database, reported on stderr and dropped.
 * Retries: a failed attempt goes back to the queue while the run has been tried at most `retries` more times than
 * when this process started; then the run is recorded failed with its error. A failure caused by the user's input
 * (bad data, a bad setting) is not retried. Every failed attempt's error is kept (failed_attempts).
 */
import { isDeepStrictEqual } from 'node:util';
import {
  claimNextRun,
  createOrResumeExperiment,
  ensureRuns,
  experimentFailedAttempts,
  experimentSummary,
  failAttempt,
  finishExperiment,
  finishRun,
  hasUnfinishedRuns,
  listRuns,
  markInterrupted,
  recordEvent,
  runCounts,
  type Database,
  type FailedAttemptRow,
  type RunCounts,
  type RunOverviewRow,
} from '../db/index.ts';
import { heartbeat, LostRunLeaseError, newOwnerId, resetStaleRuns } from '../db/run-leases.ts';
import { METRIC_NAMES, type MetricName, type ModelName, type RunEvent, type RunResult, type RunSpec, type Split } from '../study/run.ts';
import type { SummaryRow } from './summary.ts';
import { codeVersion } from './code-version.ts';

export interface ClaimedRun {
  runId: number;
  model: ModelName;
  runIndex: number;
  seed: number;
  /** 1 for the first attempt. */
  attempt: number;
  spec: RunSpec;
  initFrom: string | null;
}

export interface StudyOutcome {
  experiment: { id: number; name: string; config: Record<string, unknown> };
  counts: RunCounts;
  runs: RunOverviewRow[];
  /** Every failed attempt of the experiment's runs, retried or not. */
  failedAttempts: (FailedAttemptRow & { model: string; runIndex: number })[];
  summary: SummaryRow[];
}

export interface RunStore {
  readonly experimentId: number;
  /** The owner id this store claims runs as (`runs.owner`). */
  readonly owner: string;
  /** Runs of the plan that were already completed when this process started. */
  readonly alreadyCompleted: number;
  claimNextRun(slot: string): Promise<ClaimedRun | null>;
  /** Whether runs remain that may still run (this also takes back the runs of a dead peer). */
  hasUnfinishedRuns(): Promise<boolean>;
  recordEvent(run: ClaimedRun, event: RunEvent): Promise<void>;
  completeRun(run: ClaimedRun, result: RunResult): Promise<void>;
  /** Records the failed attempt with its error; a `retryable` one goes back to the queue while retries are left. */
  failRun(run: ClaimedRun, error: string, opts?: { retryable?: boolean }): Promise<{ willRetry: boolean }>;
  markInterrupted(run: ClaimedRun): Promise<void>;
  outcome(): Promise<StudyOutcome>;
  /** Stops the heartbeat (the database itself is closed by its owner). */
  close(): void;
}

export interface StoreOptions {
  experiment: string;
  config: Record<string, unknown>;
  /** Config paths whose change does not block a resume (createOrResumeExperiment's `updatable`). */
  updatableConfig?: (path: string) => boolean;
  datasetDir: string;
  datasetFingerprint: string;
  retries: number;
  runs: { model: ModelName; runIndex: number; seed: number; spec: RunSpec }[];
  /**
   * The lease: the age of a running run's last heartbeat after which its holder is taken for dead (default 60 s).
   * The heartbeat beats every 5 s, or four times a lease when that is shorter, unless `heartbeatMs` says otherwise.
   */
  staleAfterSeconds?: number;
  heartbeatMs?: number;
  /**
   * Join the experiment as another orchestrator of it (orchestrate --join): it must exist, no run is added, and
   * failed runs stay failed (the first orchestrator's resume retries them, not every one that joins).
   */
  join?: boolean;
  /** The Slurm job of this process, recorded with every run it claims (see slurm-allocation.ts). */
  slurmJob?: string | null;
}

export async function openStore(database: Database, o: StoreOptions): Promise<RunStore> {
  const staleAfterSeconds = o.staleAfterSeconds ?? 60;
  const experiment = await createOrResumeExperiment(
    database,
    {
      name: o.experiment,
      config: o.config,
      datasetFingerprint: o.datasetFingerprint,
      datasetDir: o.datasetDir,
      codeVersion: codeVersion(),
    },
    { updatable: o.updatableConfig, join: o.join },
  );
  const experimentId = experiment.id;
  if (!o.join) await ensureRuns(database, experimentId, o.runs);
  // PGlite: this process holds the folder's lock, so no running run has a live holder.
  await resetStaleRuns(database, experimentId, { staleAfterSeconds: database.kind === 'pglite' ? -1 : staleAfterSeconds, includeFailed: !o.join });
  const alreadyCompleted = (await runCounts(database, experimentId)).completed;
  const attemptsAtStart = new Map((await listRuns(database, experimentId)).map((r) => [r.runId, r.attempts]));

  const owner = newOwnerId();
  const beat = setInterval(
    () => {
      heartbeat(database, owner).catch((err) => process.stderr.write(`warning: heartbeat failed: ${(err as Error).message}\n`));
    },
    o.heartbeatMs ?? Math.min(5_000, (staleAfterSeconds * 1000) / 4),
  );
  beat.unref();
  /** Per run, the result its final event stored (a copy of what the runner then returns: a thread posts clones). */
  const finalStored = new Map<number, RunResult>();
  /** A run taken back by a peer: say so and drop this process's outcome for it. */
  const dropLost = (err: unknown) => {
    if (!(err instanceof LostRunLeaseError)) throw err;
    process.stderr.write(`warning: ${err.message}\n`);
  };

  return {
    experimentId,
    owner,
    alreadyCompleted,
    async claimNextRun(slot) {
      const run = await claimNextRun(database, experimentId, slot, { owner, slurmJob: o.slurmJob ?? null });
      if (!run) return null;
      return { runId: run.id, model: run.model, runIndex: run.runIndex, seed: run.seed, attempt: run.attempts, spec: run.spec, initFrom: run.initFrom };
    },
    async hasUnfinishedRuns() {
      if (database.kind === 'postgres') await resetStaleRuns(database, experimentId, { staleAfterSeconds });
      return hasUnfinishedRuns(database, experimentId);
    },
    async recordEvent(run, event) {
      await recordEvent(database, run.runId, event, owner);
      if (event.type === 'final') finalStored.set(run.runId, event.result);
    },
    async completeRun(run, result) {
      // The run's final event normally stored this result already: writing its thousands of rows again would hold
      // the database (with PGlite, the page's reads) as long again. A lost lease throws in finishRun: the scheduler
      // then fails the attempt, and failRun drops it.
      const stored = finalStored.get(run.runId);
      if (!stored || !isDeepStrictEqual(stored, result)) await recordEvent(database, run.runId, { type: 'final', result }, owner);
      finalStored.delete(run.runId);
      await finishRun(database, run.runId, { status: 'completed' }, owner);
    },
    async failRun(run, error, { retryable = true } = {}) {
      finalStored.delete(run.runId);
      const triedHere = run.attempt - (attemptsAtStart.get(run.runId) ?? 0);
      const retry = retryable && triedHere <= o.retries;
      try {
        await failAttempt(database, run.runId, { error, retry }, owner);
      } catch (err) {
        dropLost(err);
        return { willRetry: false };
      }
      return { willRetry: retry };
    },
    async markInterrupted(run) {
      finalStored.delete(run.runId);
      if ((await markInterrupted(database, [run.runId], owner)) === 0) {
        process.stderr.write(`warning: run ${run.runId} was taken back by another orchestrator; it is not marked interrupted\n`);
      }
    },
    async outcome() {
      const counts = await runCounts(database, experimentId);
      if (counts.pending === 0 && counts.running === 0 && counts.interrupted === 0) await finishExperiment(database, experimentId);
      return {
        experiment: { id: experimentId, name: experiment.name, config: experiment.config },
        counts,
        runs: await listRuns(database, experimentId),
        failedAttempts: await experimentFailedAttempts(database, experimentId),
        summary: toSummaryRows(await experimentSummary(database, experimentId)),
      };
    },
    close: () => clearInterval(beat),
  };
}

/** The metric_summary view's long rows (one per metric) folded into one row per model and split. */
export function toSummaryRows(rows: { model: string; split: Split; metric: string; n: number; mean: number; stddev: number | null }[]): SummaryRow[] {
  const out: SummaryRow[] = [];
  const empty = () => Object.fromEntries(METRIC_NAMES.map((m) => [m, null])) as Record<MetricName, number | null>;
  for (const r of rows) {
    let row = out.find((x) => x.model === r.model && x.split === r.split);
    if (!row) {
      row = { model: r.model, split: r.split, n: r.n, mean: empty(), std: empty() };
      out.push(row);
    }
    row.mean[r.metric as MetricName] = r.mean;
    row.std[r.metric as MetricName] = r.stddev;
  }
  return out;
}
