/**
 * Where a model's batches come from: images streamed from disk (decoded, augmented for training), or the
 * activations of a frozen pretrained base computed once per image and kept in memory, so that training the head
 * of a transfer-learning model does not run the base again every epoch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { first } from '../../common/indexing.ts';
import { inputTensor } from '../backend/index.ts';
import type { AugmentConfig } from '../../study/data/augment.ts';
import type { ImageRecord } from '../../study/data/dataset.ts';
import type { ImageCache } from '../../study/data/image-cache.ts';
import type { FrozenTrunk } from '../models/trunk.ts';
import type { BaseToApply } from './step.ts';
import { batches, epochOrder } from '../../study/data/loader.ts';
import type { FeatureStore } from './feature-store.ts';
import { imageTensor } from './image-tensor.ts';
import { LaggedReads } from './lagged-reads.ts';

export interface TensorBatch {
  x: tf.Tensor;
  y: tf.Tensor;
  /** y's values, kept on the host so that nobody reads them back from the device. */
  labels: Float32Array;
  n: number;
}

export interface InputSource {
  size: number;
  /** Labels in the source's own (unshuffled) order, matching inference outputs. */
  labels: Float32Array;
  /**
   * What of the model's pretrained base the batches still have to go through: 'all' for images; for cached
   * activations of the frozen trunk, the layers above it (null when the trunk is the whole base).
   */
  base: BaseToApply;
  batches(o: { epoch: number; training: boolean }): AsyncGenerator<TensorBatch>;
}

export interface ImageSourceOptions {
  imageSize: number;
  batchSize: number;
  seed: number;
  /** Augmentation for training batches; inference batches are never augmented. */
  augment: AugmentConfig | null;
  cache: ImageCache | null;
  saveAugmentedDir?: string | null;
}

export function imageSource(records: ImageRecord[], o: ImageSourceOptions): InputSource {
  const size = o.imageSize;
  return {
    size: records.length,
    labels: Float32Array.from(records, (r) => r.label),
    base: 'all',
    async *batches({ epoch, training }) {
      const stream = batches(records, {
        imageSize: size,
        batchSize: o.batchSize,
        shuffle: training,
        seed: o.seed,
        epoch,
        augment: training ? o.augment : null,
        cache: o.cache,
        saveAugmentedDir: training ? o.saveAugmentedDir : null,
      });
      for await (const b of stream) {
        yield { x: imageTensor(b), y: tf.tensor2d(b.y, [b.size, 1]), labels: b.y, n: b.size };
      }
    },
  };
}

/**
 * Runs the frozen trunk of a base over every image once (inference mode) and serves its outputs as batches, for
 * the layers above it (`rest`, see workers/models/trunk.ts). Returns null when the activations would not fit in
 * `budgetBytes`; the caller then streams images instead. With a `store`, activations another run already
 * computed under the same key are read from disk instead, and computed ones are stored for the next run.
 */
export async function featureSource(
  { trunk, rest }: FrozenTrunk,
  images: InputSource,
  o: {
    batchSize: number;
    seed: number;
    budgetBytes: number;
    store?: { store: FeatureStore; key: string } | null;
    log?: (message: string) => void;
    /** Progress of computing the activations (not called when they are read from the store). */
    onProgress?: (done: number, total: number) => void;
  },
): Promise<InputSource | null> {
  const shape = first(trunk.outputs, 'trunk output').shape.slice(1) as number[];
  const perItem = shape.reduce((a, b) => a * b, 1);
  if (perItem * 4 * images.size > o.budgetBytes) return null;
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  let features = o.store ? await o.store.store.read(o.store.key, perItem * images.size) : null;
  if (features !== null) {
    o.log?.(`frozen-trunk activations of ${images.size} images read from ${o.store!.store.dir} in ${seconds()} s`);
  } else {
    const reads = new LaggedReads(new Float32Array(perItem * images.size));
    let offset = 0;
    let done = 0;
    o.onProgress?.(0, images.size);
    for await (const b of images.batches({ epoch: 0, training: false })) {
      await reads.push(
        tf.tidy(() => trunk.apply(b.x, { training: false }) as tf.Tensor),
        offset,
      );
      offset += b.n * perItem;
      done += b.n;
      tf.dispose([b.x, b.y]);
      o.onProgress?.(done, images.size);
    }
    await reads.flush();
    features = reads.into;
    if (o.store) {
      await o.store.store.write(o.store.key, features);
      o.log?.(`frozen-trunk activations of ${images.size} images computed in ${seconds()} s, stored in ${o.store.store.dir}`);
    }
  }
  const cached = features;
  const labels = images.labels;
  return {
    size: images.size,
    labels,
    base: rest,
    async *batches({ epoch, training }) {
      const order = training ? epochOrder(images.size, o.seed, epoch) : Array.from({ length: images.size }, (_, i) => i);
      for (let start = 0; start < order.length; start += o.batchSize) {
        const idx = order.slice(start, start + o.batchSize);
        const x = new Float32Array(idx.length * perItem);
        const y = new Float32Array(idx.length);
        idx.forEach((item, k) => {
          x.set(cached.subarray(item * perItem, (item + 1) * perItem), k * perItem);
          y[k] = labels[item]!;
        });
        yield { x: inputTensor(x, [idx.length, ...shape]), y: tf.tensor2d(y, [idx.length, 1]), labels: y, n: idx.length };
      }
    },
  };
}
