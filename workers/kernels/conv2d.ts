/**
 * Conv2D and FusedConv2D for wasm when the convolution is a plain matrix product -- a 1x1 filter with stride 1
 * and no padding (every pointwise convolution of the study's models): out [pixels, cout] = x [pixels, cin] x
 * W [cin, cout], plus the bias and a ReLU for FusedConv2D, by the SIMD kernel gemm_nn reading x and W in place
 * (simd/kernels.c), about 1.3x the speed of XNNPACK's convolution here. Every other convolution goes to the
 * stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DAttrs, FusedConv2DAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd/index.ts';

/** A 1x1 filter, stride 1, no padding: the convolution is a matrix product over pixels. */
export function isPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    top === 0 && bottom === 0 && left === 0 && right === 0
  );
}

/** The convolution's geometry if it is a pointwise one on NHWC float32 data, else null. */
function pointwiseInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs) {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides,
    attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
  const nhwc = attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
  return isPointwise(info) && nhwc && x.dtype === 'float32' && filter.dtype === 'float32' ? info : null;
}

export function conv2DWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo; filter: TensorInfo }; attrs: Conv2DAttrs; backend: BackendWasm }) => {
    const { inputs: { x, filter }, attrs, backend } = args;
    const info = pointwiseInfo(x, filter, attrs);
    if (info === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const out = backend.makeOutput(info.outShape, 'float32');
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    simdKernels(backend).gemmNN(x, filter, false, out, pixels, info.inChannels, info.outChannels);
    return out;
  };
  return { kernelName: tf.Conv2D, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function fusedConv2DWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    attrs: FusedConv2DAttrs;
    backend: BackendWasm;
  }) => {
    const { inputs: { x, filter, bias, preluActivationWeights }, attrs, backend } = args;
    const info = pointwiseInfo(x, filter, attrs);
    const plainBias = bias === undefined || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === info?.outChannels);
    const activation = attrs.activation === 'linear' || attrs.activation === 'relu';
    if (info === null || !plainBias || !activation || preluActivationWeights !== undefined) {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const out = backend.makeOutput(info.outShape, 'float32');
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    simdKernels(backend).gemmNN(x, filter, false, out, pixels, info.inChannels, info.outChannels, {
      bias,
      relu: attrs.activation === 'relu',
    });
    return out;
  };
  return { kernelName: tf.FusedConv2D, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
