/**
 * Conv2D and FusedConv2D for webgpu when the convolution is pointwise: with at most 8 input channels a direct
 * WGSL kernel (wgsl/pointwise-conv.ts), else one matMul over all the batch's pixels. (The stock kernel runs a
 * batch of per-image products, [N, H*W, cin] x [cin, cout]: Xception's exit flow at 224 px multiplies 16 times
 * 49 rows, too few to fill a GPU's tiles.) Every other convolution goes to the stock kernel.
 *
 * Conv2D and FusedConv2D for wasm when the convolution is a plain matrix product -- a 1x1 filter with stride 1
 * and no padding (every pointwise convolution of the study's models): out [pixels, cout] = x [pixels, cin] x
 * W [cin, cout], plus the bias and a ReLU for FusedConv2D, by the SIMD kernel gemm_nn reading x and W in place
 * (simd/kernels.c), about 1.3x the speed of XNNPACK's convolution here. Every other convolution goes to the
 * stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DAttrs, FusedConv2DAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { simdKernels } from './simd/index.ts';
import { asTensor } from './tensors.ts';
import { POINTWISE_MAX_CHANNELS, pointwiseConv } from './wgsl/pointwise-conv.ts';

/** A 1x1 filter, stride 1, no padding: the convolution is a matrix product over pixels. */
export function isPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    top === 0 &&
    bottom === 0 &&
    left === 0 &&
    right === 0
  );
}

/** The convolution's geometry if it is a pointwise one on NHWC float32 data, else null. */
function pointwiseInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs) {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const nhwc = attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
  return isPointwise(info) && nhwc && x.dtype === 'float32' && filter.dtype === 'float32' ? info : null;
}

export function conv2DWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo; filter: TensorInfo }; attrs: Conv2DAttrs; backend: BackendWasm }) => {
    const {
      inputs: { x, filter },
      attrs,
      backend,
    } = args;
    const info = pointwiseInfo(x, filter, attrs);
    if (info === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const out = backend.makeOutput(info.outShape, 'float32');
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    simdKernels(backend).gemmNN(x, filter, false, out, pixels, info.inChannels, info.outChannels);
    return out;
  };
  return { kernelName: tf.Conv2D, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

interface FusedConv2DArgs<B> {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  attrs: FusedConv2DAttrs;
  backend: B;
}

/** The geometry of a pointwise FusedConv2D with a per-channel bias (or none) and a linear or ReLU output, else null. */
function fusedPointwiseInfo({ inputs: { x, filter, bias, preluActivationWeights }, attrs }: FusedConv2DArgs<unknown>) {
  const info = pointwiseInfo(x, filter, attrs);
  const plainBias = bias === undefined || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === info?.outChannels);
  const activation = attrs.activation === 'linear' || attrs.activation === 'relu';
  return info !== null && plainBias && activation && preluActivationWeights === undefined ? info : null;
}

function pointwiseWebgpu(
  backend: WebGPUBackend,
  { x, filter, bias }: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo },
  relu: boolean,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { inChannels: cin, outChannels: cout } = info;
  if (cin <= POINTWISE_MAX_CHANNELS && cout % 4 === 0) return pointwiseConv(backend, x, filter, bias, relu, info);
  return tf.tidy(() => {
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    const inputs: tf.NamedTensorMap = {
      a: tf.reshape(asTensor(x, 'x'), [pixels, cin]),
      b: tf.reshape(asTensor(filter, 'filter'), [cin, cout]),
    };
    if (bias !== undefined) inputs.bias = asTensor(bias, 'bias');
    // The kernel itself: tf.fused.matMul splits into matMul, add and relu whenever a gradient is being recorded,
    // as it is around every training forward pass.
    const attrs = { transposeA: false, transposeB: false, activation: relu ? 'relu' : 'linear' };
    const y = tf.engine().runKernel(tf._FusedMatMul, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    return tf.reshape(y, info.outShape);
  });
}

export function conv2DWebgpuConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo; filter: TensorInfo }; attrs: Conv2DAttrs; backend: WebGPUBackend }) => {
    const info = pointwiseInfo(args.inputs.x, args.inputs.filter, args.attrs);
    if (info === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    return pointwiseWebgpu(args.backend, args.inputs, false, info);
  };
  return { kernelName: tf.Conv2D, backendName: 'webgpu', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function fusedConv2DWebgpuConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: FusedConv2DArgs<WebGPUBackend>) => {
    const info = fusedPointwiseInfo(args);
    if (info === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    return pointwiseWebgpu(args.backend, args.inputs, args.attrs.activation === 'relu', info);
  };
  return { kernelName: tf.FusedConv2D, backendName: 'webgpu', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function fusedConv2DWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: FusedConv2DArgs<BackendWasm>) => {
    const {
      inputs: { x, filter, bias },
      attrs,
      backend,
    } = args;
    const info = fusedPointwiseInfo(args);
    if (info === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
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
