/**
 * DepthwiseConv2dNativeBackpropFilter as k*k elementwise products reduced over batch and space:
 *   dW[i, j, c, m] = sum over (n, oh, ow) of x_padded[n, oh*s + i*d, ow*s + j*d, c] * dy[n, oh, ow, c*M + m]
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  KernelConfig,
  KernelFunc,
  NamedTensorInfoMap,
} from '@tensorflow/tfjs-core';
import { asTensor, padOrCrop, pair, tapSlice, type KernelBackend } from './tensors.ts';

export function depthwiseBackpropFilterImpl(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs,
): tf.Tensor4D {
  const dilation = pair(attrs.dilations);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape, attrs.filterShape, attrs.strides, dilation, attrs.pad, attrs.dimRoundingMode, true, 'channelsLast',
  );
  const { filterHeight: kh, filterWidth: kw, inChannels: c, strideHeight, strideWidth } = info;
  const m = attrs.filterShape[3];
  const { top, bottom, left, right } = info.padInfo;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const xPadded = padOrCrop(x, top, bottom, left, right);
  const dy3d = tf.reshape(dy, [pixels, c, m]);

  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const xs = tf.reshape(tapSlice(xPadded, i, j, info, [strideHeight, strideWidth], dilation), [pixels, c, 1]);
      taps.push(tf.sum(tf.mul(xs, dy3d), 0));
    }
  }
  return tf.reshape(tf.stack(taps), [kh, kw, c, m]);
}

export function depthwiseBackpropFilterConfig(backendName: KernelBackend): KernelConfig {
  const kernelFunc = ({ inputs, attrs }: { inputs: NamedTensorInfoMap; attrs?: unknown }) =>
    tf.tidy(() =>
      depthwiseBackpropFilterImpl(
        asTensor<tf.Rank.R4>(inputs.x, 'x'),
        asTensor<tf.Rank.R4>(inputs.dy, 'dy'),
        attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs,
      ),
    );
  return {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
