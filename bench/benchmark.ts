/**
 * `melanoma bench`: speed of one backend on one model — median train step (forward, backward, Adam update),
 * train and predict images/s — and of the data pipeline that feeds it: loader, augmentation and the input tensor
 * on this backend (workers/train/image-tensor.ts), once decoding every image from disk (a run's first epoch) and
 * once from the in-memory image cache (every later epoch). Each timed step is forced to finish by reading one
 * number back, never the whole output.
 */
import { randomFillSync } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { assertDeviceHealthy, initBackend } from '../workers/backend/index.ts';
import { buildModel } from '../workers/models/index.ts';
import type { BackendName, ModelName } from '../study/run.ts';
import { median } from '../study/statistics.ts';
import { forward, kerasAdam, makeTrainStep } from '../workers/train/step.ts';
import { LaggedReads } from '../workers/train/lagged-reads.ts';
import type { ImageRecord } from '../study/data/dataset.ts';
import type { ImageCache as ImageCacheType } from '../study/data/image-cache.ts';

export interface BenchOptions {
  backend: BackendName;
  model: ModelName;
  imageSize: number;
  batchSize: number;
  steps: number;
  warmup: number;
  gpu: number | null;
  /** Dataset folder for the data-pipeline measurement; null skips it. */
  dataDir: string | null;
}

export interface BenchReport {
  backend: string;
  backendDetail: string;
  model: ModelName;
  imageSize: number;
  batchSize: number;
  steps: number;
  trainStepMs: { median: number; min: number; max: number };
  /**
   * Median host time to issue one train step (tfjs and the driver recording its kernels); on a GPU the rest of
   * the step is waiting for the device. When it is close to the step time, the host, not the GPU, sets the pace.
   */
  trainIssueMs: number;
  trainImagesPerSec: number;
  /**
   * Train images/s of `steps` steps issued as a run's training loop issues them (workers/train/lagged-reads.ts):
   * each step's output read one step late, so a GPU computes while the host issues the next. trainImagesPerSec
   * waits for each step, as the PyTorch reference does.
   */
  trainImagesPerSecOverlapped: number;
  predictImagesPerSec: number;
  /** Decode + augmentation + input tensor of real training images, streamed as a run's first epoch (no cache). */
  dataImagesPerSec: number | null;
  /**
   * Augmentation + input tensor of images already in the image cache, as every later epoch: the real images
   * when there is a dataset, else random ones (the same work).
   */
  cachedDataImagesPerSec: number;
  /** Kernels that took the most time in one profiled train step. */
  topKernels: { name: string; ms: number }[];
  /** The slowest single kernel calls of that step, with their input shapes (which layer a kernel served). */
  slowestCalls: { name: string; inputShapes: number[][]; ms: number }[];
  /** Kernel calls in that step (each one or more GPU dispatches on webgpu). */
  kernelCalls: number;
  /** The most tensor memory the backend held during that step, in bytes (tf.profile's peakBytes). */
  stepPeakBytes: number;
}

async function settle(t: tf.Tensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  await one.data();
  one.dispose();
}

export async function benchmark(o: BenchOptions): Promise<BenchReport> {
  const backend = await initBackend(o.backend, { gpu: o.gpu });
  const m = await buildModel(o.model, { imageSize: o.imageSize, seed: 1, outputBias: 0, randomWeights: true, initFrom: null });
  const x = tf.randomUniform([o.batchSize, o.imageSize, o.imageSize, 3], 0, 1, 'float32', 1);
  const y = tf.tensor2d(
    Array.from({ length: o.batchSize }, (_, i) => i % 2),
    [o.batchSize, 1],
  );
  const optimizer = kerasAdam(1e-3);
  const step = makeTrainStep(m, optimizer, 'all');

  const issued: number[] = [];
  const timeSteps = async (n: number, run: () => tf.Tensor) => {
    const times: number[] = [];
    issued.length = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const out = run();
      issued.push(performance.now() - t0);
      await settle(out);
      out.dispose();
      times.push(performance.now() - t0);
    }
    return times;
  };
  await timeSteps(o.warmup, () => step(x, y));
  const train = await timeSteps(o.steps, () => step(x, y));
  const issueMs = median(issued);
  const overlapped = async () => {
    const reads = new LaggedReads(new Float32Array(o.steps * o.batchSize));
    const t0 = performance.now();
    for (let i = 0; i < o.steps; i++) await reads.push(step(x, y), i * o.batchSize);
    await reads.flush();
    return (o.steps * o.batchSize * 1000) / (performance.now() - t0);
  };
  const trainImagesPerSecOverlapped = await overlapped();
  const profile = await tf.profile(async () => {
    const out = step(x, y);
    await settle(out);
    out.dispose();
  });
  const byKernel = new Map<string, number>();
  for (const k of profile.kernels) {
    // A custom-gradient op (the fused separable convolution) shows as an unnamed scope around its kernels.
    if (k.name === 'unnamed scope') continue;
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  }
  const topKernels = [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, ms]) => ({ name, ms }));
  const slowestCalls = profile.kernels
    .filter((k) => k.name !== 'unnamed scope' && typeof k.kernelTimeMs === 'number')
    .sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number))
    .slice(0, 10)
    .map((k) => ({ name: k.name, inputShapes: k.inputShapes, ms: k.kernelTimeMs as number }));

  const predict = () => tf.tidy(() => forward(m, x, false, 'all'));
  await timeSteps(o.warmup, predict);
  const inference = await timeSteps(o.steps, predict);
  tf.dispose([x, y]);
  optimizer.dispose();
  m.model.dispose();
  assertDeviceHealthy();

  return {
    backend: backend.name,
    backendDetail: backend.detail,
    model: o.model,
    imageSize: o.imageSize,
    batchSize: o.batchSize,
    steps: o.steps,
    trainStepMs: { median: median(train), min: Math.min(...train), max: Math.max(...train) },
    trainIssueMs: issueMs,
    trainImagesPerSec: (o.batchSize * 1000) / median(train),
    trainImagesPerSecOverlapped,
    predictImagesPerSec: (o.batchSize * 1000) / median(inference),
    ...(await dataPipelineSpeeds(o.dataDir, o.imageSize, o.batchSize, Math.max(4, o.steps))),
    topKernels,
    slowestCalls,
    kernelCalls: profile.kernels.filter((k) => k.name !== 'unnamed scope').length,
    stepPeakBytes: profile.peakBytes,
  };
}

/** Images per second through the loader into input tensors, augmented as the augmented model trains. */
async function dataPipelineSpeeds(dataDir: string | null, imageSize: number, batchSize: number, nBatches: number) {
  // Loaded here, not at the top: they load sharp only when decoding, which the GPU bundle (bench/gpu.ts) never does.
  const [{ DEFAULT_AUGMENT }, { indexDataset }, { batches }, { ImageCache }, { imageTensor }] = await Promise.all([
    import('../study/data/augment.ts'),
    import('../study/data/dataset.ts'),
    import('../study/data/loader.ts'),
    import('../study/data/image-cache.ts'),
    import('../workers/train/image-tensor.ts'),
  ]);
  const count = nBatches * batchSize;
  const speed = async (records: ImageRecord[], cache: ImageCacheType | null) => {
    const t0 = performance.now();
    for await (const b of batches(records, { imageSize, batchSize, shuffle: true, seed: 1, epoch: 1, augment: DEFAULT_AUGMENT, cache })) {
      const x = imageTensor(b);
      await settle(x);
      x.dispose();
    }
    return (records.length * 1000) / (performance.now() - t0);
  };
  const cache = new ImageCache(imageSize, count * imageSize * imageSize * 3);
  if (dataDir === null) {
    const records: ImageRecord[] = Array.from({ length: count }, (_, i) => ({ id: `random/${i}`, path: '', label: (i % 2) as 0 | 1, split: 'train' }));
    for (const r of records) cache.set(r.id, randomFillSync(new Uint8Array(cache.bytesPerImage)));
    return { dataImagesPerSec: null, cachedDataImagesPerSec: await speed(records, cache) };
  }
  const records = (await indexDataset(dataDir)).splits.train.slice(0, count);
  const dataImagesPerSec = await speed(records, null);
  for (const r of records) await cache.load(r.id, r.path);
  return { dataImagesPerSec, cachedDataImagesPerSec: await speed(records, cache) };
}
