/**
 * Stores what a run reports while it works. Each event is idempotent: rows are upserted on their keys (run, epoch,
 * split), (run, split), and curves and predictions are replaced as a whole, so replaying an event (or the whole
 * stream) leaves the same rows. `log` events are appended: a message has no identity to deduplicate on.
 * A `started` event sets the run's epoch rows to those its attempt starts from: none from scratch, the saved
 * history when it continues an earlier attempt (workers/train/resume-state.ts).
 * An event is stored only while `owner` (default: this process) holds the run; otherwise LostRunLeaseError is thrown
 * and nothing more is written, so a stalled process never writes into a run a peer has taken back.
 *
 * Every event is one transaction except `final`: its curves and predictions (about 10,000 rows for the real dataset)
 * are written first, at most CHUNK_ROWS rows per transaction, and then one small transaction writes the epochs, the
 * evaluations, the calibration computed from the stored predictions (db/calibration.ts) and the run's details. One transaction holding PGlite for all of them made every read of the results
 * page wait up to a second and more (docs/performance.md). A run counts as evaluated (finishRun) only once its
 * evaluations are written, after all its rows; a process that stops in between leaves the run running with some of
 * those rows, and resetting the run (db/run-leases.ts) deletes them as it deletes every partial result.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import {
  METRIC_NAMES,
  type Curve,
  type EpochRecord,
  type MetricName,
  type Metrics,
  type Predictions,
  type RunEvent,
  type RunResult,
  type Split,
  type SplitEvaluation,
} from '../study/run.ts';
import { writeRunCalibration } from './calibration.ts';
import type { Database } from './client.ts';
import { assertOwner, PROCESS_OWNER } from './run-leases.ts';
import { curvePoints, epochMetrics, evaluations, predictions, runLogs, runs } from './schema.ts';
import type { DbOrTx } from './sql-helpers.ts';
import { writeToRuns } from './write-log.ts';

/**
 * A whole list as ONE query parameter (drizzle spreads a bare array into one parameter per value). Curves and
 * predictions (3,297 rows for the real dataset) are inserted from arrays with unnest: building and binding
 * multi-row VALUES of up to 14,000 parameters made a final event hold the database (with PGlite, the page's
 * reads) about twice as long (docs/performance.md).
 */
const array = (values: readonly (string | number)[]) => sql.param(values);

/** The most curve points or predictions one transaction of a final event writes. */
export const CHUNK_ROWS = 1000;

export async function recordEvent(database: Database, runId: number, event: RunEvent, owner: string = PROCESS_OWNER): Promise<void> {
  if (event.type === 'progress') return; // progress inside an epoch is shown live, never stored
  await writeToRuns(database.writes, async (mark) => {
    mark(runId);
    if (event.type === 'final') return recordResult(database, runId, event.result, owner);
    await database.db.transaction(async (tx) => {
      await assertOwner(tx, runId, owner);
      switch (event.type) {
        case 'started': {
          // The epochs of this attempt's starting point are the truth: rows an earlier attempt stored past them go.
          const from = event.resumedFrom ?? null;
          await tx.delete(epochMetrics).where(and(eq(epochMetrics.runId, runId), gt(epochMetrics.epoch, from?.epoch ?? 0)));
          if (from) await upsertEpochs(tx, runId, from.history, (r) => from.improved.includes(r.epoch));
          await touchRun(tx, runId, {
            backend: event.backend,
            backendDetail: event.backendDetail,
            paramsTotal: event.params.total,
            paramsTrainable: event.params.trainable,
            bestEpoch: from && from.improved.length > 0 ? from.improved[from.improved.length - 1] : null,
          });
          return;
        }
        case 'epoch':
          await upsertEpochs(tx, runId, [event.record], () => event.best);
          await touchRun(tx, runId, event.best ? { bestEpoch: event.record.epoch } : {});
          return;
        case 'checkpoint':
          await touchRun(tx, runId, { checkpointDir: event.dir, bestEpoch: event.epoch });
          return;
        case 'log':
          await tx.insert(runLogs).values({
            runId,
            attempt: sql`(select ${runs.attempts} from ${runs} where ${runs.id} = ${runId})`,
            message: event.message,
          });
          await touchRun(tx, runId, {});
          return;
        default:
          throw new Error(`unknown run event ${JSON.stringify(event satisfies never)}`);
      }
    });
  });
}

/**
 * The whole result: curves and predictions in chunks, then in one transaction every epoch (in case an epoch event
 * was lost), the final evaluations and the run's details.
 */
async function recordResult(database: Database, runId: number, result: RunResult, owner: string): Promise<void> {
  for (const e of result.final) checkLengths(e);
  const write = (fn: (tx: DbOrTx) => Promise<void>) =>
    database.db.transaction(async (tx) => {
      await assertOwner(tx, runId, owner);
      await fn(tx);
    });
  for (const e of result.final) {
    for (const [kind, curve] of [
      ['roc', e.roc],
      ['pr', e.pr],
    ] as const) {
      await replaceInChunks(write, curve.x.length, {
        clear: (tx) => tx.delete(curvePoints).where(and(eq(curvePoints.runId, runId), eq(curvePoints.split, e.split), eq(curvePoints.kind, kind))),
        insert: (tx, from, to) => insertCurvePoints(tx, runId, e.split, kind, curve, from, to),
      });
    }
    await replaceInChunks(write, e.predictions.images.length, {
      clear: (tx) => tx.delete(predictions).where(and(eq(predictions.runId, runId), eq(predictions.split, e.split))),
      insert: (tx, from, to) => insertPredictions(tx, runId, e.split, e.predictions, from, to),
    });
  }
  await write(async (tx) => {
    await upsertEpochs(tx, runId, result.history, (r) => r.epoch === result.bestEpoch);
    for (const evaluation of result.final) await upsertEvaluation(tx, runId, evaluation);
    await writeRunCalibration(tx, runId);
    await touchRun(tx, runId, {
      spec: result.spec,
      backend: result.backend,
      backendDetail: result.backendDetail,
      paramsTotal: result.params.total,
      paramsTrainable: result.params.trainable,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      checkpointDir: result.checkpointDir,
      durationSeconds: result.seconds,
    });
  });
}

/** Deletes the old rows and inserts `n` new ones, CHUNK_ROWS per transaction (the first one also deletes). */
async function replaceInChunks(
  write: (fn: (tx: DbOrTx) => Promise<void>) => Promise<void>,
  n: number,
  o: { clear(tx: DbOrTx): Promise<unknown>; insert(tx: DbOrTx, from: number, to: number): Promise<unknown> },
): Promise<void> {
  for (let from = 0; from === 0 || from < n; from += CHUNK_ROWS) {
    await write(async (tx) => {
      if (from === 0) await o.clear(tx);
      if (n > 0) await o.insert(tx, from, Math.min(n, from + CHUNK_ROWS));
    });
  }
}

function checkLengths(e: SplitEvaluation): void {
  for (const [kind, curve] of [
    ['roc', e.roc],
    ['pr', e.pr],
  ] as const) {
    if (curve.x.length !== curve.y.length || curve.x.length !== curve.thresholds.length) {
      throw new Error(`the ${e.split} ${kind} curve has arrays of different lengths (${curve.x.length}, ${curve.y.length}, ${curve.thresholds.length})`);
    }
  }
  checkPredictionLengths(e.split, e.predictions);
}

function checkPredictionLengths(split: Split, p: Predictions): void {
  if (p.images.length !== p.labels.length || p.images.length !== p.probabilities.length) {
    throw new Error(`the ${split} predictions have arrays of different lengths (${p.images.length}, ${p.labels.length}, ${p.probabilities.length})`);
  }
}

async function touchRun(tx: DbOrTx, runId: number, set: Partial<typeof runs.$inferInsert>): Promise<void> {
  const [row] = await tx
    .update(runs)
    .set({ ...set, lastEventAt: sql`now()` })
    .where(eq(runs.id, runId))
    .returning({ id: runs.id });
  if (!row) throw new Error(`no run ${runId}`);
}

/** A split's metrics as the values of their columns (named as the metrics). */
const metricColumns = (m: Metrics) => Object.fromEntries(METRIC_NAMES.map((k) => [k, m[k]])) as Metrics;

/** `on conflict do update set col = excluded.col` for these columns. */
function excluded<T extends PgTable>(table: T, columns: readonly (keyof T['$inferInsert'] & string)[]) {
  const cols = table as unknown as Record<string, { name: string }>;
  return Object.fromEntries(columns.map((c) => [c, sql.raw(`excluded."${cols[c]!.name}"`)]));
}

/** Upserts train and val rows; `improved` is set on insert, and only ever turned on by a replay. */
async function upsertEpochs(tx: DbOrTx, runId: number, records: EpochRecord[], improved: (r: EpochRecord) => boolean): Promise<void> {
  if (records.length === 0) return;
  const rows = records.flatMap((r) =>
    (['train', 'val'] as const).map((split) => ({
      runId,
      epoch: r.epoch,
      split,
      ...metricColumns(r[split]),
      seconds: r.seconds,
      learningRate: r.learningRate,
      improved: improved(r),
    })),
  );
  await tx
    .insert(epochMetrics)
    .values(rows)
    .onConflictDoUpdate({
      target: [epochMetrics.runId, epochMetrics.epoch, epochMetrics.split],
      set: { ...excluded(epochMetrics, [...METRIC_NAMES, 'seconds', 'learningRate']), improved: sql`${epochMetrics.improved} or excluded.improved` },
    });
}

async function upsertEvaluation(tx: DbOrTx, runId: number, e: SplitEvaluation): Promise<void> {
  const row = { runId, split: e.split, n: e.n, ...metricColumns(e.metrics), ...e.confusion };
  await tx
    .insert(evaluations)
    .values(row)
    .onConflictDoUpdate({
      target: [evaluations.runId, evaluations.split],
      set: excluded(evaluations, ['n', ...METRIC_NAMES, 'tp', 'fp', 'tn', 'fn']),
    });
}

/** Points [from, to) of a curve, at their own index. */
async function insertCurvePoints(tx: DbOrTx, runId: number, split: Split, kind: 'roc' | 'pr', curve: Curve, from: number, to: number): Promise<void> {
  await tx.execute(sql`
    insert into ${curvePoints} (run_id, split, kind, idx, x, y, threshold)
    select ${runId}, ${split}, ${kind}, ${from} + u.i - 1, u.x, u.y, u.t
    from unnest(${array(curve.x.slice(from, to))}::double precision[], ${array(curve.y.slice(from, to))}::double precision[],
                ${array(curve.thresholds.slice(from, to))}::double precision[])
      with ordinality as u(x, y, t, i)`);
}

/** Predictions [from, to) of a split. */
async function insertPredictions(tx: DbOrTx, runId: number, split: Split, p: Predictions, from: number, to: number): Promise<void> {
  await tx.execute(sql`
    insert into ${predictions} (run_id, split, image, label, probability)
    select ${runId}, ${split}, u.image, u.label, u.probability
    from unnest(${array(p.images.slice(from, to))}::text[], ${array(p.labels.slice(from, to))}::smallint[],
                ${array(p.probabilities.slice(from, to))}::real[]) as u(image, label, probability)`);
}

/**
 * Stores the predictions of a COMPLETED run recorded without them (`melanoma predictions`), in one transaction;
 * throws, storing nothing, when the run is not completed.
 */
export async function storePredictions(database: Database, runId: number, bySplit: { split: Split; predictions: Predictions }[]): Promise<void> {
  await writeToRuns(database.writes, async (mark) => {
    mark(runId);
    await database.db.transaction(async (tx) => {
      const [run] = await tx.select({ status: runs.status }).from(runs).where(eq(runs.id, runId)).for('update');
      if (run?.status !== 'completed')
        throw new Error(`run ${runId} is ${run ? run.status : 'not in the database'}: only a completed run's predictions are stored afterwards`);
      for (const s of bySplit) {
        checkPredictionLengths(s.split, s.predictions);
        await tx.delete(predictions).where(and(eq(predictions.runId, runId), eq(predictions.split, s.split)));
        if (s.predictions.images.length > 0) await insertPredictions(tx, runId, s.split, s.predictions, 0, s.predictions.images.length);
      }
      await writeRunCalibration(tx, runId);
    });
  });
}

/**
 * Sets, in a completed run's final evaluation of `split`, the metrics it lacks (null: metrics added to study/metrics/
 * after the run was recorded) to the values the caller computed from the run's stored predictions; a metric the run
 * has keeps its stored value. Returns the metrics set.
 */
export async function addEvaluationMetrics(database: Database, runId: number, split: Split, metrics: Partial<Metrics>): Promise<MetricName[]> {
  return writeToRuns(database.writes, async (mark) => {
    mark(runId);
    return database.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(evaluations)
        .where(and(eq(evaluations.runId, runId), eq(evaluations.split, split)))
        .for('update');
      if (!row) throw new Error(`run ${runId} has no ${split} evaluation`);
      const missing = METRIC_NAMES.filter((m) => row[m] === null && metrics[m] !== undefined);
      if (missing.length === 0) return [];
      await tx
        .update(evaluations)
        .set(Object.fromEntries(missing.map((m) => [m, metrics[m]])))
        .where(and(eq(evaluations.runId, runId), eq(evaluations.split, split)));
      return missing;
    });
  });
}
