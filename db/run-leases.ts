/**
 * Liveness of running runs, for several orchestrators (processes) sharing one PostgreSQL server: the process that
 * holds a run touches its `last_event_at` every few seconds (a heartbeat); a `running` run whose heartbeat is older
 * than a threshold belongs to a process that died (kill -9, a lost machine) and may be taken back. Also the
 * per-run requeue used for retries. Resetting a run deletes its partial rows: it trains again from scratch.
 */
import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Database } from './client.ts';
import { curvePoints, epochMetrics, evaluations, runs } from './schema.ts';
import type { DbOrTx } from './sql-helpers.ts';

/** Marks these runs (those still running) as alive now. */
export async function heartbeat(database: Database, runIds: readonly number[]): Promise<void> {
  if (runIds.length === 0) return;
  await database.db
    .update(runs)
    .set({ lastEventAt: sql`now()` })
    .where(and(inArray(runs.id, [...runIds]), eq(runs.status, 'running')));
}

const PENDING_AGAIN = {
  status: 'pending',
  slot: null,
  startedAt: null,
  finishedAt: null,
  lastEventAt: null,
  durationSeconds: null,
  bestEpoch: null,
  stoppedEarly: null,
  checkpointDir: null,
} as const;

async function deletePartialRows(tx: DbOrTx, ids: number[]): Promise<void> {
  await tx.delete(epochMetrics).where(inArray(epochMetrics.runId, ids));
  await tx.delete(evaluations).where(inArray(evaluations.runId, ids));
  await tx.delete(curvePoints).where(inArray(curvePoints.runId, ids));
}

/**
 * Puts a run that failed back in the queue (pending, partial rows deleted), keeping its attempt count and its last
 * error. Does nothing unless the run is still `running` (another process may have taken it back meanwhile).
 */
export async function requeueRun(database: Database, runId: number, error: string): Promise<boolean> {
  return database.db.transaction(async (tx) => {
    const [row] = await tx.select({ id: runs.id }).from(runs).where(and(eq(runs.id, runId), eq(runs.status, 'running'))).for('update');
    if (!row) return false;
    await deletePartialRows(tx, [runId]);
    await tx.update(runs).set({ ...PENDING_AGAIN, error }).where(eq(runs.id, runId));
    return true;
  });
}

/**
 * Puts back to pending the experiment's runs that no live process holds: `interrupted` ones, `running` ones whose
 * heartbeat is older than `staleAfterSeconds`, and `failed` ones with `includeFailed`. Returns the reset runs' ids.
 */
export async function resetStaleRuns(
  database: Database,
  experimentId: number,
  opts: { staleAfterSeconds: number; includeFailed?: boolean },
): Promise<number[]> {
  return database.db.transaction(async (tx) => {
    const stale = await tx
      .select({ id: runs.id })
      .from(runs)
      .where(
        and(
          eq(runs.experimentId, experimentId),
          or(
            eq(runs.status, 'interrupted'),
            and(eq(runs.status, 'running'), lt(runs.lastEventAt, sql`now() - make_interval(secs => ${opts.staleAfterSeconds})`)),
            opts.includeFailed ? eq(runs.status, 'failed') : undefined,
          ),
        ),
      )
      .for('update', { skipLocked: true });
    const ids = stale.map((r) => r.id);
    if (ids.length === 0) return [];
    await deletePartialRows(tx, ids);
    await tx.update(runs).set({ ...PENDING_AGAIN, error: null }).where(inArray(runs.id, ids));
    return ids;
  });
}
