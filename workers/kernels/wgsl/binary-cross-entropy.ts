/**
 * Binary cross-entropy of probabilities on webgpu, forward and gradient in one pass each (the formula is in
 * workers/train/step.ts). A batch holds a few dozen numbers, so the forward sums them in one thread; tfjs' ops
 * took 10 dispatches for the forward and 8 for the gradient, each costing the host more than the GPU's work.
 * isnan is the backend's own bit test (WGSL compilers may assume that x != x never holds, and clamp of a NaN
 * is undefined): a NaN probability gives a NaN loss and no gradient, as the tf-ops formula does.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runWgsl } from './run.ts';

const LOSS = /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  var acc = 0.0;
  for (var i = 0; i < uniforms.n; i++) {
    let v = p[i];
    let q = select(clamp(v, uniforms.low, uniforms.high), v, isnan(v));
    acc += y[i] * log(q) + (1.0 - y[i]) * log(1.0 - q);
  }
  result[0] = -(acc / f32(uniforms.n));
}`;

const GRAD = /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let v = p[index];
  let q = clamp(v, uniforms.low, uniforms.high);
  let g = (q - y[index]) / (q * (1.0 - q));
  let passed = v == q && !isnan(v);
  result[index] = select(0.0, g, passed) * (dy[0] / f32(uniforms.threads));
}`;

/** The mean loss, shape [1], of probabilities p clipped to [epsilon, 1 - epsilon] against labels y (same size). */
export function binaryCrossEntropyLoss(backend: WebGPUBackend, y: TensorInfo, p: TensorInfo, epsilon: number): TensorInfo {
  const n = p.shape.reduce((a, b) => a * b, 1);
  return runWgsl(backend, {
    key: 'binary_cross_entropy',
    inputs: { y, p },
    outputShape: [1],
    uniforms: { n },
    floats: { low: epsilon, high: 1 - epsilon },
    main: LOSS,
  });
}

/** d loss / d p, shape of p, for the upstream gradient dy (one value). */
export function binaryCrossEntropyGrad(backend: WebGPUBackend, dy: TensorInfo, y: TensorInfo, p: TensorInfo, epsilon: number): TensorInfo {
  return runWgsl(backend, {
    key: 'binary_cross_entropy_grad',
    inputs: { dy, y, p },
    outputShape: p.shape,
    floats: { low: epsilon, high: 1 - epsilon },
    main: GRAD,
  });
}
