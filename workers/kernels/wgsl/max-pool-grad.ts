/**
 * MaxPoolGrad for windows that tile the input (stride = window, no padding: the baseline's 2x2/2 pools): one
 * thread per element of dy finds the first maximum of its window in x (TensorFlow's and the cpu backend's
 * choice among ties) and writes the window of dx: dy there, 0 elsewhere. The stock kernel runs a separate
 * argmax pass and then visits, for each element of dx, every window position that could cover it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runWgsl } from './run.ts';

const main = (fh: number, fw: number) => /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let c = index % uniforms.channels;
  let window = index / uniforms.channels;
  let ow = window % uniforms.outWidth;
  let oh = (window / uniforms.outWidth) % uniforms.outHeight;
  let n = window / (uniforms.outWidth * uniforms.outHeight);
  let corner = ((n * uniforms.inHeight + oh * ${fh}) * uniforms.inWidth + ow * ${fw}) * uniforms.channels + c;
  var best = x[corner];
  var at = 0;
  for (var i = 0; i < ${fh}; i++) {
    for (var j = 0; j < ${fw}; j++) {
      let v = x[corner + (i * uniforms.inWidth + j) * uniforms.channels];
      if (v > best) {
        best = v;
        at = i * ${fw} + j;
      }
    }
  }
  let g = dy[index];
  // The last window of a row or column also zeroes the rows or columns no window covers.
  let rows = select(${fh}, uniforms.inHeight - oh * ${fh}, oh == uniforms.outHeight - 1);
  let cols = select(${fw}, uniforms.inWidth - ow * ${fw}, ow == uniforms.outWidth - 1);
  for (var i = 0; i < rows; i++) {
    for (var j = 0; j < cols; j++) {
      let hit = i < ${fh} && j < ${fw} && i * ${fw} + j == at;
      result[corner + (i * uniforms.inWidth + j) * uniforms.channels] = select(0.0, g, hit);
    }
  }
}`;

/** dx of a max pool whose windows tile the input (see max-pool-grad.ts `tiles`). */
export function maxPoolGradTiled(backend: WebGPUBackend, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight: fh, filterWidth: fw } = info;
  return runWgsl(backend, {
    key: `max_pool_grad_tiled_${fh}x${fw}`,
    inputs: { x, dy },
    outputShape: x.shape,
    threads: tf.util.sizeFromShape(dy.shape),
    uniforms: {
      channels: info.inChannels,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
    },
    main: main(fh, fw),
  });
}
