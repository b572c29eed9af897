/**
 * The ReLU gradient as one kernel. tfjs-core's gradient for Relu is dy * cast(step(x)): two passes over the
 * activation (Step, then Multiply), the largest tensors of a training step (the baseline's first layer at 224 px
 * holds 50M values). On wasm and webgpu the Relu gradient runs ReluGrad instead, one pass (SIMD on wasm, WGSL
 * on webgpu); every other backend keeps tfjs' own formula. The gradient that routes to it is in gradients.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { simdKernels } from './simd/index.ts';
import { reluGrad } from './wgsl/relu-grad.ts';

export const RELU_GRAD = 'ReluGrad';

function reluGradWasm({ inputs, backend }: { inputs: NamedTensorInfoMap; backend: unknown }): TensorInfo {
  const wasm = backend as BackendWasm;
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const simd = simdKernels(wasm);
  const dx = wasm.makeOutput(x.shape, 'float32');
  simd.exports.relu_grad(simd.ptr(dy), simd.ptr(x), simd.ptr(dx), tf.util.sizeFromShape(x.shape));
  return dx;
}

export const reluGradWasmConfig: KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: reluGradWasm as unknown as KernelFunc,
};

export const reluGradWebgpuConfig: KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, backend }: { inputs: NamedTensorInfoMap; backend: unknown }) =>
    reluGrad(backend as WebGPUBackend, inputs.dy as TensorInfo, inputs.x as TensorInfo)) as unknown as KernelFunc,
};

/** Whether the current backend has the ReluGrad kernel. */
export function hasReluGrad(): boolean {
  return tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined;
}
