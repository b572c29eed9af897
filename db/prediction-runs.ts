/**
 * Which runs predict a new image (`melanoma predict`, the page's upload form, saliency): the completed runs of one
 * model of an experiment, each with its best checkpoint on this machine, and the thresholds of their calls
 * (study/prediction.ts) from their stored val predictions. Reads only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, desc, eq } from 'drizzle-orm';
import { UserError } from '../common/errors.ts';
import type { AugmentationParams } from '../study/protocol.ts';
import { callRules, ttaAugmentation, type CallRule, type PredictingRun } from '../study/prediction.ts';
import { specSettings } from '../study/spec-settings.ts';
import { MODEL_NAMES, type ModelName, type RunSpec } from '../study/run.ts';
import type { Database } from './client.ts';
import { completedRunScores } from './results.ts';
import { experiments, metricSummary, runs } from './schema.ts';
import { positionIn } from './sql-helpers.ts';

export interface PredictionSetup {
  experiment: { id: number; name: string };
  model: ModelName;
  /** Why this model: named by the caller, or the experiment's best by mean val ROC AUC. */
  chosenBy: string;
  /** In run-index order. */
  runs: (PredictingRun & { spec: RunSpec; backend: string | null })[];
  rules: CallRule[];
  /** What test-time views draw from (the protocol of the runs' first). */
  augment: AugmentationParams;
}

/** `experiment`: its name or id. Throws a UserError naming what is missing. */
export async function predictionSetup(database: Database, o: { experiment: string | number; model?: ModelName }): Promise<PredictionSetup> {
  const [experiment] = await database.db
    .select({ id: experiments.id, name: experiments.name })
    .from(experiments)
    .where(typeof o.experiment === 'number' ? eq(experiments.id, o.experiment) : eq(experiments.name, o.experiment));
  if (!experiment) {
    throw new UserError(
      typeof o.experiment === 'number'
        ? `no experiment ${o.experiment} in ${database.target}.`
        : `no experiment named '${o.experiment}' in ${database.target}.`,
    );
  }
  const completed = await database.db
    .select()
    .from(runs)
    .where(and(eq(runs.experimentId, experiment.id), eq(runs.status, 'completed')))
    .orderBy(positionIn(MODEL_NAMES, runs.model), asc(runs.runIndex));
  const models = [...new Set(completed.map((r) => r.model))];
  if (models.length === 0) throw new UserError(`experiment '${experiment.name}' has no completed run yet: nothing to predict with.`);

  let model: ModelName;
  let chosenBy: string;
  if (o.model !== undefined) {
    if (!models.includes(o.model)) {
      throw new UserError(
        `experiment '${experiment.name}' has no completed run of ${o.model} (it has: ${models.map((m) => `${m} x ${completed.filter((r) => r.model === m).length}`).join(', ')}).`,
      );
    }
    model = o.model;
    chosenBy = 'named';
  } else {
    const [best] = await database.db
      .select({ model: metricSummary.model, mean: metricSummary.mean })
      .from(metricSummary)
      .where(and(eq(metricSummary.experimentId, experiment.id), eq(metricSummary.split, 'val'), eq(metricSummary.metric, 'roc_auc')))
      .orderBy(desc(metricSummary.mean), positionIn(MODEL_NAMES, metricSummary.model))
      .limit(1);
    model = best?.model ?? models[0]!; // models is not empty
    chosenBy = best ? `the best mean val ROC AUC (${best.mean.toFixed(4)})` : 'the only model with completed runs';
  }

  const chosen = completed.filter((r) => r.model === model).map((r) => withCheckpoint(r, `run ${r.id} (${r.model} #${r.runIndex})`));
  const scores = await completedRunScores(database, experiment.id, ['val']);
  const val = chosen.map((r) => {
    const s = scores.find((x) => x.runId === r.runId)?.splits.val;
    return s ? { labels: s.labels, probabilities: s.probabilities } : null;
  });
  return { experiment, model, chosenBy, runs: chosen, rules: callRules(val), augment: ttaAugmentation(chosen[0]!.spec) }; // a model with completed runs
}

/** One completed run with its checkpoint, for a saliency map. */
export async function predictingRun(database: Database, runId: number): Promise<SetupRun & { experiment: string; datasetFingerprint: string | null }> {
  const [row] = await database.db
    .select({ run: runs, experiment: experiments.name, datasetFingerprint: experiments.datasetFingerprint })
    .from(runs)
    .innerJoin(experiments, eq(experiments.id, runs.experimentId))
    .where(eq(runs.id, runId));
  if (!row) throw new UserError(`no run ${runId} in ${database.target}.`);
  const r = row.run;
  const label = `run ${r.id} (${r.model} #${r.runIndex} of '${row.experiment}')`;
  if (r.status !== 'completed') throw new UserError(`${label} is ${r.status}, not completed: it has no final best checkpoint.`);
  return { ...withCheckpoint(r, label), experiment: row.experiment, datasetFingerprint: row.datasetFingerprint };
}

type SetupRun = PredictionSetup['runs'][number];

/** A completed run as it predicts; its checkpoint must be on this machine. */
function withCheckpoint(r: typeof runs.$inferSelect, label: string): SetupRun {
  if (!r.checkpointDir || !existsSync(join(r.checkpointDir, 'model.json'))) {
    throw new UserError(
      `${label}: its best checkpoint ${r.checkpointDir ?? '(none recorded)'} is not on this machine (checkpoints stay where the run trained).`,
    );
  }
  return {
    runId: r.id,
    runIndex: r.runIndex,
    model: r.model,
    seed: r.seed,
    imageSize: r.spec.imageSize,
    inputScaling: specSettings(r.spec).inputScaling,
    checkpointDir: r.checkpointDir,
    spec: r.spec,
    backend: r.backend,
  };
}
