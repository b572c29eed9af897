/**
 * Counts the writes that this process commits to its PGlite database, so that a reader in the same process (the
 * results page of `orchestrate --serve`) can tell whether an answer it read earlier still holds (web/read-cache.ts).
 * PGlite admits one process, so these are all its writes; a PostgreSQL server has other writers, and no log.
 *
 * Every statement or transaction that may write counts once it has finished (committed or not): client.ts counts
 * them as they pass to PGlite. By default a write may have changed anything: it moves the `global` count. Code that
 * knows the write changes nothing but the rows of some runs (their `runs` row and their epochs, evaluations, curves,
 * predictions and logs) runs it in `forRuns` and names those runs with `mark`: it moves only those runs' counts
 * (and none when it marks none). `any` moves with every write.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Scope {
  runs: Set<number>;
  wrote: boolean;
}

export class WriteLog {
  #any = 0;
  #global = 0;
  readonly #runs = new Map<number, number>();
  readonly #scope = new AsyncLocalStorage<Scope>();

  /** Called by the database after each statement or transaction that may have written. */
  wrote(): void {
    const scope = this.#scope.getStore();
    if (scope) scope.wrote = true;
    else this.#bump(null);
  }

  /**
   * Runs `fn`, whose writes change nothing but the rows of the runs it names with `mark`. The counts move when `fn`
   * has settled, after its last commit.
   */
  async forRuns<T>(fn: (mark: (runId: number) => void) => Promise<T>): Promise<T> {
    const scope: Scope = { runs: new Set(), wrote: false };
    try {
      return await this.#scope.run(scope, () => fn((runId) => scope.runs.add(runId)));
    } finally {
      if (scope.wrote && scope.runs.size > 0) this.#bump(scope.runs);
    }
  }

  #bump(runs: ReadonlySet<number> | null): void {
    this.#any++;
    if (!runs) this.#global++;
    else for (const id of runs) this.#runs.set(id, (this.#runs.get(id) ?? 0) + 1);
  }

  /**
   * A stamp that changes whenever what it covers may have changed: with `runId`, writes that may touch that run's
   * rows (any unscoped write, and the run's own); without, every write.
   */
  stamp(runId?: number): string {
    return runId === undefined ? `*${this.#any}` : `${this.#global}:${runId}:${this.#runs.get(runId) ?? 0}`;
  }
}

/** Runs `fn` as a write to the runs it marks (see WriteLog.forRuns); without a log, plainly. */
export function writeToRuns<T>(log: WriteLog | null, fn: (mark: (runId: number) => void) => Promise<T>): Promise<T> {
  return log ? log.forRuns(fn) : fn(() => {});
}
