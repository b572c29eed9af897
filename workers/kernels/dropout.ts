/**
 * SeededDropout {x} -> x * mask, attrs {rate, seed}: the mask keeps an element where a uniform draw made from a
 * hash of (seed, element index) is below 1 - rate, and scales it by 1 / (1 - rate), as inverted dropout does.
 * A kernel on webgpu (wgsl/dropout.ts); other backends compute the same mask on the CPU (`dropoutMask`). The
 * gradient of a seeded dropout is the same dropout of dy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { dropout } from './wgsl/dropout.ts';

export const SEEDED_DROPOUT = 'SeededDropout';

export interface DropoutAttrs {
  rate: number;
  /** Any 32-bit integer. */
  seed: number;
}

/** A 32-bit integer hash with full avalanche (Wellons' lowbias32), the same in WGSL. */
export function hash32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The keep probability and the scale of kept elements, as float32 (what the GPU compares and multiplies). */
function keepAndScale(rate: number): { keep: number; scale: number } {
  const keep = Math.fround(1 - rate);
  return { keep, scale: Math.fround(1 / keep) };
}

/** The mask of `size` elements for `seed`: scale where kept, else 0. */
export function dropoutMask(size: number, { rate, seed }: DropoutAttrs): Float32Array<ArrayBuffer> {
  const { keep, scale } = keepAndScale(rate);
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    if ((hash32(hash32(i) ^ seed) >>> 8) / 16777216 < keep) mask[i] = scale;
  }
  return mask;
}

export const seededDropoutWebgpuConfig: KernelConfig = {
  kernelName: SEEDED_DROPOUT,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs: DropoutAttrs; backend: unknown }) => {
    const { keep, scale } = keepAndScale(attrs.rate);
    return dropout(backend as WebGPUBackend, inputs.x as TensorInfo, attrs.seed | 0, keep, scale);
  }) as unknown as KernelFunc,
};

/** x * mask for a float32 tensor x: the kernel where the backend has it, else the CPU's mask times x. */
export function applyDropout(x: tf.Tensor, attrs: DropoutAttrs): tf.Tensor {
  if (tf.getKernel(SEEDED_DROPOUT, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(SEEDED_DROPOUT, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMask(x.size, attrs), x.shape, 'float32')));
}
