/**
 * Batches of images for one epoch: order shuffled from (seed, epoch), images decoded (or taken from the cache)
 * into one uint8 NHWC buffer, with each image's augmentation parameters drawn when asked. Applying them and the
 * scaling to [0, 1] is left to whoever turns the batch into a tensor (workers/train/image-tensor.ts): on webgpu
 * both run on the GPU, which a CPU thread could not keep fed. `augmentedPixels` applies them on the CPU.
 * Batches are built ahead of the consumer, at most `prefetch` at a time, so memory stays bounded; each batch
 * decodes a few images at a time and leaves the parallelism to sharp's own thread pool.
 */
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import seedrandom from 'seedrandom';
import { applyAugment, sampleParams, type AugmentConfig, type AugmentParams } from './augment.ts';
import { CLASSES, type ImageRecord } from './dataset.ts';
import { decodeImage } from './decode.ts';
import type { ImageCache } from './image-cache.ts';

export interface Batch {
  /** NHWC bytes as decoded, before augmentation. */
  pixels: Uint8Array;
  /** Each image's augmentation, still to apply; null when the batch is not augmented. */
  augment: AugmentParams[] | null;
  y: Float32Array;
  ids: string[];
  size: number;
  imageSize: number;
}

export interface LoaderOptions {
  imageSize: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  epoch: number;
  /** Augmentation (training only); null serves the images as decoded. */
  augment: AugmentConfig | null;
  cache: ImageCache | null;
  /**
   * Writes every augmented image the model sees (as augmentedPixels makes it; on webgpu the GPU's may differ by a
   * byte step here and there) into this folder as PNG, named like Keras' save_to_dir ('{prefix}_{index}_{hash}.png')
   * with prefix 'e<epoch>', index the record's position in `records` (Keras' j), and the source's class and file
   * name in place of Keras' random hash: e.g. 'e3_417_malignant-123.png'.
   */
  saveAugmentedDir?: string | null;
  /** Batches built ahead of the consumer (default 2). */
  prefetch?: number;
}

/** Images decoded at once per batch being built. */
const DECODE_CONCURRENCY = 4;

/** The record order of one epoch: a Fisher-Yates shuffle seeded by (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = seedrandom(`shuffle:${seed}:${epoch}`);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** The random source of the augmentation of the image at `position` of an epoch. */
export function augmentRng(seed: number, epoch: number, position: number): () => number {
  return seedrandom.alea(`augment:${seed}:${epoch}:${position}`);
}

export async function* batches(records: ImageRecord[], opts: LoaderOptions): AsyncGenerator<Batch> {
  const { imageSize, batchSize } = opts;
  if (!Number.isInteger(imageSize) || imageSize < 1) throw new RangeError(`image size ${imageSize} is not a positive integer.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size ${batchSize} is not a positive integer.`);
  if (opts.cache && opts.cache.imageSize !== imageSize) {
    throw new RangeError(`the image cache holds ${opts.cache.imageSize} px images, the loader needs ${imageSize} px.`);
  }
  const prefetch = Math.max(1, opts.prefetch ?? 2);
  const order = opts.shuffle ? epochOrder(records.length, opts.seed, opts.epoch) : records.map((_, i) => i);
  const saveDir = opts.augment ? (opts.saveAugmentedDir ?? null) : null;
  if (saveDir) await mkdir(saveDir, { recursive: true });
  const count = Math.ceil(order.length / batchSize);

  const build = async (b: number): Promise<Batch> => {
    const positions = order.slice(b * batchSize, (b + 1) * batchSize);
    const pixelsPerImage = imageSize * imageSize * 3;
    const pixels = new Uint8Array(positions.length * pixelsPerImage);
    const y = new Float32Array(positions.length);
    const ids = positions.map((i) => records[i]!.id);
    const augment = opts.augment ? positions.map((_, k) => sampleParams(imageSize, opts.augment!, augmentRng(opts.seed, opts.epoch, b * batchSize + k))) : null;
    let next = 0;
    const worker = async () => {
      for (let k = next++; k < positions.length; k = next++) {
        const index = positions[k]!;
        const record = records[index]!;
        const image = opts.cache ? await opts.cache.load(record.id, record.path) : await decodeImage(record.path, imageSize);
        pixels.set(image, k * pixelsPerImage);
        y[k] = record.label;
        if (saveDir) await saveImage(saveDir, opts.epoch, index, record, applyAugment(image, imageSize, augment![k]!), imageSize);
      }
    };
    await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, positions.length) }, worker));
    return { pixels, augment, y, ids, size: positions.length, imageSize };
  };

  const pending: Promise<Batch>[] = [];
  let started = 0;
  try {
    const fill = () => {
      while (started < count && pending.length < prefetch) {
        const p = build(started++);
        p.catch(() => {}); // a rejection surfaces when its batch is awaited, not as an unhandled one
        pending.push(p);
      }
    };
    fill();
    while (pending.length > 0) {
      const head = pending.shift()!;
      fill(); // keep `prefetch` batches in flight behind the one handed out next
      yield await head;
    }
  } finally {
    // The consumer stopped early or a batch failed: let the batches still in flight finish quietly.
    pending.length = 0;
  }
}

/** The batch's bytes with its augmentation applied (on the CPU); the bytes themselves when it has none. */
export function augmentedPixels(batch: Batch): Uint8Array {
  if (batch.augment === null) return batch.pixels;
  const n = batch.imageSize * batch.imageSize * 3;
  const out = new Uint8Array(batch.pixels.length);
  for (const [k, p] of batch.augment.entries()) out.set(applyAugment(batch.pixels.subarray(k * n, (k + 1) * n), batch.imageSize, p), k * n);
  return out;
}

async function saveImage(dir: string, epoch: number, index: number, record: ImageRecord, pixels: Uint8Array, size: number): Promise<void> {
  const { default: sharp } = await import('sharp'); // as in decode.ts
  const stem = basename(record.path, extname(record.path));
  const name = `e${epoch}_${index}_${CLASSES[record.label]}-${stem}.png`;
  await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(join(dir, name));
}
