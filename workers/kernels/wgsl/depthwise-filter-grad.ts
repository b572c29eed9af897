/**
 * The depthwise filter gradient (channel multiplier 1) in one pass over x and dy:
 *   dW[i, j, c] = sum over (n, oh, ow) of x[n, oh*sh - top + i*dh, ow*sw - left + j*dw, c] * dy[n, oh, ow, c]
 * Each thread takes one channel and a chunk of output rows (n, oh) and keeps the kh*kw sums in registers, so x is
 * read from cache for its neighbouring taps and dy once; the [chunks, kh*kw*C] partial sums then go through
 * columnSum. (Stock webgpu, and the tf-ops formulation, run kh*kw passes of slice, multiply and sum instead.)
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { columnSum } from './column-sum.ts';
import { GPU_THREADS, runWgsl } from './run.ts';

const main = (kh: number, kw: number) => /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let c = index % uniforms.channels;
  let start = (index / uniforms.channels) * uniforms.chunkRows;
  let end = min(start + uniforms.chunkRows, uniforms.rows);
  var acc : array<f32, ${kh * kw}>;
  for (var r = start; r < end; r++) {
    let n = r / uniforms.outHeight;
    let ih0 = (r % uniforms.outHeight) * uniforms.strideHeight - uniforms.padTop;
    for (var ow = 0; ow < uniforms.outWidth; ow++) {
      let g = dy[(r * uniforms.outWidth + ow) * uniforms.channels + c];
      let iw0 = ow * uniforms.strideWidth - uniforms.padLeft;
      for (var i = 0; i < ${kh}; i++) {
        let ih = ih0 + i * uniforms.dilationHeight;
        if (ih < 0 || ih >= uniforms.inHeight) { continue; }
        let rowBase = (n * uniforms.inHeight + ih) * uniforms.inWidth;
        for (var j = 0; j < ${kw}; j++) {
          let iw = iw0 + j * uniforms.dilationWidth;
          if (iw >= 0 && iw < uniforms.inWidth) {
            acc[i * ${kw} + j] += x[(rowBase + iw) * uniforms.channels + c] * g;
          }
        }
      }
    }
  }
  let chunk = index / uniforms.channels;
  for (var t = 0; t < ${kh * kw}; t++) {
    result[(chunk * ${kh * kw} + t) * uniforms.channels + c] = acc[t];
  }
}`;

/** dW [kh, kw, C, 1] of a depthwise convolution with channel multiplier 1. */
export function depthwiseFilterGrad(backend: WebGPUBackend, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: channels, batchSize, outHeight } = info;
  const rows = batchSize * outHeight;
  const chunks = Math.max(1, Math.min(rows, Math.ceil(GPU_THREADS / channels)));
  const chunkRows = Math.ceil(rows / chunks);
  const used = Math.ceil(rows / chunkRows);
  // Threads are (chunk, channel); the output [chunks, kh*kw, C] holds one value per (chunk, tap, channel).
  const partial = runWgsl(backend, {
    key: `depthwise_filter_grad_${kh}x${kw}`,
    inputs: { x, dy },
    outputShape: [used, kh * kw * channels],
    uniforms: {
      channels,
      rows,
      chunkRows,
      outHeight,
      outWidth: info.outWidth,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      dilationHeight: info.dilationHeight,
      dilationWidth: info.dilationWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    },
    threads: used * channels,
    main: main(kh, kw),
  });
  const dW = columnSum(backend, partial, used, kh * kw * channels, [kh, kw, channels, 1]);
  backend.disposeData(partial.dataId);
  return dW;
}
