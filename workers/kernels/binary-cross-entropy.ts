/**
 * Binary cross-entropy as two new kernels, used by workers/train/step.ts wherever they are registered (webgpu,
 * wgsl/binary-cross-entropy.ts): BinaryCrossEntropy {y, p} -> the mean loss, shape [1]; BinaryCrossEntropyGrad
 * {dy, y, p} -> d loss / d p. Attr epsilon: the clip of p to [epsilon, 1 - epsilon].
 */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { binaryCrossEntropyGrad, binaryCrossEntropyLoss } from './wgsl/binary-cross-entropy.ts';

export const BINARY_CROSS_ENTROPY = 'BinaryCrossEntropy';
export const BINARY_CROSS_ENTROPY_GRAD = 'BinaryCrossEntropyGrad';

type Args = { inputs: NamedTensorInfoMap; attrs: { epsilon: number }; backend: unknown };

export const binaryCrossEntropyWebgpuConfig: KernelConfig = {
  kernelName: BINARY_CROSS_ENTROPY,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, attrs, backend }: Args) =>
    binaryCrossEntropyLoss(backend as WebGPUBackend, inputs.y as TensorInfo, inputs.p as TensorInfo, attrs.epsilon)) as unknown as KernelFunc,
};

export const binaryCrossEntropyGradWebgpuConfig: KernelConfig = {
  kernelName: BINARY_CROSS_ENTROPY_GRAD,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, attrs, backend }: Args) =>
    binaryCrossEntropyGrad(
      backend as WebGPUBackend,
      inputs.dy as TensorInfo,
      inputs.y as TensorInfo,
      inputs.p as TensorInfo,
      attrs.epsilon,
    )) as unknown as KernelFunc,
};
