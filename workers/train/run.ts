/**
 * One run of the study: data → model → training → final evaluation of the best weights on train, val and test.
 * Posts RunEvents as it goes and writes OUT/history.csv, OUT/best/ (TensorFlow.js format) and OUT/result.json.
 * At the end of every epoch it saves OUT/resume/ (resume-state.ts): the same spec run again continues from there,
 * with the same numbers as a run never stopped. The folder is removed once result.json is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { initBackend, type BackendInfo } from '../backend/index.ts';
import { checkImages } from '../../study/data/check.ts';
import { indexDataset, type DatasetIndex } from '../../study/data/dataset.ts';
import { ImageCache } from '../../study/data/image-cache.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';
import { buildModel, type StudyModel } from '../models/index.ts';
import { SPLITS, type RunEvent, type RunResult, type RunSpec, type Split, type SplitEvaluation } from '../../study/run.ts';
import { Checkpoints } from './checkpoints.ts';
import { fit, predictAll, predictionsOf, type FitCallbacks } from './fit.ts';
import type { InputSource } from './inputs.ts';
import { progressReporter, type ReportProgress } from './progress-reporter.ts';
import { writeHistoryCsv } from './history-csv.ts';
import type { ResumeState } from './resume-state.ts';
import { runSources, type SourceOptions } from './sources.ts';
import { specSettings, type SpecSettings } from '../../study/spec-settings.ts';

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
  seedThread(spec.seed);
  const backend = await initBackend(spec.backend, { gpu: spec.gpu });
  const settings = specSettings(spec);
  const data = await indexDataset(spec.dataDir, { validation: settings.validation });
  const checkpoints = new Checkpoints(spec, data.fingerprint, backend.name);
  const report = progressReporter((p) => void hooks.emit({ type: 'progress', ...p }));
  const cache = spec.cacheImages ? imageCacheFor(data, spec.imageSize) : null;
  await decodeImages(spec, data, cache, report, hooks.onCheck);
  const counts = classCounts(data);
  const m = await buildRunModel(spec, settings, counts.train);
  const params = { total: m.totalParams, trainable: m.trainableParams };
  await announce(hooks, backend, data.fingerprint, params, checkpoints.saved);
  const { sourceOf } = runSources(m, data, sourceOptions(spec, settings, cache, backend, hooks, report));
  mkdirSync(spec.outDir, { recursive: true });
  const train = await sourceOf('train', true);
  const val = await sourceOf('val', false);
  const outcome = await trainModel(m, train, val, spec, checkpoints, hooks, report);
  writeHistoryCsv(join(spec.outDir, 'history.csv'), outcome.history);
  checkpoints.restoreBest(m);
  // A source's inference batches are never augmented, so `train` serves the clean training images here.
  const final = await evaluateSplits(m, { train, val, test: await sourceOf('test', false) }, data, report);
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
    checkpointDir: checkpoints.bestDir,
    final,
    seconds: (performance.now() - started) / 1000,
  };
  writeFileSync(join(spec.outDir, 'result.json'), JSON.stringify(result, null, 2));
  checkpoints.clear();
  await hooks.emit({ type: 'final', result });
  m.model.dispose();
  return result;
}

/**
 * Every tfjs random draw without an explicit seed comes from Math.random: seeding it (per worker thread) makes the
 * whole run a function of the seed on a given backend.
 */
export function seedThread(seed: number): void {
  seedrandom(`melanoma:${seed}`, { global: true, state: true });
}

/**
 * Decodes every image before training when the spec asks for the check (every bad file stops the run here, before
 * anything of it is written), or when every image fits in the cache: then this is the decoding the first epoch
 * would do, shown as its own phase, and a thread's later runs find them cached.
 */
async function decodeImages(spec: RunSpec, data: DatasetIndex, cache: ImageCache | null, report: ReportProgress, onCheck: RunHooks['onCheck']) {
  const records = SPLITS.flatMap((s) => data.splits[s]);
  const decodeFirst = cache !== null && cache.size < records.length && records.length * cache.bytesPerImage <= cache.maxBytes;
  if (spec.checkImages === false && !decodeFirst) return;
  report('decoding', 0, records.length);
  await checkImages(records, data.root, {
    imageSize: spec.imageSize,
    cache,
    onProgress: (done, total) => {
      report('decoding', done, total);
      if (spec.checkImages !== false) onCheck?.(done, total);
    },
  });
}

function classCounts(data: DatasetIndex): RunResult['counts'] {
  const count = (split: Split, label: 0 | 1) => data.splits[split].filter((r) => r.label === label).length;
  return Object.fromEntries(SPLITS.map((s) => [s, { benign: count(s, 0), malignant: count(s, 1) }])) as RunResult['counts'];
}

/** The spec's model, its output bias set to the training split's log odds of malignant. */
function buildRunModel(spec: RunSpec, settings: SpecSettings, train: { benign: number; malignant: number }): Promise<StudyModel> {
  return buildModel(spec.model, {
    imageSize: spec.imageSize,
    seed: spec.seed,
    outputBias: Math.log(train.malignant / train.benign),
    weights: spec.weights,
    initFrom: spec.initFrom,
    inputScaling: settings.inputScaling,
  });
}

async function announce(hooks: RunHooks, backend: BackendInfo, datasetFingerprint: string, params: RunResult['params'], saved: ResumeState | null) {
  const resumedFrom = saved && { epoch: saved.progress.epoch, history: saved.progress.history, improved: saved.progress.improved };
  await hooks.emit({ type: 'started', backend: backend.name, backendDetail: backend.detail, datasetFingerprint, params, resumedFrom });
  if (saved) await hooks.emit({ type: 'log', message: `continues after epoch ${saved.progress.epoch}, from ${saved.dir}` });
}

function sourceOptions(
  spec: RunSpec,
  settings: SpecSettings,
  cache: ImageCache | null,
  backend: BackendInfo,
  hooks: RunHooks,
  report: ReportProgress,
): SourceOptions {
  return {
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
  };
}

/** fit() with its progress reported, each epoch posted, each new best saved, and each epoch's end kept to resume from. */
function trainModel(m: StudyModel, train: InputSource, val: InputSource, spec: RunSpec, checkpoints: Checkpoints, hooks: RunHooks, report: ReportProgress) {
  const callbacks: FitCallbacks = {
    onBatch: (done, total, epoch) => {
      report('training', done, total, epoch);
      if (done > 0) hooks.onBatch?.(done, total);
    },
    onValidate: (done, total, epoch) => report('evaluating', done, total, epoch),
    onWarning: (message) => void hooks.emit({ type: 'log', message }),
    onEpoch: async (record, best) => {
      await hooks.emit({ type: 'epoch', record, best });
    },
    onBest: async (epoch) => {
      await checkpoints.saveBest(m);
      await hooks.emit({ type: 'checkpoint', epoch, dir: checkpoints.bestDir });
    },
    onEpochEnd: (progress, optimizer) => checkpoints.saveEpoch(m, progress, optimizer),
  };
  return fit(m, train, val, spec, callbacks, checkpoints.resume(m));
}

/** Every split's metrics, confusion matrix, curves and predictions, from clean (never augmented) images. */
async function evaluateSplits(m: StudyModel, sources: Record<Split, InputSource>, data: DatasetIndex, report: ReportProgress): Promise<SplitEvaluation[]> {
  const final: SplitEvaluation[] = [];
  const total = SPLITS.reduce((n, split) => n + sources[split].size, 0);
  let done = 0;
  for (const split of SPLITS) {
    const source = sources[split];
    const probs = await predictAll(m, source, (d) => report('evaluating', done + d, total));
    done += source.size;
    const ev = evaluateBinary(source.labels, probs);
    final.push({ split, n: source.size, ...ev, predictions: predictionsOf(split, data.splits[split], source.labels, probs) });
  }
  return final;
}
