/**
 * Conv2DBackpropInput (the gradient of a convolution w.r.t. its input) built on the backend's fast kernels:
 * - 1x1: one matMul dy [pixels, cout] x W^T, spread back onto the input grid for stride > 1;
 * - kxk: a stride-1 "full" convolution of dy (zeros inserted between its values for stride > 1, padded by
 *   k-1-pad) with the filter rotated by 180 degrees and its channel axes swapped.
 * On wasm the stock kernel is a naive loop; these run on XNNPACK's matMul and convolution, except the 1x1
 * stride-1 case, which is one SIMD matrix product reading dy and the filter in place (simd/kernels.c). On webgpu
 * only pointwise convolutions of few input channels are replaced (a WGSL pass).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { isPointwise } from './conv2d.ts';
import { simdKernels } from './simd/index.ts';
import { POINTWISE_MAX_CHANNELS, pointwiseConvInputGrad } from './wgsl/pointwise-conv.ts';
import { asTensor, assertChannelsLast, dilateSpatial, matMulNT, padOrCrop, type KernelBackend } from './tensors.ts';

export function conv2DBackpropInputImpl(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Conv2DBackpropInputAttrs, backend: KernelBackend): tf.Tensor4D {
  assertChannelsLast('Conv2DBackpropInput', attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout, inHeight, inWidth } = info;
  const { top, left } = info.padInfo;
  const [n, oh, ow] = dy.shape;

  if (kh === 1 && kw === 1) {
    const w2d = tf.reshape<tf.Rank.R2>(filter, [cin, cout]);
    const dy2d = tf.reshape<tf.Rank.R2>(dy, [n * oh * ow, cout]);
    const dxs = tf.reshape<tf.Rank.R4>(matMulNT(dy2d, w2d, backend), [n, oh, ow, cin]);
    // The values belong at padded-input rows oh*stride; put them on the input grid.
    const spread = dilateSpatial(dxs, info.strideHeight, info.strideWidth);
    const [, sh, sw] = spread.shape;
    return padOrCrop(spread, -top, inHeight - (sh - top), -left, inWidth - (sw - left));
  }

  const spread = dilateSpatial(dy, info.strideHeight, info.strideWidth);
  const [, sh, sw] = spread.shape;
  const padTop = kh - 1 - top;
  const padLeft = kw - 1 - left;
  const full = padOrCrop(spread, padTop, inHeight + kh - 1 - sh - padTop, padLeft, inWidth + kw - 1 - sw - padLeft);
  const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  return tf.conv2d(full, rotated as tf.Tensor4D, 1, 'valid');
}

/** The geometry of a pointwise convolution (1x1, stride 1, no padding) on float32 data, else null. */
function pointwiseInfo(dy: TensorInfo, filter: TensorInfo, attrs: Conv2DBackpropInputAttrs): tf.backend_util.Conv2DInfo | null {
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return isPointwise(info) && dy.dtype === 'float32' && filter.dtype === 'float32' ? info : null;
}

/** On wasm, a pointwise convolution: dx = dy x W^T in one SIMD matrix product, in place. */
function pointwiseBackpropInputWasm(dy: TensorInfo, filter: TensorInfo, attrs: Conv2DBackpropInputAttrs, backend: BackendWasm): TensorInfo | null {
  const info = pointwiseInfo(dy, filter, attrs);
  if (info === null) return null;
  const dx = backend.makeOutput(attrs.inputShape, 'float32');
  const pixels = info.batchSize * info.inHeight * info.inWidth;
  simdKernels(backend).gemmNN(dy, filter, true, dx, pixels, info.outChannels, info.inChannels);
  return dx;
}

/** On webgpu, the input gradient of a pointwise convolution over at most 8 input channels (wgsl/pointwise-conv.ts). */
function pointwiseBackpropInputWebgpu(dy: TensorInfo, filter: TensorInfo, attrs: Conv2DBackpropInputAttrs, backend: WebGPUBackend): TensorInfo | null {
  const info = pointwiseInfo(dy, filter, attrs);
  if (info === null || info.inChannels > POINTWISE_MAX_CHANNELS || info.outChannels % 4 !== 0) return null;
  return pointwiseConvInputGrad(backend, dy, filter, info);
}

/**
 * wasm: the SIMD product for pointwise convolutions, else the formulation above. webgpu: the WGSL kernel for
 * pointwise convolutions of few channels, else the stock kernel (a tiled product, faster there than the above).
 */
export function conv2DBackpropInputConfig(backendName: KernelBackend, stock?: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) => {
    const { inputs, attrs, backend } = args;
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    assertChannelsLast('Conv2DBackpropInput', a.dataFormat);
    if (backendName === 'wasm') {
      const dx = pointwiseBackpropInputWasm(inputs.dy!, inputs.filter!, a, backend as BackendWasm);
      if (dx !== null) return dx;
    }
    if (backendName === 'webgpu' && stock !== undefined) {
      return (
        pointwiseBackpropInputWebgpu(inputs.dy!, inputs.filter!, a, backend as WebGPUBackend) ?? stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0])
      );
    }
    return tf.tidy(() => conv2DBackpropInputImpl(asTensor<tf.Rank.R4>(inputs.dy, 'dy'), asTensor<tf.Rank.R4>(inputs.filter, 'filter'), a, backendName));
  };
  return { kernelName: tf.Conv2DBackpropInput, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
