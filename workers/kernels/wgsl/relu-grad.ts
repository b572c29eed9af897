/** ReluGrad (relu-grad.ts) on webgpu: dy * step(x) in one pass; NaN where x is NaN, as tfjs' Step gives. */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runWgsl } from './run.ts';

// isnan is the backend's own bit test (WGSL compilers may assume that x != x never holds).
const MAIN = /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let v = x[index];
  let g = dy[index];
  result[index] = select(select(0.0, g, v > 0.0), v, isnan(v));
}`;

export function reluGrad(backend: WebGPUBackend, dy: TensorInfo, x: TensorInfo): TensorInfo {
  return runWgsl(backend, { key: 'relu_grad', inputs: { dy, x }, outputShape: x.shape, main: MAIN, workgroupSize: 256 });
}
