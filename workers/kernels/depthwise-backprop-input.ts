/**
 * DepthwiseConv2dNativeBackpropInput as a stride-1 depthwise convolution of dy (zeros inserted between its
 * values for stride > 1, padded by (k-1)*dilation - pad) with the spatially flipped filter. A channel
 * multiplier M > 1 convolves each of the C*M output channels and sums the M that come from one input channel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedTensorInfoMap,
} from '@tensorflow/tfjs-core';
import { asTensor, dilateSpatial, padOrCrop, pair, type KernelBackend } from './tensors.ts';

export function depthwiseBackpropInputImpl(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: DepthwiseConv2dNativeBackpropInputAttrs,
): tf.Tensor4D {
  const [dh, dw] = pair(attrs.dilations);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape, attrs.strides, [dh, dw], attrs.pad, attrs.dimRoundingMode, true, 'channelsLast',
  );
  const { filterHeight: kh, filterWidth: kw, inChannels: c, inHeight, inWidth, batchSize: n } = info;
  const m = filter.shape[3];
  const { top, left } = info.padInfo;

  const spread = dilateSpatial(dy, info.strideHeight, info.strideWidth);
  const [, sh, sw] = spread.shape;
  const padTop = (kh - 1) * dh - top;
  const padLeft = (kw - 1) * dw - left;
  const full = padOrCrop(
    spread, padTop, inHeight + (kh - 1) * dh - sh - padTop, padLeft, inWidth + (kw - 1) * dw - sw - padLeft,
  );
  const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
  const dx = tf.depthwiseConv2d(full, flipped, 1, 'valid', 'NHWC', [dh, dw]);
  if (m === 1) return dx;
  return tf.sum(tf.reshape(dx, [n, inHeight, inWidth, c, m]), 4);
}

export function depthwiseBackpropInputConfig(backendName: KernelBackend): KernelConfig {
  const kernelFunc = ({ inputs, attrs }: { inputs: NamedTensorInfoMap; attrs?: unknown }) =>
    tf.tidy(() =>
      depthwiseBackpropInputImpl(
        asTensor<tf.Rank.R4>(inputs.dy, 'dy'),
        asTensor<tf.Rank.R4>(inputs.filter, 'filter'),
        attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs,
      ),
    );
  return {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
