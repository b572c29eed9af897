/**
 * A loader batch (uint8 bytes plus each image's augmentation, study/data/loader.ts) as the model's input
 * tensor, NHWC float32 in [0, 1]. Where the backend has the ImageBatch kernel (webgpu) the bytes go to the GPU as
 * they are, a quarter of the floats' size, and the augmentation and scaling run there in one pass: a CPU thread
 * does a few hundred augmented 224 px images a second, far from what a GPU trains on. Elsewhere both run here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sourceMap } from '../../study/data/augment.ts';
import { augmentedPixels, type Batch } from '../../study/data/loader.ts';
import { toUnit } from '../../study/data/pixels.ts';
import { inputTensor } from '../backend/index.ts';
import { IMAGE_BATCH } from '../kernels/image-batch.ts';

export function imageTensor(batch: Batch): tf.Tensor4D {
  const shape: [number, number, number, number] = [batch.size, batch.imageSize, batch.imageSize, 3];
  if (tf.getKernel(IMAGE_BATCH, tf.getBackend()) === undefined) {
    const x = new Float32Array(batch.pixels.length);
    toUnit(augmentedPixels(batch), x);
    return inputTensor(x, shape) as tf.Tensor4D;
  }
  const words = packedWords(batch.pixels);
  const bytes = inputTensor(words, [words.length]);
  const maps = batch.augment === null ? null : inputTensor(sourceMaps(batch), [batch.size, 8]);
  const x = tf.engine().runKernel(IMAGE_BATCH, maps === null ? { bytes } : { bytes, maps }, { shape }) as tf.Tensor4D;
  tf.dispose([bytes, maps ?? []]);
  return x;
}

/** The bytes as int32s, four to a value (little-endian), zero-padded to a whole number of values. */
function packedWords(bytes: Uint8Array): Int32Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) {
    return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return new Int32Array(padded.buffer);
}

/** Per image: where each output pixel samples its source (augment.ts sourceMap) and the brightness factor. */
function sourceMaps(batch: Batch): Float32Array<ArrayBuffer> {
  const maps = new Float32Array(batch.size * 8);
  batch.augment!.forEach((p, k) => {
    const m = sourceMap(batch.imageSize, p);
    maps.set([m.ax, m.bx, m.cx, m.ay, m.by, m.cy, p.brightness], k * 8);
  });
  return maps;
}
