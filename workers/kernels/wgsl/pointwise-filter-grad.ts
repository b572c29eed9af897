/**
 * The filter gradient of a pointwise convolution with few input channels -- dW [cin, cout] = x^T dy summed over
 * every pixel, the baseline's first pointwise layer at 224 px summing 1.6M pixels into 3 x 32 values -- in one
 * pass: a thread per (chunk of pixels, output channel) keeps the cin sums in registers, and the [chunks, cin*cout]
 * partial sums go through columnSum. The matMul it replaces has too few outputs to spread its huge inner
 * dimension over a GPU.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { columnSum } from './column-sum.ts';
import { GPU_THREADS, runWgsl } from './run.ts';

const main = (cin: number) => /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let co = index % uniforms.outChannels;
  let chunk = index / uniforms.outChannels;
  let start = chunk * uniforms.chunkPixels;
  let end = min(start + uniforms.chunkPixels, uniforms.pixels);
  var acc : array<f32, ${cin}>;
  for (var p = start; p < end; p++) {
    let g = dy[p * uniforms.outChannels + co];
    for (var k = 0; k < ${cin}; k++) {
      acc[k] += x[p * ${cin} + k] * g;
    }
  }
  for (var k = 0; k < ${cin}; k++) {
    result[(chunk * ${cin} + k) * uniforms.outChannels + co] = acc[k];
  }
}`;

/** dW [1, 1, cin, cout] of a 1x1 stride-1 convolution: x [pixels, cin] (any shape), dy [pixels, cout]. */
export function pointwiseFilterGrad(backend: WebGPUBackend, x: TensorInfo, dy: TensorInfo, cin: number, outChannels: number): TensorInfo {
  const pixels = x.shape.reduce((a, b) => a * b, 1) / cin;
  const chunks = Math.max(1, Math.min(pixels, Math.ceil(GPU_THREADS / outChannels)));
  const chunkPixels = Math.ceil(pixels / chunks);
  const used = Math.ceil(pixels / chunkPixels);
  const partial = runWgsl(backend, {
    key: `pointwise_filter_grad_${cin}`,
    inputs: { x, dy },
    outputShape: [used, cin * outChannels],
    uniforms: { outChannels, pixels, chunkPixels },
    threads: used * outChannels,
    main: main(cin),
  });
  const dW = columnSum(backend, partial, used, cin * outChannels, [1, 1, cin, outChannels]);
  backend.disposeData(partial.dataId);
  return dW;
}
