/**
 * What a results page reads: summaries per model, runs, one run's epochs, evaluations, curves, predictions and logs,
 * and the images the runs of a model get wrong.
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { METRIC_NAMES, MODEL_NAMES, SPLITS, type ConfusionMatrix, type MetricName, type ModelName, type Split } from '../study/run.ts';
import type { Database } from './client.ts';
import {
  type CurveKind,
  curvePoints,
  epochMetrics,
  evaluations,
  experiments,
  failedAttempts,
  imageSummary,
  metricSummary,
  metricSummaryWide,
  predictions,
  runLogs,
  runOverview,
  runs,
} from './schema.ts';
import { positionIn } from './sql-helpers.ts';

export type MetricSummaryRow = typeof metricSummary.$inferSelect;
export type MetricSummaryWideRow = typeof metricSummaryWide.$inferSelect;
export type RunOverviewRow = typeof runOverview.$inferSelect;
export type RunLogRow = typeof runLogs.$inferSelect;
export type FailedAttemptRow = typeof failedAttempts.$inferSelect;
export type ImageSummaryRow = typeof imageSummary.$inferSelect;
export type RunDetail = typeof runs.$inferSelect & { experiment: string };

/**
 * A split's metrics as stored: a number for every metric the run has (NaN where it was undefined, e.g. the ROC AUC
 * of a split with one class), null for a metric it lacks (one added to study/metrics/ after it was recorded).
 */
export type StoredMetrics = Record<MetricName, number | null>;

export interface StoredEpoch {
  runId: number;
  epoch: number;
  seconds: number;
  learningRate: number;
  /** Val ROC AUC improved: the checkpoint was saved at this epoch. */
  improved: boolean;
  train: StoredMetrics | null;
  val: StoredMetrics | null;
}

export interface StoredEvaluation {
  split: Split;
  n: number;
  confusion: ConfusionMatrix;
  metrics: StoredMetrics;
}

/** Every metric, none stored yet. */
export const noMetrics = (): StoredMetrics => Object.fromEntries(METRIC_NAMES.map((m) => [m, null])) as StoredMetrics;

/** A run_overview row's test metrics (its `test_<metric>` columns), or null when the run has no test evaluation. */
export function overviewTestMetrics(row: RunOverviewRow): StoredMetrics | null {
  const metrics = Object.fromEntries(METRIC_NAMES.map((m) => [m, row[`test_${m}`]])) as StoredMetrics;
  return METRIC_NAMES.some((m) => metrics[m] !== null) ? metrics : null;
}

export interface StoredCurve {
  split: Split;
  kind: CurveKind;
  x: number[];
  y: number[];
  thresholds: number[];
}

/** Rows of the metric_summary view (completed runs only), ordered by model, split and metric. */
export async function experimentSummary(database: Database, experimentId: number): Promise<MetricSummaryRow[]> {
  return database.db
    .select()
    .from(metricSummary)
    .where(eq(metricSummary.experimentId, experimentId))
    .orderBy(positionIn(MODEL_NAMES, metricSummary.model), positionIn(SPLITS, metricSummary.split), positionIn(METRIC_NAMES, metricSummary.metric));
}

/** Rows of the metric_summary_wide view: one per model and split, <metric>Mean and <metric>Std. */
export async function experimentSummaryWide(database: Database, experimentId: number): Promise<MetricSummaryWideRow[]> {
  return database.db
    .select()
    .from(metricSummaryWide)
    .where(eq(metricSummaryWide.experimentId, experimentId))
    .orderBy(positionIn(MODEL_NAMES, metricSummaryWide.model), positionIn(SPLITS, metricSummaryWide.split));
}

/** Rows of the run_overview view for one experiment, by model and run index. */
export async function listRuns(database: Database, experimentId: number): Promise<RunOverviewRow[]> {
  return database.db
    .select()
    .from(runOverview)
    .where(eq(runOverview.experimentId, experimentId))
    .orderBy(positionIn(MODEL_NAMES, runOverview.model), asc(runOverview.runIndex));
}

export async function runExists(database: Database, runId: number): Promise<boolean> {
  const [row] = await database.db.select({ id: runs.id }).from(runs).where(eq(runs.id, runId));
  return row !== undefined;
}

/** The experiment's first model in the study's order, or null without runs. */
export async function firstModel(database: Database, experimentId: number): Promise<ModelName | null> {
  const [row] = await database.db
    .select({ model: runs.model })
    .from(runs)
    .where(eq(runs.experimentId, experimentId))
    .orderBy(positionIn(MODEL_NAMES, runs.model), asc(runs.model))
    .limit(1);
  return row?.model ?? null;
}

/** Where each run of an experiment runs or ran, by run id: its GPU (RunSpec.gpu, null for CPU), machine and Slurm job. */
export async function runPlacements(
  database: Database,
  experimentId: number,
): Promise<Map<number, { gpu: number | null; host: string | null; slurmJob: string | null }>> {
  const rows = await database.db
    .select({ id: runs.id, gpu: sql<number | null>`(${runs.spec}->>'gpu')::integer`, host: runs.host, slurmJob: runs.slurmJob })
    .from(runs)
    .where(eq(runs.experimentId, experimentId));
  return new Map(rows.map(({ id, ...placement }) => [id, placement]));
}

/** The dataset fingerprint of the run's experiment; undefined when there is no such run. */
export async function runDatasetFingerprint(database: Database, runId: number): Promise<string | null | undefined> {
  const [row] = await database.db
    .select({ fingerprint: experiments.datasetFingerprint })
    .from(runs)
    .innerJoin(experiments, eq(experiments.id, runs.experimentId))
    .where(eq(runs.id, runId));
  return row ? row.fingerprint : undefined;
}

export async function getRun(database: Database, runId: number): Promise<RunDetail | null> {
  const [row] = await database.db
    .select({ run: runs, experiment: experiments.name })
    .from(runs)
    .innerJoin(experiments, eq(experiments.id, runs.experimentId))
    .where(eq(runs.id, runId));
  return row ? { ...row.run, experiment: row.experiment } : null;
}

/** The metric columns of a stored row. */
export const metricsOf = (row: Record<MetricName, number | null>): StoredMetrics => Object.fromEntries(METRIC_NAMES.map((m) => [m, row[m]])) as StoredMetrics;

/** A run's epochs in order, each with its train and val metrics. */
export async function runEpochs(database: Database, runId: number): Promise<StoredEpoch[]> {
  return runsEpochs(database, [runId]);
}

/** The epochs of several runs in one query, by run then epoch. */
export async function runsEpochs(database: Database, runIds: readonly number[]): Promise<StoredEpoch[]> {
  if (runIds.length === 0) return [];
  const rows = await database.db
    .select()
    .from(epochMetrics)
    .where(inArray(epochMetrics.runId, [...runIds]))
    .orderBy(asc(epochMetrics.runId), asc(epochMetrics.epoch), positionIn(SPLITS, epochMetrics.split));
  const out: StoredEpoch[] = [];
  for (const r of rows) {
    let e = out.at(-1);
    if (!e || e.runId !== r.runId || e.epoch !== r.epoch) {
      e = { runId: r.runId, epoch: r.epoch, seconds: r.seconds, learningRate: r.learningRate, improved: false, train: null, val: null };
      out.push(e);
    }
    e[r.split] = metricsOf(r);
    if (r.split === 'val') e.improved = r.improved;
  }
  return out;
}

/** Final evaluations, train, val, test. */
export async function runEvaluations(database: Database, runId: number): Promise<StoredEvaluation[]> {
  const rows = await database.db.select().from(evaluations).where(eq(evaluations.runId, runId)).orderBy(positionIn(SPLITS, evaluations.split));
  return rows.map((r) => ({ split: r.split, n: r.n, confusion: { tp: r.tp, fp: r.fp, tn: r.tn, fn: r.fn }, metrics: metricsOf(r) }));
}

/** ROC and PR curves per split, as parallel arrays like the protocol's Curve. */
export async function runCurves(database: Database, runId: number): Promise<StoredCurve[]> {
  const points = await database.db
    .select()
    .from(curvePoints)
    .where(eq(curvePoints.runId, runId))
    .orderBy(positionIn(SPLITS, curvePoints.split), asc(curvePoints.kind), asc(curvePoints.idx));
  const curves: StoredCurve[] = [];
  for (const p of points) {
    let c = curves.at(-1);
    if (!c || c.split !== p.split || c.kind !== p.kind) {
      c = { split: p.split, kind: p.kind, x: [], y: [], thresholds: [] };
      curves.push(c);
    }
    c.x.push(p.x);
    c.y.push(p.y);
    c.thresholds.push(p.threshold);
  }
  return curves;
}

/** Every image's predicted probability in one split, by image path (empty for runs stored before predictions were). */
export async function runPredictions(database: Database, runId: number, split: Split): Promise<{ image: string; label: 0 | 1; probability: number }[]> {
  const rows = await database.db
    .select({ image: predictions.image, label: predictions.label, probability: predictions.probability })
    .from(predictions)
    .where(and(eq(predictions.runId, runId), eq(predictions.split, split)))
    .orderBy(asc(predictions.image));
  // PostgreSQL prints a real as the shortest decimal that identifies it ('0.7'); fround gives back the float32 stored.
  return rows.map((r) => ({ ...r, probability: Math.fround(r.probability) }));
}

/** One run's predictions per split: labels (1 = malignant) and probabilities, in the same order (by image path). */
export interface RunScores {
  runId: number;
  model: ModelName;
  runIndex: number;
  splits: Partial<Record<Split, { labels: (0 | 1)[]; probabilities: number[] }>>;
}

/**
 * The predictions of the given splits for every completed run of an experiment that has them, by model (the
 * study's order) and run index: what thresholds and operating points are computed from.
 */
export async function completedRunScores(database: Database, experimentId: number, splits: readonly Split[]): Promise<RunScores[]> {
  const rows = await database.db
    .select({
      runId: runs.id,
      model: runs.model,
      runIndex: runs.runIndex,
      split: predictions.split,
      label: predictions.label,
      probability: predictions.probability,
    })
    .from(predictions)
    .innerJoin(runs, eq(runs.id, predictions.runId))
    .where(and(eq(runs.experimentId, experimentId), eq(runs.status, 'completed'), inArray(predictions.split, [...splits])))
    .orderBy(positionIn(MODEL_NAMES, runs.model), asc(runs.runIndex), asc(predictions.split), asc(predictions.image));
  const out: RunScores[] = [];
  for (const r of rows) {
    let run = out.at(-1);
    if (!run || run.runId !== r.runId) {
      run = { runId: r.runId, model: r.model, runIndex: r.runIndex, splits: {} };
      out.push(run);
    }
    run.splits[r.split] ??= { labels: [], probabilities: [] };
    const split = run.splits[r.split]!;
    split.labels.push(r.label);
    // As in runPredictions: the float32 the model computed.
    split.probabilities.push(Math.fround(r.probability));
  }
  return out;
}

/** The completed runs of an experiment that have no predictions stored (recorded before predictions were kept). */
export async function runsWithoutPredictions(database: Database, experimentId: number): Promise<(typeof runs.$inferSelect)[]> {
  return database.db
    .select()
    .from(runs)
    .where(
      and(
        eq(runs.experimentId, experimentId),
        eq(runs.status, 'completed'),
        sql`not exists (select 1 from ${predictions} where ${predictions.runId} = ${runs.id})`,
      ),
    )
    .orderBy(asc(runs.id));
}

/** How many completed runs of a model have predictions stored for the split. */
export async function runsWithPredictions(database: Database, experimentId: number, model: ModelName, split: Split): Promise<number> {
  const [row] = await database.db
    .select({ n: sql<number>`count(distinct ${predictions.runId})::integer` })
    .from(predictions)
    .innerJoin(runs, eq(runs.id, predictions.runId))
    .where(and(eq(runs.experimentId, experimentId), eq(runs.model, model), eq(predictions.split, split), eq(runs.status, 'completed')));
  return row?.n ?? 0;
}

/**
 * The images of one split that the completed runs of a model classify wrongly most often (image_summary): most
 * runs wrong first, then furthest from their label on average.
 */
export async function hardestImages(database: Database, experimentId: number, model: string, split: Split, limit: number): Promise<ImageSummaryRow[]> {
  return database.db
    .select()
    .from(imageSummary)
    .where(
      and(
        eq(imageSummary.experimentId, experimentId),
        eq(imageSummary.model, model as ImageSummaryRow['model']),
        eq(imageSummary.split, split),
        sql`${imageSummary.wrong} > 0`,
      ),
    )
    .orderBy(desc(imageSummary.wrong), desc(sql`abs(${imageSummary.meanProbability} - ${imageSummary.label})`), asc(imageSummary.image))
    .limit(limit);
}

export async function runLogMessages(database: Database, runId: number): Promise<RunLogRow[]> {
  return database.db.select().from(runLogs).where(eq(runLogs.runId, runId)).orderBy(asc(runLogs.id));
}

/** The failed attempts of one run, oldest first. */
export async function runFailedAttempts(database: Database, runId: number): Promise<FailedAttemptRow[]> {
  return database.db.select().from(failedAttempts).where(eq(failedAttempts.runId, runId)).orderBy(asc(failedAttempts.attempt));
}

/** The failed attempts of every run of an experiment, by run then attempt. */
export async function experimentFailedAttempts(database: Database, experimentId: number): Promise<(FailedAttemptRow & { model: string; runIndex: number })[]> {
  const rows = await database.db
    .select({ attempt: failedAttempts, model: runs.model, runIndex: runs.runIndex })
    .from(failedAttempts)
    .innerJoin(runs, eq(runs.id, failedAttempts.runId))
    .where(eq(runs.experimentId, experimentId))
    .orderBy(asc(runs.runIndex), positionIn(MODEL_NAMES, runs.model), asc(failedAttempts.attempt));
  return rows.map((r) => ({ ...r.attempt, model: r.model, runIndex: r.runIndex }));
}
