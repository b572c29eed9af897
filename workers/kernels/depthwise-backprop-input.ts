/**
 * DepthwiseConv2dNativeBackpropInput as a stride-1 depthwise convolution of dy (zeros inserted between its
 * values for stride > 1, padded by (k-1)*dilation - pad) with the spatially flipped filter. A channel
 * multiplier M > 1 convolves each of the C*M output channels and sums the M that come from one input channel.
 * On wasm, stride 1 and M = 1 (every depthwise layer of the study's models but MobileNetV2's strided ones) run
 * as one SIMD pass with no padded copy of dy (simd/kernels.c). On webgpu, stride 1 runs the formulation below,
 * the convolution padding dy itself: 1.4-6x the stock kernel on lavapipe at the baseline's shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DepthwiseConv2dNativeBackpropInputAttrs, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd/index.ts';
import { asTensor, dilateSpatial, padOrCrop, pair, type KernelBackend } from './tensors.ts';

export function depthwiseBackpropInputImpl(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: DepthwiseConv2dNativeBackpropInputAttrs): tf.Tensor4D {
  const [dh, dw] = pair(attrs.dilations ?? 1);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape,
    attrs.strides,
    [dh, dw],
    attrs.pad,
    attrs.dimRoundingMode,
    true,
    'channelsLast',
  );
  const { filterHeight: kh, filterWidth: kw, inChannels: c, inHeight, inWidth, batchSize: n } = info;
  const m = filter.shape[3];
  const { top, left } = info.padInfo;

  const spread = dilateSpatial(dy, info.strideHeight, info.strideWidth);
  const [, sh, sw] = spread.shape;
  const padTop = (kh - 1) * dh - top;
  const padLeft = (kw - 1) * dw - left;
  const padBottom = inHeight + (kh - 1) * dh - sh - padTop;
  const padRight = inWidth + (kw - 1) * dw - sw - padLeft;
  const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
  // The convolution pads dy itself (no padded copy) where every amount is >= 0, as 'same' and 'valid' give.
  const dx =
    Math.min(padTop, padBottom, padLeft, padRight) >= 0
      ? tf.depthwiseConv2d(
          spread,
          flipped,
          1,
          [
            [0, 0],
            [padTop, padBottom],
            [padLeft, padRight],
            [0, 0],
          ],
          'NHWC',
          [dh, dw],
        )
      : tf.depthwiseConv2d(padOrCrop(spread, padTop, padBottom, padLeft, padRight), flipped, 1, 'valid', 'NHWC', [dh, dw]);
  if (m === 1) return dx;
  return tf.sum(tf.reshape(dx, [n, inHeight, inWidth, c, m]), 4);
}

function depthwiseBackpropInputWasm(
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: DepthwiseConv2dNativeBackpropInputAttrs,
  backend: BackendWasm,
): TensorInfo | null {
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
    'channelsLast',
  );
  if (filter.shape[3] !== 1 || info.strideHeight !== 1 || info.strideWidth !== 1 || dy.dtype !== 'float32') return null;
  const { filterHeight: kh, filterWidth: kw, dilationHeight: dh, dilationWidth: dw } = info;
  const dx = backend.makeOutput(attrs.inputShape, 'float32');
  // dx is the convolution of dy by the rotated filter, offset by (k-1)*dilation - pad.
  simdKernels(backend).depthwiseConv(
    dy,
    filter,
    dx,
    {
      n: info.batchSize,
      h: info.outHeight,
      w: info.outWidth,
      c: info.inChannels,
      outHeight: info.inHeight,
      outWidth: info.inWidth,
      strideHeight: 1,
      dilationHeight: dh,
      dilationWidth: dw,
      top: (kh - 1) * dh - info.padInfo.top,
      left: (kw - 1) * dw - info.padInfo.left,
      kh,
      kw,
    },
    true,
  );
  return dx;
}

export function depthwiseBackpropInputConfig(backendName: KernelBackend, stock?: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) => {
    const { inputs, attrs, backend } = args;
    const a = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    if (backendName === 'wasm') {
      const dx = depthwiseBackpropInputWasm(inputs.dy!, inputs.filter!, a, backend as BackendWasm);
      if (dx !== null) return dx;
    }
    // webgpu's Pad cannot build the rank-6 tensor that spreads dy for stride > 1 (its shader fails to compile
    // and the result reads as zeros), so strided gradients stay with the stock kernel there.
    if (backendName === 'webgpu' && stock !== undefined && pair(a.strides).some((s) => s !== 1)) {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    return tf.tidy(() => depthwiseBackpropInputImpl(asTensor<tf.Rank.R4>(inputs.dy, 'dy'), asTensor<tf.Rank.R4>(inputs.filter, 'filter'), a));
  };
  return {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
