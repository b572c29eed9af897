/**
 * MaxPoolGrad. On webgpu, windows that tile the input run one WGSL pass (wgsl/max-pool-grad.ts); other pools go
 * to the stock kernel. On wasm it replaces the stock kernel, which drops the gradient of windows whose values are
 * all <= 0 (see maxPoolGradLoop) and so trains Xception's max pools after batch norm wrongly. Windows that tile
 * the input (the baseline's 2x2/2 valid pools) take a one-pass loop that writes dx without zero-filling it, in
 * SIMD (simd/kernels.c) for 2x2 windows over a multiple of 4 channels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { maxPoolGradLoop, maxPoolGradTiledLoop, zeroUncovered } from './loops.ts';
import { simdKernels } from './simd/index.ts';
import { heapView, zeroOutput } from './wasm-heap.ts';
import { maxPoolGradTiled } from './wgsl/max-pool-grad.ts';

type Pool2DInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;

/** Windows side by side, none overlapping, no padding: every input position is in at most one window. */
export function tiles(info: Pool2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.strideHeight === info.filterHeight &&
    info.strideWidth === info.filterWidth &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    top === 0 &&
    bottom === 0 &&
    left === 0 &&
    right === 0
  );
}

function poolInfo(input: TensorInfo, attrs: unknown): Pool2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as MaxPoolGradAttrs;
  return tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}

function maxPoolGradWasm({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) {
  const wasm = backend as BackendWasm;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const info = poolInfo(input, attrs);
  if (tiles(info)) {
    const dx = wasm.makeOutput(input.shape, 'float32');
    if (info.filterHeight === 2 && info.filterWidth === 2 && info.inChannels % 4 === 0) {
      const simd = simdKernels(wasm);
      const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
      simd.exports.max_pool_grad_2x2(simd.ptr(input), simd.ptr(dy), simd.ptr(dx), batchSize, inHeight, inWidth, inChannels, outHeight, outWidth);
      zeroUncovered(heapView(wasm, dx), info);
    } else {
      maxPoolGradTiledLoop(heapView(wasm, input), heapView(wasm, dy), heapView(wasm, dx), info);
    }
    return dx;
  }
  const dx = zeroOutput(wasm, input.shape);
  maxPoolGradLoop(heapView(wasm, input), heapView(wasm, dy), heapView(wasm, dx), info);
  return dx;
}

export const maxPoolGradWasmConfig: KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelFunc,
};

export function maxPoolGradWebgpuConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const info = poolInfo(input, args.attrs);
    if (!tiles(info) || input.dtype !== 'float32') return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    return maxPoolGradTiled(args.backend as WebGPUBackend, input, dy, info);
  };
  return { kernelName: tf.MaxPoolGrad, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc };
}
