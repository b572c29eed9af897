/**
 * Stores what a run reports while it works. Each event is one transaction and idempotent: rows are upserted on
 * their keys (run, epoch, split), (run, split), and curves and predictions are replaced as a whole, so replaying an
 * event (or the whole stream) leaves the same rows. `log` events are appended: a message has no identity to deduplicate on.
 * A `started` event sets the run's epoch rows to those its attempt starts from: none from scratch, the saved
 * history when it continues an earlier attempt (workers/train/resume-state.ts).
 * An event is stored only while `owner` (default: this process) holds the run; otherwise LostRunLeaseError is thrown
 * and nothing is written, so a stalled process never writes into a run a peer has taken back.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { EpochRecord, Metrics, Predictions, RunEvent, RunResult, Split, SplitEvaluation } from '../workers/protocol.ts';
import type { Database } from './client.ts';
import { assertOwner, PROCESS_OWNER } from './run-leases.ts';
import { curvePoints, epochMetrics, evaluations, predictions, runLogs, runs } from './schema.ts';
import type { DbOrTx } from './sql-helpers.ts';

/**
 * A whole list as ONE query parameter (drizzle spreads a bare array into one parameter per value). Curves and
 * predictions (3,297 rows for the real dataset) are inserted from arrays with unnest: building and binding
 * multi-row VALUES of up to 14,000 parameters made a final event hold the database (with PGlite, the page's
 * reads) about twice as long (docs/performance.md).
 */
const array = (values: readonly (string | number)[]) => sql.param(values);

export async function recordEvent(database: Database, runId: number, event: RunEvent, owner: string = PROCESS_OWNER): Promise<void> {
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
      case 'final':
        await recordResult(tx, runId, event.result);
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
}

/** The whole result: every epoch (in case an epoch event was lost), final evaluations, curves, predictions, run details. */
async function recordResult(tx: DbOrTx, runId: number, result: RunResult): Promise<void> {
  await upsertEpochs(tx, runId, result.history, (r) => r.epoch === result.bestEpoch);
  for (const evaluation of result.final) await upsertEvaluation(tx, runId, evaluation);
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
}

async function touchRun(tx: DbOrTx, runId: number, set: Partial<typeof runs.$inferInsert>): Promise<void> {
  const [row] = await tx
    .update(runs)
    .set({ ...set, lastEventAt: sql`now()` })
    .where(eq(runs.id, runId))
    .returning({ id: runs.id });
  if (!row) throw new Error(`no run ${runId}`);
}

function metricColumns(m: Metrics) {
  return { loss: m.loss, accuracy: m.accuracy, precision: m.precision, recall: m.recall, rocAuc: m.roc_auc, prAuc: m.pr_auc };
}

/** `on conflict do update set col = excluded.col` for these columns. */
function excluded<T extends PgTable>(table: T, columns: (keyof T['$inferInsert'] & string)[]) {
  const cols = table as unknown as Record<string, { name: string }>;
  return Object.fromEntries(columns.map((c) => [c, sql.raw(`excluded."${cols[c].name}"`)]));
}

const EPOCH_UPDATE = ['loss', 'accuracy', 'precision', 'recall', 'rocAuc', 'prAuc', 'seconds', 'learningRate'] as const;

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
      set: { ...excluded(epochMetrics, [...EPOCH_UPDATE]), improved: sql`${epochMetrics.improved} or excluded.improved` },
    });
}

async function upsertEvaluation(tx: DbOrTx, runId: number, e: SplitEvaluation): Promise<void> {
  const row = { runId, split: e.split, n: e.n, ...metricColumns(e.metrics), ...e.confusion };
  await tx
    .insert(evaluations)
    .values(row)
    .onConflictDoUpdate({
      target: [evaluations.runId, evaluations.split],
      set: excluded(evaluations, ['n', 'loss', 'accuracy', 'precision', 'recall', 'rocAuc', 'prAuc', 'tp', 'fp', 'tn', 'fn']),
    });
  for (const [kind, curve] of [['roc', e.roc], ['pr', e.pr]] as const) {
    if (curve.x.length !== curve.y.length || curve.x.length !== curve.thresholds.length) {
      throw new Error(`the ${e.split} ${kind} curve has arrays of different lengths (${curve.x.length}, ${curve.y.length}, ${curve.thresholds.length})`);
    }
    await tx.delete(curvePoints).where(and(eq(curvePoints.runId, runId), eq(curvePoints.split, e.split), eq(curvePoints.kind, kind)));
    if (curve.x.length === 0) continue;
    await tx.execute(sql`
      insert into ${curvePoints} (run_id, split, kind, idx, x, y, threshold)
      select ${runId}, ${e.split}, ${kind}, u.i - 1, u.x, u.y, u.t
      from unnest(${array(curve.x)}::double precision[], ${array(curve.y)}::double precision[], ${array(curve.thresholds)}::double precision[])
        with ordinality as u(x, y, t, i)`);
  }
  await replacePredictions(tx, runId, e.split, e.predictions);
}

async function replacePredictions(tx: DbOrTx, runId: number, split: Split, p: Predictions): Promise<void> {
  if (p.images.length !== p.labels.length || p.images.length !== p.probabilities.length) {
    throw new Error(`the ${split} predictions have arrays of different lengths (${p.images.length}, ${p.labels.length}, ${p.probabilities.length})`);
  }
  await tx.delete(predictions).where(and(eq(predictions.runId, runId), eq(predictions.split, split)));
  if (p.images.length === 0) return;
  await tx.execute(sql`
    insert into ${predictions} (run_id, split, image, label, probability)
    select ${runId}, ${split}, u.image, u.label, u.probability
    from unnest(${array(p.images)}::text[], ${array(p.labels)}::smallint[], ${array(p.probabilities)}::real[]) as u(image, label, probability)`);
}

/**
 * Stores the predictions of a COMPLETED run recorded without them (`melanoma predictions`), in one transaction;
 * throws, storing nothing, when the run is not completed.
 */
export async function storePredictions(database: Database, runId: number, bySplit: { split: Split; predictions: Predictions }[]): Promise<void> {
  await database.db.transaction(async (tx) => {
    const [run] = await tx.select({ status: runs.status }).from(runs).where(eq(runs.id, runId)).for('update');
    if (run?.status !== 'completed') throw new Error(`run ${runId} is ${run ? run.status : 'not in the database'}: only a completed run's predictions are stored afterwards`);
    for (const s of bySplit) await replacePredictions(tx, runId, s.split, s.predictions);
  });
}
