/**
 * Ownership and liveness of running runs, for several orchestrators (processes) sharing one PostgreSQL server. A
 * claim writes the claiming process's owner id into `runs.owner`; while the run is `running` only that owner may
 * record its events and outcome. The owner beats `runs.heartbeat_at` every few seconds; a running run whose
 * heartbeat is older than the lease belongs to a process that died or stalled (kill -9, a lost machine, a long
 * pause) and may be taken back by a peer. The stalled process, should it wake up, finds the run no longer its own
 * (LostRunLeaseError) and its outcome is dropped. Also the per-run requeue used for retries. Resetting a run deletes
 * its partial results but keeps its epoch rows: the next attempt may continue from its last saved epoch.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from './client.ts';
import { curvePoints, evaluations, predictions, runCalibrations, runs } from './schema.ts';
import type { DbOrTx } from './sql-helpers.ts';
import { writeToRuns } from './write-log.ts';

/** A fresh owner id, `host:pid:random`: unique per orchestrator (several may share a host, or even a process). */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** The owner id used by the run API when the caller names none: this process. */
export const PROCESS_OWNER = newOwnerId();

/** The caller no longer holds the run: a peer took it back (or it was reset) after the caller's lease expired. */
export class LostRunLeaseError extends Error {
  override name = 'LostRunLeaseError';
  constructor(
    readonly runId: number,
    readonly owner: string,
    readonly holder: string | null,
    readonly status: string,
  ) {
    super(
      `run ${runId} is no longer held by ${owner} (it is ${status}${holder ? `, held by ${holder}` : ''}): ` +
        `its lease expired and another orchestrator took it back; this process's outcome for it is dropped`,
    );
  }
}

/**
 * Locks the run's row for the rest of the transaction and checks that `owner` still holds it (running, owned by
 * it). Throws LostRunLeaseError otherwise, so nothing the transaction wrote is kept.
 */
export async function assertOwner(tx: DbOrTx, runId: number, owner: string): Promise<void> {
  const [row] = await tx.select({ status: runs.status, owner: runs.owner }).from(runs).where(eq(runs.id, runId)).for('update');
  if (!row) throw new Error(`no run ${runId}`);
  if (row.status !== 'running' || row.owner !== owner) throw new LostRunLeaseError(runId, owner, row.owner, row.status);
}

/** Marks the running runs that `owner` holds as alive now. Returns their ids (a run missing here was taken back). */
export async function heartbeat(database: Database, owner: string = PROCESS_OWNER): Promise<number[]> {
  return writeToRuns(database.writes, async (mark) => {
    const rows = await database.db
      .update(runs)
      .set({ heartbeatAt: sql`now()` })
      .where(and(eq(runs.owner, owner), eq(runs.status, 'running')))
      .returning({ id: runs.id });
    const ids = rows.map((r) => r.id);
    ids.forEach(mark);
    return ids;
  });
}

/**
 * Puts runs back to pending: their evaluations, curves, predictions and calibrations are deleted and every field a start set is
 * cleared, owner included. Their epoch rows stay until the next attempt starts: it continues from its last saved
 * epoch where the run's resume state is on that machine, else from scratch, and its `started` event keeps the rows
 * up to that epoch and deletes the rest (db/events.ts). `error` keeps (or clears, with null) the last error.
 */
export async function backToPending(tx: DbOrTx, ids: number[], error: string | null): Promise<void> {
  await tx.delete(evaluations).where(inArray(evaluations.runId, ids));
  await tx.delete(curvePoints).where(inArray(curvePoints.runId, ids));
  await tx.delete(predictions).where(inArray(predictions.runId, ids));
  await tx.delete(runCalibrations).where(inArray(runCalibrations.runId, ids));
  await tx
    .update(runs)
    .set({
      status: 'pending',
      slot: null,
      host: null,
      slurmJob: null,
      owner: null,
      heartbeatAt: null,
      error,
      startedAt: null,
      finishedAt: null,
      lastEventAt: null,
      durationSeconds: null,
      bestEpoch: null,
      stoppedEarly: null,
      checkpointDir: null,
    })
    .where(inArray(runs.id, ids));
}

/**
 * Puts a run that failed back in the queue (pending, owner cleared, partial results deleted: see backToPending), keeping its attempt
 * count and its last error. Does nothing, and returns false, unless `owner` still holds the run.
 */
export async function requeueRun(database: Database, runId: number, error: string, owner: string = PROCESS_OWNER): Promise<boolean> {
  return database.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: runs.id })
      .from(runs)
      .where(and(eq(runs.id, runId), eq(runs.status, 'running'), eq(runs.owner, owner)))
      .for('update');
    if (!row) return false;
    await backToPending(tx, [runId], error);
    return true;
  });
}

/**
 * Puts back to pending the experiment's runs that no live process holds: `interrupted` ones, `running` ones whose
 * heartbeat is older than `staleAfterSeconds` (or missing), and `failed` ones with `includeFailed`. Their owner is
 * cleared. A run whose owner beat within the lease is left alone. Returns the reset runs' ids.
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
            and(eq(runs.status, 'running'), or(isNull(runs.heartbeatAt), lt(runs.heartbeatAt, sql`now() - make_interval(secs => ${opts.staleAfterSeconds})`))),
            opts.includeFailed ? eq(runs.status, 'failed') : undefined,
          ),
        ),
      )
      .for('update', { skipLocked: true });
    const ids = stale.map((r) => r.id);
    if (ids.length === 0) return [];
    await backToPending(tx, ids, null);
    return ids;
  });
}
