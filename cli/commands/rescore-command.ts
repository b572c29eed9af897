/**
 * `melanoma rescore`: the metrics a completed run's final evaluation lacks, from its stored predictions. The
 * predictions are the best checkpoint's outputs that the evaluation was computed from, so the same metric code gives
 * what the run would have stored; a split whose predictions do not give its stored confusion matrix is left alone.
 */
import { UserError } from '../../common/errors.ts';
import { addEvaluationMetrics, completedRunScores, findExperiment, openDatabase, runEvaluations, runsWithoutPredictions } from '../../db/index.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';
import { METRIC_NAMES, SPLITS } from '../../study/run.ts';

export async function rescoreCommand(f: { experiment: string; db?: string }): Promise<void> {
  const database = await openDatabase(f.db, { create: false });
  try {
    const experiment = await findExperiment(database, f.experiment);
    if (!experiment) throw new UserError(`no experiment named '${f.experiment}' in ${database.target}.`);
    let added = 0;
    let refused = 0;
    for (const run of await completedRunScores(database, experiment.id, SPLITS)) {
      const label = `run ${run.runId} (${run.model} #${run.runIndex})`;
      const stored = await runEvaluations(database, run.runId);
      for (const split of SPLITS) {
        const scores = run.splits[split];
        const evaluation = stored.find((e) => e.split === split);
        const missing = METRIC_NAMES.filter((m) => evaluation?.metrics[m] === null);
        if (!scores || !evaluation || missing.length === 0) continue;
        const scored = evaluateBinary(scores.labels, scores.probabilities);
        const [a, b] = [scored.confusion, evaluation.confusion];
        if (a.tp !== b.tp || a.fp !== b.fp || a.tn !== b.tn || a.fn !== b.fn) {
          refused++;
          process.stderr.write(`${label}: ${split} left alone, its stored predictions do not give its stored confusion matrix\n`);
          continue;
        }
        const metrics = await addEvaluationMetrics(database, run.runId, split, Object.fromEntries(missing.map((m) => [m, scored.metrics[m]])));
        added += metrics.length;
        process.stderr.write(`${label}: ${split} ${metrics.map((m) => `${m} ${scored.metrics[m].toFixed(4)}`).join(', ')}\n`);
      }
    }
    const unscored = (await runsWithoutPredictions(database, experiment.id)).length;
    const more = unscored > 0 ? `; ${unscored} completed runs have no stored predictions (melanoma predictions stores them)` : '';
    process.stderr.write(`'${experiment.name}': ${added} metric values added${more}.\n`);
    if (refused > 0) throw new UserError(`${refused} splits were left alone: their predictions do not give their stored evaluation.`);
  } finally {
    await database.close();
  }
}
