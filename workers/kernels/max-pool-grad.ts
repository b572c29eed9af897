/**
 * MaxPoolGrad for wasm, replacing the stock kernel, which drops the gradient of windows whose values are all
 * <= 0 (see maxPoolGradLoop) and so trains Xception's max pools after batch norm wrongly.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { maxPoolGradLoop } from './loops.ts';
import { heapView, zeroOutput } from './wasm-heap.ts';

function maxPoolGradWasm({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs?: unknown; backend: unknown }) {
  const wasm = backend as BackendWasm;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode,
  );
  const dx = zeroOutput(wasm, input.shape);
  maxPoolGradLoop(heapView(wasm, input), heapView(wasm, dy), heapView(wasm, dx), info);
  return dx;
}

export const maxPoolGradWasmConfig: KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelFunc,
};
