/**
 * The input pipeline of later epochs (images already in the in-memory cache) into model input tensors, two ways
 * on one backend: augmenting and scaling on the CPU and uploading float32 (what the loader did before), and
 * workers/train/image-tensor.ts (on webgpu: the bytes uploaded with queue.writeBuffer, ImageBatch on the device).
 *
 *   npx tsx bench/input-pipeline.ts [--backend webgpu] [--size 224] [--batch 32] [--images 640] [--data DIR] [--repeats 2]
 *
 * Real training images with --data, else random bytes (the same work). Prints, for plain and augmented
 * batches, images/s counting only the calling thread's time (the loader's work and the tensor's: the CPU work
 * that has to keep up with the GPU) and until the device has finished (on lavapipe the device is this CPU too,
 * so that number says nothing of a GPU). Then the upload alone: one batch's bytes through tfjs' tf.tensor and
 * through inputTensor (workers/backend/index.ts), median calling-thread ms of 8.
 */
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, inputTensor } from '../workers/backend/index.ts';
import { DEFAULT_AUGMENT } from '../study/data/augment.ts';
import { indexDataset, type ImageRecord } from '../study/data/dataset.ts';
import { ImageCache } from '../study/data/image-cache.ts';
import { augmentedPixels, batches, type Batch } from '../study/data/loader.ts';
import { toUnit } from '../study/data/pixels.ts';
import type { BackendName } from '../study/run.ts';
import { median } from '../study/statistics.ts';
import { imageTensor } from '../workers/train/image-tensor.ts';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    size: { type: 'string', default: '224' },
    batch: { type: 'string', default: '32' },
    images: { type: 'string', default: '640' },
    data: { type: 'string' },
    repeats: { type: 'string', default: '2' },
  },
});
const size = Number(opts.size);
const count = Number(opts.images);

await initBackend(opts.backend as BackendName);
const cache = new ImageCache(size, count * size * size * 3);
let records: ImageRecord[];
if (opts.data) {
  records = (await indexDataset(opts.data)).splits.train.slice(0, count);
  for (const r of records) await cache.load(r.id, r.path);
} else {
  records = Array.from({ length: count }, (_, i) => ({ id: `random/${i}`, path: '', label: (i % 2) as 0 | 1, split: 'train' as const }));
  for (const r of records) cache.set(r.id, randomFillSync(new Uint8Array(cache.bytesPerImage)));
}

const onCpu = (b: Batch) => {
  const x = new Float32Array(b.pixels.length);
  toUnit(augmentedPixels(b), x);
  return tf.tensor4d(x, [b.size, size, size, 3]);
};
const ways = { 'CPU, float32 upload': onCpu, imageTensor } as const;
const results = [];
for (const augment of [null, DEFAULT_AUGMENT]) {
  for (const [way, make] of Object.entries(ways)) {
    for (let r = 0; r < Number(opts.repeats); r++) {
      let waiting = 0;
      const t0 = performance.now();
      for await (const b of batches(records, { imageSize: size, batchSize: Number(opts.batch), shuffle: true, seed: 1, epoch: r, augment, cache })) {
        const x = make(b);
        const one = tf.slice(x, [0, 0, 0, 0], [1, 1, 1, 1]); // forces the upload, as the model's first layer would
        const t1 = performance.now();
        await one.data();
        waiting += performance.now() - t1;
        tf.dispose([x, one]);
      }
      const untilDone = performance.now() - t0;
      const thread = untilDone - waiting; // the loader's work and the tensor's, on this thread
      results.push({
        augmented: augment !== null,
        way,
        threadImagesPerSec: Math.round((count * 1000) / thread),
        untilDoneImagesPerSec: Math.round((count * 1000) / untilDone),
      });
    }
  }
}
// One batch's bytes (as int32 words) up to the device: tfjs' own upload against inputTensor; calling thread's ms.
const words = new Int32Array((Number(opts.batch) * size * size * 3) / 4);
const uploadMs: Record<'tf.tensor' | 'inputTensor', number[]> = { 'tf.tensor': [], inputTensor: [] };
for (let r = 0; r < 8; r++) {
  for (const [way, make] of [
    ['tf.tensor', () => tf.tensor1d(words, 'int32')],
    ['inputTensor', () => inputTensor(words, [words.length])],
  ] as const) {
    words.fill(r);
    const t0 = performance.now();
    const x = make();
    const one = tf.slice(x, [0], [1]); // forces the upload
    uploadMs[way].push(performance.now() - t0);
    await one.data();
    tf.dispose([x, one]);
  }
}
const upload = { bytes: words.byteLength, tfTensorMs: median(uploadMs['tf.tensor']), inputTensorMs: median(uploadMs.inputTensor) };
console.log(JSON.stringify({ backend: opts.backend, size, batch: Number(opts.batch), images: count, data: opts.data ?? 'random', results, upload }, null, 1));
