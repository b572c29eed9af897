/**
 * Throughput of the data pipeline on the real images at 224 px: JPEG decoding (one at a time and 4 at a time),
 * augmentation alone on one core, and whole training epochs through the loader (cold, and from the cache).
 *   npx tsx bench/data-pipeline.ts [DATA_DIR] [--images N]
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { augmentImage, DEFAULT_AUGMENT } from '../study/data/augment.ts';
import { indexDataset } from '../study/data/dataset.ts';
import { decodeImage } from '../study/data/decode.ts';
import { ImageCache } from '../study/data/image-cache.ts';
import { augmentRng, batches } from '../study/data/loader.ts';

const args = process.argv.slice(2);
const flag = args.indexOf('--images');
const limit = flag >= 0 ? Number(args[flag + 1]) : 600;
const dataDir = args.find((a, i) => !a.startsWith('--') && i !== flag + 1) ?? join(import.meta.dirname, '..', '..', 'shared', 'data', 'melanoma');
const SIZE = 224;

const rate = (n: number, ms: number) => `${((n * 1000) / ms).toFixed(0)} images/s (${n} in ${(ms / 1000).toFixed(2)} s)`;
const time = async (f: () => Promise<unknown> | unknown) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const index = await indexDataset(dataDir);
const train = index.splits.train;
const sample = train.slice(0, Math.min(limit, train.length));
console.log(
  `data ${index.root}: ${train.length} training images; ${availableParallelism()} CPUs, sharp concurrency ${sharp.concurrency()}, libuv pool ${process.env.UV_THREADPOOL_SIZE ?? 4}`,
);

if (sample.length === 0) throw new Error(`${index.root} has no training images to time`);
await decodeImage(sample[0]!.path, SIZE); // warm up
console.log(
  `decode, 1 at a time:   ${rate(
    sample.length,
    await time(async () => {
      for (const r of sample) await decodeImage(r.path, SIZE);
    }),
  )}`,
);
console.log(
  `decode, 4 at a time:   ${rate(
    sample.length,
    await time(async () => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < sample.length; i = next++) await decodeImage(sample[i]!.path, SIZE);
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    }),
  )}`,
);

const decoded = await Promise.all(sample.slice(0, 64).map((r) => decodeImage(r.path, SIZE)));
const rounds = 1000;
for (let i = 0; i < 50; i++) augmentImage(decoded[i % decoded.length]!, SIZE, DEFAULT_AUGMENT, augmentRng(1, 1, i)); // JIT warm-up
console.log(
  `augment (1 core):      ${rate(
    rounds,
    await time(() => {
      for (let i = 0; i < rounds; i++) augmentImage(decoded[i % decoded.length]!, SIZE, DEFAULT_AUGMENT, augmentRng(1, 1, i));
    }),
  )}`,
);

const epoch = async (cache: ImageCache | null, e: number) => {
  let n = 0;
  for await (const b of batches(train, { imageSize: SIZE, batchSize: 32, shuffle: true, seed: 1, epoch: e, augment: DEFAULT_AUGMENT, cache })) n += b.size;
  return n;
};
console.log(`loader epoch, augmented, no cache:      ${rate(train.length, await time(() => epoch(null, 1)))}`);
const cache = new ImageCache(SIZE, 1e9);
console.log(`loader epoch, augmented, filling cache: ${rate(train.length, await time(() => epoch(cache, 1)))}`);
console.log(`loader epoch, augmented, from cache:    ${rate(train.length, await time(() => epoch(cache, 2)))} (${(cache.bytes / 1e6).toFixed(0)} MB cached)`);
