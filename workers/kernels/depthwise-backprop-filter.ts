/**
 * DepthwiseConv2dNativeBackpropFilter:
 *   dW[i, j, c, m] = sum over (n, oh, ow) of x_padded[n, oh*s + i*d, ow*s + j*d, c] * dy[n, oh, ow, c*M + m]
 * On wasm as one pass over the heap, in SIMD (simd/kernels.c) for channel multiplier 1 and horizontal stride 1,
 * else as a plain loop (loops.ts); on webgpu as one WGSL pass for channel multiplier 1 (wgsl/), else (and on cpu,
 * for tests) as k*k elementwise products of shifted inputs and dy, each reduced over batch and space.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, KernelFunc, NamedTensorInfoMap } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { depthwiseFilterGradLoop } from './loops.ts';
import { asTensor, padOrCrop, pair, tapSlice, type KernelBackend } from './tensors.ts';
import { simdKernels } from './simd/index.ts';
import { heapView, outputFrom } from './wasm-heap.ts';
import { depthwiseFilterGrad } from './wgsl/depthwise-filter-grad.ts';

function depthwiseFilterInfo(xShape: number[], attrs: DepthwiseConv2dNativeBackpropFilterAttrs) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
    'channelsLast',
  );
}

export function depthwiseBackpropFilterImpl(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: DepthwiseConv2dNativeBackpropFilterAttrs): tf.Tensor4D {
  const dilation = pair(attrs.dilations ?? 1);
  const info = depthwiseFilterInfo(x.shape, attrs);
  const { filterHeight: kh, filterWidth: kw, inChannels: c, strideHeight, strideWidth } = info;
  const m = attrs.filterShape[3];
  const { top, bottom, left, right } = info.padInfo;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const xPadded = padOrCrop(x, top, bottom, left, right);
  const dy3d = tf.reshape(dy, [pixels, c, m]);

  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // One tap at a time, so that only its [C, M] result outlives the input-sized temporaries.
      taps.push(
        tf.tidy(() => {
          const xs = tf.reshape(tapSlice(xPadded, i, j, info, [strideHeight, strideWidth], dilation), [pixels, c, 1]);
          return tf.sum(tf.mul(xs, dy3d), 0);
        }),
      );
    }
  }
  return tf.reshape(tf.stack(taps), [kh, kw, c, m]);
}

function depthwiseBackpropFilterWasm({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = depthwiseFilterInfo(x.shape, a);
  if (a.filterShape[3] !== 1 || info.strideWidth !== 1) {
    return outputFrom(wasm, a.filterShape, depthwiseFilterGradLoop(heapView(wasm, x), heapView(wasm, dy), info, a.filterShape[3]));
  }
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight } = info;
  const { dilationHeight, dilationWidth, filterHeight: kh, filterWidth: kw } = info;
  const simd = simdKernels(wasm);
  const out = wasm.makeOutput(a.filterShape, 'float32');
  simd.withScratch([kh * kw * outWidth * c * 4, kh * kw * c * 8], (rows, acc) =>
    simd.exports.depthwise_filter_grad(
      simd.ptr(x),
      simd.ptr(dy),
      batchSize,
      inHeight,
      inWidth,
      c,
      outHeight,
      outWidth,
      strideHeight,
      dilationHeight,
      dilationWidth,
      info.padInfo.top,
      info.padInfo.left,
      kh,
      kw,
      rows,
      acc,
      simd.ptr(out),
    ),
  );
  return out;
}

export function depthwiseBackpropFilterConfig(backendName: KernelBackend): KernelConfig {
  if (backendName === 'wasm') {
    return {
      kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
      backendName,
      kernelFunc: depthwiseBackpropFilterWasm as unknown as KernelFunc,
    };
  }
  const kernelFunc = ({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) => {
    const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    if (backendName === 'webgpu' && a.filterShape[3] === 1) {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      return depthwiseFilterGrad(backend as WebGPUBackend, x, dy, depthwiseFilterInfo(x.shape, a));
    }
    return tf.tidy(() => depthwiseBackpropFilterImpl(asTensor<tf.Rank.R4>(inputs.x, 'x'), asTensor<tf.Rank.R4>(inputs.dy, 'dy'), a));
  };
  return {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
