/**
 * MaxPool for wasm over 2x2 windows with stride 2 and no padding (the baseline's pools) on a multiple of 4
 * channels: one SIMD pass (simd/kernels.c), about twice XNNPACK's speed on the baseline's first pool. Other
 * pools go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, MaxPoolAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tiles } from './max-pool-grad.ts';
import { simdKernels } from './simd/index.ts';

export function maxPoolWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; attrs: MaxPoolAttrs; backend: BackendWasm }) => {
    const {
      inputs: { x },
      attrs,
      backend,
    } = args;
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    if (!tiles(info) || info.filterHeight !== 2 || info.filterWidth !== 2 || info.inChannels % 4 !== 0 || x.dtype !== 'float32') {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const out = backend.makeOutput(info.outShape, 'float32');
    const simd = simdKernels(backend);
    simd.exports.max_pool_2x2(simd.ptr(x), simd.ptr(out), info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth);
    return out;
  };
  return { kernelName: tf.MaxPool, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
