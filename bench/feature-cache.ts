/**
 * What the frozen-trunk activation cache (workers/train/inputs.ts featureSource) saves per epoch: training what
 * lies above the frozen layers of a transfer-learning model (the head; for -ft models also the base's last
 * stage) on cached activations, against running base + head on every batch.
 *
 *   npx tsx bench/feature-cache.ts [--model mobilenet|mobilenet-ft|xception|xception-ft] [--backend wasm] [--size 96]
 *     [--images 512] [--batch 32] [--epochs 2]
 *
 * Images are random (decoding is the same work in both cases and not what the cache removes); the base is the
 * real architecture with random weights. Prints the time to build the cache, the median epoch time of each way
 * and the speed-up, as JSON.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../workers/backend/index.ts';
import { buildModel } from '../workers/models/index.ts';
import type { BackendName, ModelName } from '../study/run.ts';
import { median } from '../study/statistics.ts';
import { first } from '../common/indexing.ts';
import { makeTrainStep } from '../workers/train/step.ts';
import { featureSource, type InputSource } from '../workers/train/inputs.ts';
import { frozenTrunk } from '../workers/models/trunk.ts';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: 'mobilenet' },
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '96' },
    images: { type: 'string', default: '512' },
    batch: { type: 'string', default: '32' },
    epochs: { type: 'string', default: '2' },
  },
});
const size = Number(opts.size);
const count = Number(opts.images);
const batchSize = Number(opts.batch);
const epochs = Number(opts.epochs);

/** `count` random images in [0, 1] with alternating labels, served in batches like imageSource. */
function randomImages(): InputSource {
  const perImage = size * size * 3;
  const pixels = new Float32Array(count * perImage);
  let s = 12345;
  for (let i = 0; i < pixels.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    pixels[i] = s / 2 ** 32;
  }
  const labels = Float32Array.from({ length: count }, (_, i) => i % 2);
  return {
    size: count,
    labels,
    base: 'all',
    async *batches() {
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        yield {
          x: tf.tensor4d(pixels.subarray(start * perImage, (start + n) * perImage), [n, size, size, 3]),
          y: tf.tensor2d(labels.subarray(start, start + n), [n, 1]),
          labels: labels.subarray(start, start + n),
          n,
        };
      }
    },
  };
}

async function epochMs(source: InputSource, step: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, epoch: number): Promise<number> {
  const t0 = performance.now();
  for await (const b of source.batches({ epoch, training: true })) {
    const p = step(b.x, b.y);
    await p.data();
    tf.dispose([p, b.x, b.y]);
  }
  return performance.now() - t0;
}

const backend = await initBackend(opts.backend as BackendName);
const m = await buildModel(opts.model as ModelName, { imageSize: size, seed: 1, outputBias: 0, randomWeights: true });
if (!m.base) throw new Error(`${opts.model} has no pretrained base to cache`);
const images = randomImages();

const perBatch = makeTrainStep(m, tf.train.adam(1e-3), 'all');
await epochMs(images, perBatch, 0); // warm-up: allocations, kernel set-up
const perBatchMs: number[] = [];
for (let e = 1; e <= epochs; e++) perBatchMs.push(await epochMs(images, perBatch, e));

const t0 = performance.now();
const trunk = frozenTrunk(m.base);
if (!trunk) throw new Error(`${opts.model}: the trainable layers of its base are not a plain chain above a frozen trunk`);
const features = await featureSource(trunk, images, { batchSize, seed: 1, budgetBytes: 4 * 2 ** 30 });
const cacheMs = performance.now() - t0;
if (!features) throw new Error('the activations do not fit the cache budget');
const fromCache = makeTrainStep(m, tf.train.adam(1e-3), features.base);
await epochMs(features, fromCache, 0);
const cachedMs: number[] = [];
for (let e = 1; e <= epochs; e++) cachedMs.push(await epochMs(features, fromCache, e));

console.log(
  JSON.stringify({
    backend: backend.name,
    model: opts.model,
    imageSize: size,
    images: count,
    batchSize,
    cached: first(trunk.trunk.outputs, 'trunk output').shape.slice(1),
    epochMsBasePlusHead: median(perBatchMs),
    cacheBuildMs: cacheMs,
    epochMsHeadFromCache: median(cachedMs),
    speedUpPerEpoch: median(perBatchMs) / median(cachedMs),
  }),
);
