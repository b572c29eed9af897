/**
 * The run queue: planned runs are inserted `pending`, claimed one at a time (`running`), finished `completed`,
 * `failed` or `interrupted`. Claims lock with FOR UPDATE SKIP LOCKED, so several orchestrator processes sharing one
 * PostgreSQL server never run the same run; on PGlite the single connection serialises them. A claim makes the caller
 * the run's owner (db/run-leases.ts): finishing or interrupting it takes effect only while the caller still owns it.
 * `owner` defaults to this process's id (PROCESS_OWNER).
 */
import { hostname } from 'node:os';
import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { UserError } from '../common/errors.ts';
import { FINE_TUNES, MODEL_NAMES, type ModelName, type RunSpec } from '../study/run.ts';
import type { Database } from './client.ts';
import { evaluations, failedAttempts, type RunStatus, runs } from './schema.ts';
import { assertOwner, backToPending, PROCESS_OWNER } from './run-leases.ts';
import { onlyRow, positionIn } from './sql-helpers.ts';
import { writeToRuns } from './write-log.ts';

export type Run = typeof runs.$inferSelect;

export interface PlannedRun {
  model: ModelName;
  runIndex: number;
  seed: number;
  spec: RunSpec;
}

/** A claimed run; `initFrom` is the base run's checkpoint for `-ft` models (also written into `spec.initFrom`). */
export type ClaimedRun = Run & { initFrom: string | null };

/**
 * Inserts the planned runs that do not exist yet as `pending` (idempotent: existing runs, whatever their status,
 * are left alone). A `-ft` run is linked to the run of its base model with the same run index, which must be in the
 * plan or already in the experiment. Returns the plan's runs as stored, in plan order.
 */
export async function ensureRuns(database: Database, experimentId: number, plan: readonly PlannedRun[]): Promise<Run[]> {
  for (const p of plan) {
    if (!(MODEL_NAMES as readonly string[]).includes(p.model)) throw new UserError(`unknown model '${p.model}' in the run plan.`);
    if (!Number.isSafeInteger(p.runIndex) || p.runIndex < 0) throw new UserError(`bad run index ${p.runIndex} for ${p.model}.`);
  }
  return database.db.transaction(async (tx) => {
    const values = (items: readonly PlannedRun[], baseRunId: (p: PlannedRun) => number | null) =>
      items.map((p) => ({ experimentId, model: p.model, runIndex: p.runIndex, seed: p.seed, spec: p.spec, baseRunId: baseRunId(p) }));
    const key = (model: string, runIndex: number) => `${model}#${runIndex}`;
    const load = async () => new Map((await tx.select().from(runs).where(eq(runs.experimentId, experimentId))).map((r) => [key(r.model, r.runIndex), r]));

    const bases = plan.filter((p) => !FINE_TUNES[p.model]);
    const fineTunes = plan.filter((p) => FINE_TUNES[p.model]);
    if (bases.length > 0)
      await tx
        .insert(runs)
        .values(values(bases, () => null))
        .onConflictDoNothing();
    if (fineTunes.length > 0) {
      const stored = await load();
      const baseOf = (p: PlannedRun) => {
        const base = stored.get(key(FINE_TUNES[p.model]!, p.runIndex));
        if (!base) {
          throw new UserError(
            `${p.model} run ${p.runIndex} fine-tunes ${FINE_TUNES[p.model]} run ${p.runIndex}, which is neither planned nor in the experiment.`,
          );
        }
        return base.id;
      };
      await tx.insert(runs).values(values(fineTunes, baseOf)).onConflictDoNothing();
    }
    const stored = await load();
    return plan.map((p) => stored.get(key(p.model, p.runIndex))!);
  });
}

/**
 * Claims the next runnable pending run for `slot` and marks it running (attempts + 1). Order: base models before
 * `-ft` models, then by run index, then model order. A `-ft` run is runnable once its base run has completed.
 * `models` restricts the claim to these models. The run's owner becomes `owner` and its heartbeat starts now; `host`
 * (default: this machine's name) and `slurmJob` record where it runs. Returns null when nothing is runnable now.
 */
export async function claimNextRun(
  database: Database,
  experimentId: number,
  slot: string,
  opts: { models?: readonly ModelName[]; owner?: string; host?: string; slurmJob?: string | null } = {},
): Promise<ClaimedRun | null> {
  const base = alias(runs, 'base');
  return writeToRuns(database.writes, (mark) =>
    database.db.transaction(async (tx) => {
      const [next] = await tx
        .select({ id: runs.id, spec: runs.spec, baseCheckpoint: base.checkpointDir })
        .from(runs)
        .leftJoin(base, eq(base.id, runs.baseRunId))
        .where(
          and(
            eq(runs.experimentId, experimentId),
            eq(runs.status, 'pending'),
            or(isNull(runs.baseRunId), eq(base.status, 'completed')),
            opts.models ? inArray(runs.model, [...opts.models]) : undefined,
          ),
        )
        .orderBy(sql`${runs.baseRunId} is not null`, runs.runIndex, positionIn(MODEL_NAMES, runs.model))
        .limit(1)
        .for('update', { of: runs, skipLocked: true });
      if (!next) return null;
      mark(next.id);
      const initFrom = next.baseCheckpoint ?? null;
      const claimed = onlyRow(
        await tx
          .update(runs)
          .set({
            status: 'running',
            slot,
            host: opts.host ?? hostname(),
            slurmJob: opts.slurmJob ?? null,
            owner: opts.owner ?? PROCESS_OWNER,
            heartbeatAt: sql`now()`,
            attempts: sql`${runs.attempts} + 1`,
            startedAt: sql`now()`,
            lastEventAt: sql`now()`,
            finishedAt: null,
            durationSeconds: null,
            error: null,
            spec: initFrom !== null ? { ...next.spec, initFrom } : next.spec,
          })
          .where(eq(runs.id, next.id))
          .returning(),
        `claiming run ${next.id}`,
      );
      return { ...claimed, initFrom };
    }),
  );
}

/**
 * Ends a run. `completed` requires its final evaluation to be recorded (recordEvent 'final'). The duration is the
 * run's own measurement when it reported one, else the wall time since it was claimed. Throws LostRunLeaseError,
 * changing nothing, when `owner` no longer holds the run (a peer took it back after this owner's lease expired).
 */
export async function finishRun(
  database: Database,
  runId: number,
  outcome: { status: 'completed' | 'failed' | 'interrupted'; error?: string | null },
  owner: string = PROCESS_OWNER,
): Promise<Run> {
  return writeToRuns(database.writes, (mark) => {
    mark(runId);
    return database.db.transaction(async (tx) => {
      await assertOwner(tx, runId, owner);
      if (outcome.status === 'completed') {
        const row = onlyRow(
          await tx.select({ n: sql<number>`count(*)::integer` }).from(evaluations).where(eq(evaluations.runId, runId)),
          'counting evaluations',
        );
        if (row.n === 0) throw new Error(`run ${runId} cannot be completed: no final evaluation was recorded for it`);
      }
      const [run] = await tx
        .update(runs)
        .set({
          status: outcome.status,
          owner: null,
          error: outcome.error ?? null,
          finishedAt: sql`now()`,
          durationSeconds: sql`coalesce(${runs.durationSeconds}, extract(epoch from now() - ${runs.startedAt}))`,
        })
        .where(eq(runs.id, runId))
        .returning();
      if (!run) throw new Error(`no run ${runId}`);
      return run;
    });
  });
}

/**
 * Ends the current attempt of a run as failed: its error goes into failed_attempts (kept whatever happens to the run
 * later), then the run goes back to the queue (`retry`, partial results deleted, see backToPending) or is recorded
 * failed with this error. Throws LostRunLeaseError, changing nothing, when `owner` no longer holds the run.
 */
export async function failAttempt(database: Database, runId: number, outcome: { error: string; retry: boolean }, owner: string = PROCESS_OWNER): Promise<void> {
  await database.db.transaction(async (tx) => {
    await assertOwner(tx, runId, owner);
    const run = onlyRow(await tx.select({ attempt: runs.attempts, slot: runs.slot }).from(runs).where(eq(runs.id, runId)), `reading run ${runId}`);
    await tx
      .insert(failedAttempts)
      .values({ runId, attempt: run.attempt, slot: run.slot, error: outcome.error, retried: outcome.retry })
      .onConflictDoUpdate({
        target: [failedAttempts.runId, failedAttempts.attempt],
        set: { slot: run.slot, error: outcome.error, retried: outcome.retry, failedAt: sql`now()` },
      });
    if (outcome.retry) {
      await backToPending(tx, [runId], outcome.error);
      return;
    }
    await tx
      .update(runs)
      .set({
        status: 'failed',
        owner: null,
        error: outcome.error,
        finishedAt: sql`now()`,
        durationSeconds: sql`coalesce(${runs.durationSeconds}, extract(epoch from now() - ${runs.startedAt}))`,
      })
      .where(eq(runs.id, runId));
  });
}

/**
 * Marks these runs as interrupted, e.g. on Ctrl-C: those still running and held by `owner` (a run a peer took back
 * is left alone). Returns how many changed.
 */
export async function markInterrupted(database: Database, runIds: readonly number[], owner: string = PROCESS_OWNER): Promise<number> {
  if (runIds.length === 0) return 0;
  const changed = await database.db
    .update(runs)
    .set({
      status: 'interrupted',
      owner: null,
      finishedAt: sql`now()`,
      durationSeconds: sql`extract(epoch from now() - ${runs.startedAt})`,
    })
    .where(and(inArray(runs.id, [...runIds]), eq(runs.status, 'running'), eq(runs.owner, owner)))
    .returning({ id: runs.id });
  return changed.length;
}

/**
 * Puts the experiment's running and interrupted runs (and failed ones with `includeFailed`) back to pending, for a
 * restart (see backToPending: the next attempt continues from the run's last saved epoch where it can, and its start
 * sets the epoch rows to match). Only safe while no other process is working on this experiment. Returns the reset runs.
 */
export async function resetUnfinishedRuns(database: Database, experimentId: number, opts: { includeFailed?: boolean } = {}): Promise<Run[]> {
  const statuses: RunStatus[] = opts.includeFailed ? ['running', 'interrupted', 'failed'] : ['running', 'interrupted'];
  return database.db.transaction(async (tx) => {
    const stale = await tx
      .select({ id: runs.id })
      .from(runs)
      .where(and(eq(runs.experimentId, experimentId), inArray(runs.status, statuses)))
      .for('update');
    const ids = stale.map((r) => r.id);
    if (ids.length === 0) return [];
    await backToPending(tx, ids, null);
    return tx.select().from(runs).where(inArray(runs.id, ids));
  });
}

export interface RunCounts {
  pending: number;
  running: number;
  completed: number;
  failed: number;
  interrupted: number;
  /** Pending `-ft` runs whose base run failed or was interrupted: they cannot run in this session. */
  blocked: number;
}

export async function runCounts(database: Database, experimentId: number): Promise<RunCounts> {
  const base = alias(runs, 'base');
  const rows = await database.db
    .select({
      status: runs.status,
      blocked: sql<boolean>`coalesce(${base.status} in ('failed', 'interrupted'), false)`,
      n: sql<number>`count(*)::integer`,
    })
    .from(runs)
    .leftJoin(base, eq(base.id, runs.baseRunId))
    .where(eq(runs.experimentId, experimentId))
    .groupBy(runs.status, sql`2`);
  const counts: RunCounts = { pending: 0, running: 0, completed: 0, failed: 0, interrupted: 0, blocked: 0 };
  for (const r of rows) {
    counts[r.status] += r.n;
    if (r.status === 'pending' && r.blocked) counts.blocked += r.n;
  }
  return counts;
}

/**
 * True while some run is running or pending and able to run eventually (a `-ft` run whose base failed is not:
 * waiting for it would never end).
 */
export async function hasUnfinishedRuns(database: Database, experimentId: number): Promise<boolean> {
  const c = await runCounts(database, experimentId);
  return c.running > 0 || c.pending - c.blocked > 0;
}
