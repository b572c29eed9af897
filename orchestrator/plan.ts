/**
 * The study's protocol as a list of runs: every model x run index. A run is (experiment, model, run index).
 *
 * Seed rule: run index i (0-based) of every model gets seed = experimentSeed + i. The models of one index share
 * their seed (a paired comparison: same data order and augmentation stream), a `-ft` run shares it with the base
 * run it starts from, and `melanoma run --model M --seed <that seed>` reproduces any single run.
 */
import { UsageError } from '../common/errors.ts';
import { FINE_TUNES, MODEL_NAMES, type ModelName } from '../study/models.ts';

export interface PlannedRun {
  model: ModelName;
  runIndex: number;
  seed: number;
  /** For a `-ft` model: the model whose run of the same index it starts from. */
  baseModel: ModelName | null;
}

export function runSeed(experimentSeed: number, runIndex: number): number {
  return experimentSeed + runIndex;
}

/** Rejects a `-ft` model whose base model is not planned too (it would wait forever). */
export function checkModels(models: readonly ModelName[]): ModelName[] {
  const unique = [...new Set(models)];
  for (const model of unique) {
    const base = FINE_TUNES[model];
    if (base && !unique.includes(base)) {
      throw new UsageError(`--models: '${model}' starts from the best checkpoint of '${base}', so '${base}' must be in --models too.`);
    }
  }
  return unique;
}

/**
 * Runs in claim order: by run index, then by model in the order of MODEL_NAMES (bases before their `-ft`), so run 0
 * of every model finishes early and a `-ft` run's base is always claimed before it. `runs`: the same count for
 * every model, or each model's (a protocol's: the seed protocol fine-tunes once).
 */
export function planRuns(models: readonly ModelName[], runs: number | ((model: ModelName) => number), experimentSeed: number): PlannedRun[] {
  const ordered = MODEL_NAMES.filter((m) => checkModels(models).includes(m));
  const runsOf = typeof runs === 'number' ? () => runs : runs;
  const most = Math.max(0, ...ordered.map(runsOf));
  const plan: PlannedRun[] = [];
  for (let runIndex = 0; runIndex < most; runIndex++) {
    for (const model of ordered) {
      if (runIndex >= runsOf(model)) continue;
      plan.push({ model, runIndex, seed: runSeed(experimentSeed, runIndex), baseModel: FINE_TUNES[model] ?? null });
    }
  }
  return plan;
}
