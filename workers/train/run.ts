/**
 * One run of the study: data → model → training → final evaluation of the best weights on train, val and test.
 * Posts RunEvents as it goes and writes OUT/history.csv, OUT/best/ (TensorFlow.js format) and OUT/result.json.
 * At the end of every epoch it saves OUT/resume/ (resume-state.ts): the same spec run again continues from there,
 * with the same numbers as a run never stopped. The folder is removed once result.json is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { initBackend } from '../backend/index.ts';
import { checkImages } from '../data/check.ts';
import { indexDataset } from '../data/dataset.ts';
import { ImageCache } from '../data/image-cache.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';
import { buildModel, saveModel } from '../models/index.ts';
import { SPLITS, type RunEvent, type RunResult, type RunSpec, type SplitEvaluation } from '../../study/run.ts';
import { fit, predictAll, predictionsOf } from './fit.ts';
import { progressReporter } from './progress-reporter.ts';
import { writeHistoryCsv } from './history-csv.ts';
import { clearResumeState, loadResumeState, restoreTraining, restoredBestWeights, runIdentity, saveResumeState } from './resume-state.ts';
import { runSources } from './sources.ts';
import { specSettings } from './spec-settings.ts';

export interface RunHooks {
  /** Every event of the run, `progress` ones included (at most a few a second). */
  emit(event: RunEvent): void | Promise<void>;
  onBatch?(done: number, total: number): void;
  /** Progress of the decoding of every image before training (spec.checkImages). */
  onCheck?(done: number, total: number): void;
}

/** Bytes of frozen-base activations a run may keep in memory (MELANOMA_FEATURE_CACHE_MB overrides). */
const FEATURE_BUDGET = Number(process.env.MELANOMA_FEATURE_CACHE_MB ?? 3072) * 2 ** 20;
/** Bytes of decoded uint8 images a run may keep in memory: the whole dataset at 224 px is 0.5 GB. */
const IMAGE_CACHE_BUDGET = Number(process.env.MELANOMA_IMAGE_CACHE_MB ?? 1024) * 2 ** 20;

/**
 * The decoded images, kept by this thread from one run to the next: an orchestrator slot runs all its runs on one
 * thread, and only the first should pay for decoding (on a GPU, decoding a run's images takes several of its
 * epochs). Replaced when a run needs another dataset or image size.
 */
let threadImages: { key: string; cache: ImageCache } | null = null;

export function imageCacheFor(data: { root: string; fingerprint: string }, imageSize: number): ImageCache {
  const key = `${data.root} ${data.fingerprint} ${imageSize}`;
  if (threadImages?.key !== key) {
    threadImages?.cache.clear();
    threadImages = { key, cache: new ImageCache(imageSize, IMAGE_CACHE_BUDGET) };
  }
  return threadImages.cache;
}

export async function executeRun(spec: RunSpec, hooks: RunHooks): Promise<RunResult> {
  const started = performance.now();
  // Every tfjs random draw without an explicit seed comes from Math.random: seeding it
  // (per worker thread) makes the whole run a function of the seed on a given backend.
  seedrandom(`melanoma:${spec.seed}`, { global: true, state: true });
  const backend = await initBackend(spec.backend, { gpu: spec.gpu });
  const settings = specSettings(spec);
  const data = await indexDataset(spec.dataDir, { validation: settings.validation });
  // A state saved by an earlier attempt of this run continues it; one of another run stops here, before any work.
  const resumeDir = join(spec.outDir, 'resume');
  const identity = runIdentity(spec, data.fingerprint, backend.name);
  const saved = loadResumeState(resumeDir, identity);
  const cache = spec.cacheImages ? imageCacheFor(data, spec.imageSize) : null;
  const report = progressReporter((p) => void hooks.emit({ type: 'progress', ...p }));
  const records = SPLITS.flatMap((s) => data.splits[s]);
  // With every image fitting in the cache, decoding them all first is the decoding the first epoch would do, shown
  // as its own phase; a thread's later runs find them cached.
  const decodeFirst = cache !== null && cache.size < records.length && records.length * cache.bytesPerImage <= cache.maxBytes;
  if (spec.checkImages !== false || decodeFirst) {
    // Every bad file stops the run here, before anything of it is written.
    report('decoding', 0, records.length);
    await checkImages(records, data.root, {
      imageSize: spec.imageSize,
      cache,
      onProgress: (done, total) => {
        report('decoding', done, total);
        if (spec.checkImages !== false) hooks.onCheck?.(done, total);
      },
    });
  }
  const counts = Object.fromEntries(
    SPLITS.map((s) => [s, { benign: data.splits[s].filter((r) => r.label === 0).length, malignant: data.splits[s].filter((r) => r.label === 1).length }]),
  ) as RunResult['counts'];
  const { benign, malignant } = counts.train;
  const m = await buildModel(spec.model, {
    imageSize: spec.imageSize,
    seed: spec.seed,
    outputBias: Math.log(malignant / benign),
    weights: spec.weights,
    initFrom: spec.initFrom,
    inputScaling: settings.inputScaling,
  });
  const params = { total: m.totalParams, trainable: m.trainableParams };
  const resumedFrom = saved && { epoch: saved.progress.epoch, history: saved.progress.history, improved: saved.progress.improved };
  await hooks.emit({ type: 'started', backend: backend.name, backendDetail: backend.detail, datasetFingerprint: data.fingerprint, params, resumedFrom });
  if (saved) await hooks.emit({ type: 'log', message: `continues after epoch ${saved.progress.epoch}, from ${saved.dir}` });

  const { sourceOf } = runSources(m, data, {
    imageSize: spec.imageSize,
    batchSize: spec.batchSize,
    seed: spec.seed,
    augment: settings.augment,
    cache,
    saveAugmentedDir: spec.saveAugmented,
    featureCacheDir: spec.featureCacheDir ?? null,
    featureBudgetBytes: FEATURE_BUDGET,
    backend: `${backend.name} ${backend.detail}`,
    log: (message) => void hooks.emit({ type: 'log', message }),
    onCaching: (done, total) => report('caching', done, total),
  });

  const outDir = spec.outDir;
  const bestDir = join(outDir, 'best');
  mkdirSync(outDir, { recursive: true });
  const train = await sourceOf('train', true);
  const val = await sourceOf('val', false);
  let bestWeights: tf.Tensor[] = saved ? restoredBestWeights(saved, m) : [];
  const resume = saved && { restore: (optimizer: tf.Optimizer) => restoreTraining(saved, m, optimizer) };
  const outcome = await fit(m, train, val, spec, {
    onBatch: (done, total, epoch) => {
      report('training', done, total, epoch);
      if (done > 0) hooks.onBatch?.(done, total);
    },
    onValidate: (done, total, epoch) => report('evaluating', done, total, epoch),
    onEpoch: async (record, best) => {
      await hooks.emit({ type: 'epoch', record, best });
    },
    onBest: async (epoch) => {
      tf.dispose(bestWeights);
      bestWeights = m.model.getWeights().map((w) => tf.clone(w));
      await saveModel(m.model, bestDir);
      await hooks.emit({ type: 'checkpoint', epoch, dir: bestDir });
    },
    onEpochEnd: (progress, optimizer) => saveResumeState(resumeDir, identity, { progress, model: m, optimizer, bestWeights }),
  }, resume);
  writeHistoryCsv(join(outDir, 'history.csv'), outcome.history);

  // Final evaluation with the best weights, on clean (never augmented) images of every split.
  m.model.setWeights(bestWeights);
  tf.dispose(bestWeights);
  // (A source's inference batches are never augmented, so `train` serves the clean training images here.)
  const sources = { train, val, test: await sourceOf('test', false) };
  const final: SplitEvaluation[] = [];
  const finalTotal = SPLITS.reduce((n, split) => n + sources[split].size, 0);
  let finalDone = 0;
  for (const split of SPLITS) {
    const source = sources[split];
    const probs = await predictAll(m, source, (done) => report('evaluating', finalDone + done, finalTotal));
    finalDone += source.size;
    const ev = evaluateBinary(source.labels, probs);
    final.push({ split, n: source.size, ...ev, predictions: predictionsOf(split, data.splits[split], source.labels, probs) });
  }

  const result: RunResult = {
    spec,
    backend: backend.name,
    backendDetail: backend.detail,
    datasetFingerprint: data.fingerprint,
    counts,
    params,
    history: outcome.history,
    bestEpoch: outcome.bestEpoch,
    stoppedEarly: outcome.stoppedEarly,
    checkpointDir: bestDir,
    final,
    seconds: (performance.now() - started) / 1000,
  };
  writeFileSync(join(outDir, 'result.json'), JSON.stringify(result, null, 2));
  clearResumeState(resumeDir);
  await hooks.emit({ type: 'final', result });
  m.model.dispose();
  return result;
}
