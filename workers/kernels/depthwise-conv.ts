/**
 * DepthwiseConv2dNative (the forward depthwise convolution) for wasm with channel multiplier 1 and horizontal
 * stride 1, as one SIMD pass (simd/kernels.c). XNNPACK's kernel vectorises over channels, which leaves most of
 * each vector empty for an RGB input (3 channels: the baseline's first layer) and runs at about half this
 * speed on 32 channels. Other cases go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DepthwiseConv2dNativeAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd/index.ts';

export function depthwiseConvWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo; filter: TensorInfo }; attrs: DepthwiseConv2dNativeAttrs; backend: BackendWasm }) => {
    const {
      inputs: { x, filter },
      attrs,
      backend,
    } = args;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
      'channelsLast',
    );
    const nhwc = attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
    if (!nhwc || filter.shape[3] !== 1 || info.strideWidth !== 1 || x.dtype !== 'float32' || filter.dtype !== 'float32') {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const out = backend.makeOutput(info.outShape, 'float32');
    simdKernels(backend).depthwiseConv(
      x,
      filter,
      out,
      {
        n: info.batchSize,
        h: info.inHeight,
        w: info.inWidth,
        c: info.inChannels,
        outHeight: info.outHeight,
        outWidth: info.outWidth,
        strideHeight: info.strideHeight,
        dilationHeight: info.dilationHeight,
        dilationWidth: info.dilationWidth,
        top: info.padInfo.top,
        left: info.padInfo.left,
        kh: info.filterHeight,
        kw: info.filterWidth,
      },
      false,
    );
    return out;
  };
  return { kernelName: tf.DepthwiseConv2dNative, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
