/**
 * `melanoma predictions`: stores every image's predicted probability for the completed runs of an experiment that
 * were recorded before predictions were kept. Each run's best checkpoint goes over train, val and test again, on
 * the experiment's dataset and the run's own backend; its predictions are stored only when the evaluation they give
 * is the one stored for the run (the same confusion matrices and metrics, the loss to float32 rounding), so nothing
 * stored can disagree with the run's recorded numbers.
 */
import { UserError } from '../../common/errors.ts';
import { findExperiment, openDatabase, runEvaluations, runsWithoutPredictions, storePredictions } from '../../db/index.ts';
import { initBackend } from '../../workers/backend/index.ts';
import { indexDataset, resolveDataDir, type DatasetIndex } from '../../study/data/dataset.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';
import { buildModel, loadWeightsByName } from '../../workers/models/index.ts';
import { BACKEND_NAMES, METRIC_NAMES, SPLITS, type BackendName, type Predictions, type RunSpec, type Split } from '../../study/run.ts';
import { predictAll, predictionsOf } from '../../workers/train/fit.ts';
import { imageSource } from '../../workers/train/inputs.ts';
import { imageCacheFor } from '../../workers/train/run.ts';
import { specSettings } from '../../study/spec-settings.ts';

export interface PredictionsFlags {
  experiment: string;
  db?: string;
  data?: string;
}

/**
 * The loss may differ by float32 rounding: a checkpoint run again by later code (another kernel's summation order)
 * moves probabilities in their last bits, and the mean log loss by about 1e-7. The confusion matrices, accuracy,
 * precision, recall and both AUCs, which follow from the decisions and the ranking, must be the stored ones.
 */
const LOSS_TOLERANCE = 1e-6;

export async function predictionsCommand(f: PredictionsFlags): Promise<void> {
  const database = await openDatabase(f.db, { create: false });
  try {
    const experiment = await findExperiment(database, f.experiment);
    if (!experiment) throw new UserError(`no experiment named '${f.experiment}' in ${database.target}.`);
    const todo = await runsWithoutPredictions(database, experiment.id);
    if (todo.length === 0) {
      process.stderr.write(`every completed run of '${experiment.name}' has its predictions stored.\n`);
      return;
    }
    const dataDir = resolveDataDir(f.data ?? experiment.datasetDir);
    // Runs recorded before protocols lack a validation rule: theirs is the legacy protocol's.
    const rule = (spec: RunSpec) => specSettings(spec).validation;
    const indexes = new Map<string, Promise<DatasetIndex>>();
    const indexFor = (spec: RunSpec) => {
      const key = JSON.stringify(rule(spec));
      if (!indexes.has(key)) indexes.set(key, indexDataset(dataDir, { validation: rule(spec) }));
      return indexes.get(key)!;
    };
    const data = await indexFor(todo[0]!.spec as RunSpec); // todo is not empty (returned above)
    if (data.fingerprint !== experiment.datasetFingerprint) {
      throw new UserError(
        `${dataDir} is not the dataset of '${experiment.name}' (fingerprint ${data.fingerprint.slice(0, 16)}, the experiment's ` +
          `${experiment.datasetFingerprint?.slice(0, 16)}): pass --data with the folder its runs were evaluated on.`,
      );
    }
    let refused = 0;
    for (const run of todo) {
      const spec = run.spec as RunSpec;
      const label = `run ${run.id} (${run.model} #${run.runIndex})`;
      const started = performance.now();
      const backendName = (BACKEND_NAMES as readonly string[]).includes(run.backend ?? '') ? (run.backend as BackendName) : spec.backend;
      await initBackend(backendName, { gpu: spec.gpu });
      const data = await indexFor(spec);
      const m = await buildModel(spec.model, {
        imageSize: spec.imageSize,
        seed: spec.seed,
        outputBias: 0,
        randomWeights: true,
        inputScaling: specSettings(spec).inputScaling,
      });
      try {
        if (!run.checkpointDir) throw new UserError(`${label} has no checkpoint folder recorded.`);
        await loadWeightsByName(m.model, run.checkpointDir);
        const stored = await runEvaluations(database, run.id);
        const cache = imageCacheFor(data, spec.imageSize);
        const bySplit: { split: Split; predictions: Predictions }[] = [];
        const mismatches: string[] = [];
        let lossOff = 0;
        for (const split of SPLITS) {
          const records = data.splits[split];
          const source = imageSource(records, { imageSize: spec.imageSize, batchSize: spec.batchSize, seed: spec.seed, augment: null, cache });
          const probs = await predictAll(m, source);
          const e = evaluateBinary(source.labels, probs);
          const s = stored.find((x) => x.split === split);
          if (!s) {
            mismatches.push(`no stored ${split} evaluation`);
            continue;
          }
          for (const k of METRIC_NAMES) {
            // A metric added after the run was recorded has no stored value to agree with.
            const [a, b] = [e.metrics[k], s.metrics[k]];
            if (b === null || (Number.isNaN(a) && Number.isNaN(b))) continue;
            const off = Math.abs(a - b);
            if (k === 'loss') lossOff = Math.max(lossOff, off);
            if (off > (k === 'loss' ? LOSS_TOLERANCE * Math.max(1, Math.abs(b)) : 1e-9)) mismatches.push(`${split} ${k} ${a}, stored ${b}`);
          }
          const c = s.confusion;
          if (e.confusion.tp !== c.tp || e.confusion.fp !== c.fp || e.confusion.tn !== c.tn || e.confusion.fn !== c.fn) {
            mismatches.push(`${split} confusion matrix differs from the stored one`);
          }
          bySplit.push({ split, predictions: predictionsOf(split, records, source.labels, probs) });
        }
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        if (mismatches.length) {
          refused++;
          process.stderr.write(`${label}: not stored, its checkpoint does not give the stored evaluation on ${backendName}: ${mismatches.join('; ')}\n`);
          continue;
        }
        await storePredictions(database, run.id, bySplit);
        const test = stored.find((x) => x.split === 'test');
        process.stderr.write(
          `${label}: ${bySplit.map((s) => `${s.predictions.images.length} ${s.split}`).join(', ')} predictions stored (the stored evaluation again, test ROC AUC ${test?.metrics.roc_auc?.toFixed(4)}; loss within ${lossOff.toExponential(1)}; ${seconds} s)\n`,
        );
      } finally {
        m.model.dispose();
      }
    }
    if (refused) throw new UserError(`${refused} of ${todo.length} runs were not stored: their checkpoints do not reproduce their stored evaluations.`);
  } finally {
    await database.close();
  }
}
