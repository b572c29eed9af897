/** Input sources over fixed pixels, for tests of what consumes a source (the frozen-trunk activation cache). */
import * as tf from '@tensorflow/tfjs-core';
import type { InputSource } from '../../workers/train/inputs.ts';

/** `count` images of size x size x 3 from `pixels`, in batches of `batchSize`, labels alternating 0 and 1. */
export function fixedImages(pixels: Float32Array, count: number, size: number, batchSize = 2): InputSource {
  const perImage = size * size * 3;
  return {
    size: count,
    labels: Float32Array.from({ length: count }, (_, i) => i % 2),
    base: 'all',
    async *batches() {
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        const x = tf.tensor4d(pixels.subarray(start * perImage, (start + n) * perImage), [n, size, size, 3]);
        yield { x, y: tf.zeros([n, 1]), labels: new Float32Array(n), n };
      }
    },
  };
}
