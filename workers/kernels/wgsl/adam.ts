/**
 * Adam on webgpu in 1 + (one per variable) passes: AdamMoments updates the first and second moments of every
 * variable at once, held flat in one buffer (every m, then every v, in variable order), from every gradient
 * concatenated in the same order; AdamValue then updates each variable from its stretch of the new moments.
 * tfjs' Adam runs 14 elementwise ops per variable, each a dispatch and a pass over the variable, and every
 * dispatch costs the host about as much as it costs the GPU for the study's small variables. The same formula
 * and order of float32 operations as tfjs' AdamOptimizer; a shader compiler may still fuse a multiply and an add,
 * so results can differ in the last bits (test/workers/train/adam.test.ts bounds that).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runWgsl } from './run.ts';

export interface AdamScalars {
  beta1: number;
  beta2: number;
  /** 1 - beta1 and 1 - beta2 as tfjs passes them (float64 differences, rounded to float32 on the GPU). */
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  /** The bias corrections 1 - beta1^t and 1 - beta2^t of this step. */
  correction1: number;
  correction2: number;
  epsilon: number;
  learningRate: number;
}

const MOMENTS = /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let total = uniforms.threads / 2;
  if (index < total) {
    result[index] = mv[index] * uniforms.beta1 + g[index] * uniforms.oneMinusBeta1;
  } else {
    let j = index - total;
    result[index] = mv[index] * uniforms.beta2 + (g[j] * g[j]) * uniforms.oneMinusBeta2;
  }
}`;

const VALUE = /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let mHat = mv[uniforms.offset + index] / uniforms.correction1;
  let vHat = mv[uniforms.total + uniforms.offset + index] / uniforms.correction2;
  result[index] = (mHat / (sqrt(vHat) + uniforms.epsilon)) * -uniforms.learningRate + value[index];
}`;

/** The new moments [every m', every v'] from the old ones and the concatenated gradients. */
export function adamMoments(backend: WebGPUBackend, mv: TensorInfo, g: TensorInfo, scalars: AdamScalars): TensorInfo {
  const floats = { beta1: scalars.beta1, beta2: scalars.beta2, oneMinusBeta1: scalars.oneMinusBeta1, oneMinusBeta2: scalars.oneMinusBeta2 };
  return runWgsl(backend, { key: 'adam_moments', inputs: { mv, g }, outputShape: mv.shape, floats, main: MOMENTS, workgroupSize: 256 });
}

/** One variable's new value; its moments start at `offset` of the `total` values of each half of `mv`. */
export function adamValue(backend: WebGPUBackend, mv: TensorInfo, value: TensorInfo, scalars: AdamScalars, offset: number, total: number): TensorInfo {
  const floats = { correction1: scalars.correction1, correction2: scalars.correction2, epsilon: scalars.epsilon, learningRate: scalars.learningRate };
  return runWgsl(backend, {
    key: 'adam_value',
    inputs: { mv, value },
    outputShape: value.shape,
    uniforms: { offset, total },
    floats,
    main: VALUE,
    workgroupSize: 256,
  });
}
