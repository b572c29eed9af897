/**
 * Conv2DBackpropFilter (the gradient of a convolution w.r.t. its filter) as matrix products:
 *   dW[i, j, :, :] = sum over (n, oh, ow) of x_padded[n, oh*s + i, ow*s + j, :]^T dy[n, oh, ow, :]
 * A 1x1 filter is one matMul of the (strided) input and dy, both reshaped to [pixels, channels]. A kxk filter
 * with few input channels (the first convolution of a network) concatenates the k*k shifted inputs along the
 * channel axis (im2col) for one matMul with a useful number of rows; otherwise it runs one matMul per tap.
 * On webgpu a 1x1 stride-1 filter over at most 8 input channels (the baseline's first pointwise layer) is one
 * WGSL pass instead (wgsl/pointwise-filter-grad.ts), and every product sums its pixels in groups (matMulTN).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, NamedTensorInfoMap } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { isPointwise } from './conv2d.ts';
import { POINTWISE_MAX_CHANNELS } from './wgsl/pointwise-conv.ts';
import { pointwiseFilterGrad } from './wgsl/pointwise-filter-grad.ts';
import { asTensor, assertChannelsLast, matMulTN, padOrCrop, sumOverBatchChunks, tapSlice, type KernelBackend } from './tensors.ts';

/** Temporary im2col buffers stay under this many floats (64 MiB); larger batches are split. */
const IM2COL_MAX_ELEMENTS = 16 * 1024 * 1024;
/** Below this many input channels a per-tap matMul has too few rows to run fast; use im2col instead. */
const IM2COL_MAX_CHANNELS = 16;

export function conv2DBackpropFilterImpl(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: Conv2DBackpropFilterAttrs, backend: KernelBackend): tf.Tensor4D {
  assertChannelsLast('Conv2DBackpropFilter', attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout, strideHeight, strideWidth } = info;
  const { top, bottom, left, right } = info.padInfo;
  const stride: [number, number] = [strideHeight, strideWidth];
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const dy2d = tf.reshape<tf.Rank.R2>(dy, [pixels, cout]);

  const xPadded = padOrCrop(x, top, bottom, left, right);
  if (kh === 1 && kw === 1) {
    const xs = tapSlice(xPadded, 0, 0, info, stride);
    return tf.reshape(matMulTN(tf.reshape<tf.Rank.R2>(xs, [pixels, cin]), dy2d, backend), [1, 1, cin, cout]);
  }

  if (cin <= IM2COL_MAX_CHANNELS) {
    const perImage = info.outHeight * info.outWidth * kh * kw * cin;
    const dW = sumOverBatchChunks([xPadded, dy], perImage, IM2COL_MAX_ELEMENTS, ([xc, dyc]) => {
      const taps: tf.Tensor4D[] = [];
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tapSlice(xc, i, j, info, stride));
      const rows = xc.shape[0] * info.outHeight * info.outWidth;
      // Channel order (i, j, cin) matches the filter layout [kh, kw, cin, cout].
      const cols = tf.reshape<tf.Rank.R2>(tf.concat(taps, 3), [rows, kh * kw * cin]);
      return matMulTN(cols, tf.reshape<tf.Rank.R2>(dyc, [rows, cout]), backend);
    });
    return tf.reshape(dW, [kh, kw, cin, cout]);
  }

  const perTap: tf.Tensor2D[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      perTap.push(
        tf.tidy(() => {
          const xs = tapSlice(xPadded, i, j, info, stride);
          return matMulTN(tf.reshape<tf.Rank.R2>(xs, [pixels, cin]), dy2d, backend);
        }),
      );
    }
  }
  return tf.reshape(tf.stack(perTap), [kh, kw, cin, cout]);
}

export function conv2DBackpropFilterConfig(backendName: KernelBackend): KernelConfig {
  const kernelFunc = ({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) => {
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    if (backendName === 'webgpu' && x.dtype === 'float32' && dy.dtype === 'float32') {
      assertChannelsLast('Conv2DBackpropFilter', a.dataFormat);
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        'channelsLast',
      );
      if (isPointwise(info) && info.inChannels <= POINTWISE_MAX_CHANNELS) {
        return pointwiseFilterGrad(backend as WebGPUBackend, x, dy, info.inChannels, info.outChannels);
      }
    }
    return tf.tidy(() => conv2DBackpropFilterImpl(asTensor<tf.Rank.R4>(x, 'x'), asTensor<tf.Rank.R4>(dy, 'dy'), a, backendName));
  };
  return { kernelName: tf.Conv2DBackpropFilter, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
