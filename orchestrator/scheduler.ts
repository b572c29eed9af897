/**
 * Drives the slots: each slot claims the next runnable run from the database, executes it on its runner, writes its
 * events in order (one promise chain per run) and then its outcome. The main thread is the only writer.
 */
import { isUserError } from '../common/errors.ts';
import type { PhaseProgress } from '../study/live.ts';
import type { EpochRecord, RunEvent, RunResult, RunSpec } from '../study/run.ts';
import type { Progress, RunLabel } from './progress.ts';
import type { SlotRunner } from './slot-runner.ts';
import type { ClaimedRun, RunStore } from './store.ts';

export interface SchedulerOptions {
  store: RunStore;
  runners: SlotRunner[];
  specFor(claim: ClaimedRun, runner: SlotRunner): RunSpec;
  progress: Progress;
  /** Aborting stops claiming and kills the runs in flight; they are recorded `interrupted`. */
  signal: AbortSignal;
  /** How often an idle slot looks again while runs it cannot claim yet are unfinished (default 1000 ms). */
  pollMs?: number;
  /** Sees every run start, progress inside its epochs, finish epochs and end (the live page, the estimate). */
  observer?: RunObserver;
}

export interface RunObserver {
  runStarted(run: ClaimedRun): void;
  progress(run: ClaimedRun, progress: PhaseProgress): void;
  epoch(run: ClaimedRun, record: EpochRecord): void;
  /** `final`: completed, or failed with no retry left; otherwise the run goes back to the queue (or was interrupted). */
  runEnded(run: ClaimedRun, final: boolean): void;
}

export interface SchedulerReport {
  completed: number;
  /** Attempts that failed (retried or not). */
  failedAttempts: number;
  interrupted: number;
}

export async function runScheduler(opts: SchedulerOptions): Promise<SchedulerReport> {
  const report: SchedulerReport = { completed: 0, failedAttempts: 0, interrupted: 0 };
  const pollMs = opts.pollMs ?? 1000;
  const wake = new Wakeup();
  await Promise.all(opts.runners.map((runner) => slotLoop(runner)));
  return report;

  async function slotLoop(runner: SlotRunner): Promise<void> {
    while (!opts.signal.aborted) {
      const claim = await opts.store.claimNextRun(runner.slot.name);
      if (!claim) {
        if (!(await opts.store.hasUnfinishedRuns())) return;
        // A `-ft` run waits for its base, or another slot or process is still working: look again later.
        await wake.wait(pollMs, opts.signal);
        continue;
      }
      await execute(runner, claim);
      wake.notify();
    }
  }

  async function execute(runner: SlotRunner, claim: ClaimedRun): Promise<void> {
    const spec = opts.specFor(claim, runner);
    const label: RunLabel = {
      model: claim.model,
      runIndex: claim.runIndex,
      seed: claim.seed,
      attempt: claim.attempt,
      epochs: spec.epochs,
      batchSize: spec.batchSize,
    };
    const slot = runner.slot.name;
    opts.progress.runStarted(slot, label);
    opts.observer?.runStarted(claim);
    let writes: Promise<void> = Promise.resolve();
    const onEvent = (event: RunEvent) => {
      if (event.type === 'progress') {
        // Shown, never stored: a few a second per run.
        const { type: _, ...progress } = event;
        opts.progress.phase(slot, label, progress);
        opts.observer?.progress(claim, progress);
        return;
      }
      if (event.type === 'epoch') {
        opts.progress.epoch(slot, label, event.record, event.best);
        opts.observer?.epoch(claim, event.record);
      }
      if (event.type === 'log') opts.progress.log(`[${slot}] ${claim.model} run ${claim.runIndex}: ${event.message}`);
      writes = writes.then(() => opts.store.recordEvent(claim, event));
      writes.catch(() => {}); // awaited (and reported) once the run has settled; later events are not written
    };
    let result: RunResult | null = null;
    let error: unknown = null;
    try {
      result = await runner.run(spec, onEvent, opts.signal);
    } catch (err) {
      error = err;
    }
    try {
      await writes;
    } catch (err) {
      // A write failed (e.g. the database went away): the run cannot count as completed.
      result = null;
      error ??= err;
    }
    if (result) {
      try {
        await opts.store.completeRun(claim, result);
      } catch (err) {
        result = null;
        error = err;
      }
    }
    if (result) {
      report.completed++;
      opts.observer?.runEnded(claim, true);
      const test = result.final.find((e) => e.split === 'test');
      opts.progress.runEnded(slot, label, { status: 'completed', seconds: result.seconds, testRocAuc: test?.metrics.roc_auc ?? null });
    } else if (opts.signal.aborted) {
      await opts.store.markInterrupted(claim);
      report.interrupted++;
      opts.observer?.runEnded(claim, false);
      opts.progress.runEnded(slot, label, { status: 'interrupted' });
    } else {
      const message = errorMessage(error);
      // Bad data or a bad setting fails every attempt the same way: only other failures are tried again.
      const { willRetry } = await opts.store.failRun(claim, message, { retryable: !isUserError(error) });
      report.failedAttempts++;
      opts.observer?.runEnded(claim, !willRetry);
      opts.progress.runEnded(slot, label, { status: 'failed', error: message, willRetry });
    }
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Lets idle slots sleep until a run finishes somewhere in this process, a timeout, or an abort. */
class Wakeup {
  #waiters = new Set<() => void>();

  wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
