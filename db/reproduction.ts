/**
 * The reads behind the reproduction report (study/reproduction.ts): where each of an experiment's runs stands, its
 * completed runs with their evaluations and every image's stored probability, and per model the test images every run gets wrong
 * (image_summary). SELECTs only.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { type AlwaysWrong, EVERY_MODEL, type ReproductionInput, type RunProgress, type SplitPredictions, type StoredRun } from '../study/reproduction.ts';
import type { ReportSplit } from '../study/report-metrics.ts';
import { METRIC_NAMES, MODEL_NAMES, SPLITS } from '../study/run.ts';
import type { Database } from './client.ts';
import { evaluations, experiments, imageSummary, predictions, runOverview, runs } from './schema.ts';
import { positionIn } from './sql-helpers.ts';

/** The protocol's name recorded in the experiment's config (`config.protocol.name`), or null. */
export function protocolName(config: Record<string, unknown>): string | null {
  const p = config.protocol;
  if (p && typeof p === 'object' && typeof (p as { name?: unknown }).name === 'string') return (p as { name: string }).name;
  return null;
}

/** Everything the report is built from, or null for an unknown experiment. */
export async function reproductionInput(database: Database, experimentId: number): Promise<ReproductionInput | null> {
  const [experiment] = await database.db.select().from(experiments).where(eq(experiments.id, experimentId));
  if (!experiment) return null;
  const progress: RunProgress[] = await database.db
    .select({
      runId: runOverview.runId,
      model: runOverview.model,
      runIndex: runOverview.runIndex,
      seed: runOverview.seed,
      status: runOverview.status,
      epochs: runOverview.epochs,
      bestEpoch: runOverview.bestEpoch,
      stoppedEarly: runOverview.stoppedEarly,
      valRocAuc: runOverview.valRocAuc,
      testRocAuc: runOverview.test_roc_auc,
    })
    .from(runOverview)
    .where(eq(runOverview.experimentId, experimentId))
    .orderBy(positionIn(MODEL_NAMES, runOverview.model), asc(runOverview.runIndex));
  const completed = progress.filter((r) => r.status === 'completed');
  const evals = await database.db
    .select({ e: evaluations })
    .from(evaluations)
    .innerJoin(runs, eq(runs.id, evaluations.runId))
    .where(and(eq(runs.experimentId, experimentId), eq(runs.status, 'completed')));
  const preds = await database.db
    .select({ runId: predictions.runId, split: predictions.split, image: predictions.image, label: predictions.label, probability: predictions.probability })
    .from(predictions)
    .innerJoin(runs, eq(runs.id, predictions.runId))
    .where(and(eq(runs.experimentId, experimentId), eq(runs.status, 'completed')))
    .orderBy(asc(predictions.runId), positionIn(SPLITS, predictions.split), asc(predictions.image));

  const byRun = new Map<number, StoredRun>(
    completed.map((r) => [r.runId, { runId: r.runId, model: r.model, runIndex: r.runIndex, epochs: r.epochs, evaluations: {}, predictions: {} }]),
  );
  for (const { e } of evals) {
    const run = byRun.get(e.runId);
    if (!run) continue;
    // A metric the run lacks (null: added after it was recorded) is left out.
    const metrics = Object.fromEntries(METRIC_NAMES.flatMap((m) => (e[m] === null ? [] : [[m, e[m]]])));
    run.evaluations[e.split as ReportSplit] = { metrics, confusion: { tp: e.tp, fp: e.fp, tn: e.tn, fn: e.fn } };
  }
  for (const p of preds) {
    const run = byRun.get(p.runId);
    if (!run) continue;
    const split = p.split as ReportSplit;
    run.predictions[split] ??= { images: [], labels: [], probabilities: [] };
    const s: SplitPredictions = run.predictions[split];
    s.images.push(p.image);
    s.labels.push(p.label);
    // PostgreSQL prints a real as the shortest decimal that identifies it; fround gives back the float32 stored.
    s.probabilities.push(Math.fround(p.probability));
  }
  return {
    experiment: { id: experiment.id, name: experiment.name, protocol: protocolName(experiment.config) },
    runs: [...byRun.values()],
    progress,
    alwaysWrong: await alwaysWrong(database, experimentId),
  };
}

/**
 * Per model: the test images that every completed run with test predictions classifies wrongly at 0.5; then, with
 * two models or more, the images that every such run of every model gets wrong (model EVERY_MODEL).
 */
export async function alwaysWrong(database: Database, experimentId: number): Promise<AlwaysWrong[]> {
  const counted = await database.db
    .select({ model: runs.model, runs: sql<number>`count(distinct ${predictions.runId})::integer` })
    .from(predictions)
    .innerJoin(runs, eq(runs.id, predictions.runId))
    .where(and(eq(runs.experimentId, experimentId), eq(runs.status, 'completed'), eq(predictions.split, 'test')))
    .groupBy(runs.model)
    .orderBy(positionIn(MODEL_NAMES, runs.model));
  const wrong = await database.db
    .select({
      model: imageSummary.model,
      n: imageSummary.n,
      images: sql<number>`count(*)::integer`,
      malignant: sql<number>`(count(*) filter (where ${imageSummary.label} = 1))::integer`,
    })
    .from(imageSummary)
    .where(and(eq(imageSummary.experimentId, experimentId), eq(imageSummary.split, 'test'), sql`${imageSummary.wrong} = ${imageSummary.n}`))
    .groupBy(imageSummary.model, imageSummary.n);
  const rows: AlwaysWrong[] = counted.map((c) => {
    // An image some run lacks (n below the model's runs) is not one that every run gets wrong.
    const w = wrong.find((x) => x.model === c.model && x.n === c.runs);
    const images = w?.images ?? 0;
    const malignant = w?.malignant ?? 0;
    return { model: c.model, runs: c.runs, images, malignant, benign: images - malignant };
  });
  if (counted.length < 2) return rows;
  const total = counted.reduce((sum, c) => sum + c.runs, 0);
  const everyRun = database.db
    .select({ image: imageSummary.image, label: imageSummary.label })
    .from(imageSummary)
    .where(and(eq(imageSummary.experimentId, experimentId), eq(imageSummary.split, 'test')))
    .groupBy(imageSummary.image, imageSummary.label)
    .having(sql`sum(${imageSummary.wrong}) = ${total} and sum(${imageSummary.n}) = ${total}`)
    .as('every_run');
  const [every] = await database.db
    .select({ images: sql<number>`count(*)::integer`, malignant: sql<number>`(count(*) filter (where ${everyRun.label} = 1))::integer` })
    .from(everyRun);
  const images = every?.images ?? 0;
  const malignant = every?.malignant ?? 0;
  return [...rows, { model: EVERY_MODEL, runs: total, images, malignant, benign: images - malignant }];
}
