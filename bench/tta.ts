/**
 * Does test-time augmentation change the ensemble's ROC AUC on the test split? Every test image through the
 * completed runs of each model of an experiment, as `melanoma predict --tta N` puts it (workers/predict), for each N:
 * the ensemble's ROC AUC, the runs' mean ± std, and DeLong's test of the ensemble against itself without TTA (the
 * same images, paired). With one view, the ensemble is checked against the mean of the probabilities stored.
 *
 *   npx tsx bench/tta.ts --experiment NAME [--db DIR|URL] [--data DIR] [--models baseline,augmented] [--tta 1,2,4,8]
 *
 * Prints a Markdown table (docs/tta.md holds what it measured).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findExperiment, openDatabase, predictionSetup, runPredictions, type PredictionSetup } from '../db/index.ts';
import { predictionBackend } from '../study/prediction.ts';
import { delongTest, mean, rocAucPlacements, sampleStd } from '../study/statistics.ts';
import type { ModelName } from '../study/run.ts';
import { initBackend } from '../workers/backend/index.ts';
import { predictImages } from '../workers/predict/predict.ts';

const { values: opts } = parseArgs({
  options: {
    experiment: { type: 'string' },
    db: { type: 'string' },
    data: { type: 'string' },
    models: { type: 'string' },
    tta: { type: 'string', default: '1,2,4,8' },
  },
});
if (!opts.experiment) throw new Error('--experiment NAME is required');
const counts = opts.tta.split(',').map(Number);
if (counts[0] !== 1) throw new Error('--tta starts with 1: the others are compared with it');

const database = await openDatabase(opts.db, { create: false });
const experiment = await findExperiment(database, opts.experiment);
if (!experiment) throw new Error(`no experiment named '${opts.experiment}'`);
const models = (opts.models?.split(',') ?? [
  ...new Set(
    (
      await database.query<{ model: ModelName }>("select model from runs where experiment_id = $1 and status = 'completed' order by model", [experiment.id])
    ).map((r) => r.model),
  ),
]) as ModelName[];
const setups: PredictionSetup[] = [];
const stored = new Map<number, Map<string, number>>();
for (const model of models) {
  const setup = await predictionSetup(database, { experiment: experiment.id, model });
  setups.push(setup);
  for (const run of setup.runs) stored.set(run.runId, new Map((await runPredictions(database, run.runId, 'test')).map((p) => [p.image, p.probability])));
}
const firstRun = setups[0]?.runs[0]?.runId;
if (firstRun === undefined) throw new Error(`experiment '${experiment.name}' has no completed run`);
const tests = (await runPredictions(database, firstRun, 'test')).map((p) => ({ image: p.image, label: p.label }));
await database.close();
const dataDir = opts.data ?? experiment.datasetDir!;
const images = tests.map((t) => ({ name: t.image, source: join(dataDir, t.image) }));
const labels = tests.map((t) => t.label);
const auc = (scores: number[]) => rocAucPlacements(labels, scores).auc;

const rows: string[] = [];
for (const setup of setups) {
  const backend = await initBackend(predictionBackend(setup.runs));
  let plain: number[] | null = null;
  for (const n of counts) {
    const started = performance.now();
    const probabilities = await predictImages(setup.runs, images, { tta: n, augment: setup.augment });
    const seconds = (performance.now() - started) / 1000;
    const ensemble = probabilities.map((ps) => mean(ps));
    const runAucs = setup.runs.map((_, r) => auc(probabilities.map((ps) => ps[r]!)));
    let versus = '(reference)';
    if (n === 1) {
      plain = ensemble;
      const off = Math.max(...setup.runs.flatMap((run, r) => tests.map((t, i) => Math.abs(probabilities[i]![r]! - stored.get(run.runId)!.get(t.image)!))));
      versus = `(reference; stored probabilities within ${off.toExponential(1)})`;
    } else {
      const d = delongTest(labels, ensemble, plain!);
      versus = `${d.diff >= 0 ? '+' : ''}${d.diff.toFixed(4)} [${d.ci[0].toFixed(4)}, ${d.ci[1].toFixed(4)}], p = ${d.p.toFixed(3)}`;
    }
    rows.push(
      `| ${setup.model} | ${setup.runs.length} | ${n} | ${auc(ensemble).toFixed(4)} | ${mean(runAucs).toFixed(4)} ± ${sampleStd(runAucs).toFixed(4)} (${runAucs.map((a) => a.toFixed(4)).join(', ')}) | ${versus} | ${seconds.toFixed(0)} s on ${backend.name} |`,
    );
    process.stderr.write(`${rows.at(-1)}\n`);
  }
}
process.stdout.write(
  `${[
    `Experiment '${experiment.name}', test split (${labels.length} images: ${labels.filter((l) => l === 1).length} malignant).`,
    '',
    "| model | runs | views | ensemble ROC AUC | runs' ROC AUC: mean ± std (each) | ensemble vs 1 view: difference [95% CI], DeLong p | time |",
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n')}\n`,
);
