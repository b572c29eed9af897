/**
 * Adam on webgpu as two new kernels (wgsl/adam.ts), used by workers/train/adam.ts wherever they are registered:
 * AdamMoments {mv, g} -> mv' updates the moments of all variables at once (mv: every m then every v, flattened;
 * g: every gradient, flattened, in the same order); AdamValue {mv, value} -> value' updates one variable from its
 * stretch of the new moments (attrs offset and total). Attrs: the step's scalars (AdamScalars).
 */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { adamMoments, adamValue, type AdamScalars } from './wgsl/adam.ts';

export const ADAM_MOMENTS = 'AdamMoments';
export const ADAM_VALUE = 'AdamValue';

type Args = { inputs: NamedTensorInfoMap; attrs: unknown; backend: unknown };

export const adamMomentsWebgpuConfig: KernelConfig = {
  kernelName: ADAM_MOMENTS,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, attrs, backend }: Args) =>
    adamMoments(backend as WebGPUBackend, inputs.mv as TensorInfo, inputs.g as TensorInfo, attrs as AdamScalars)) as unknown as KernelFunc,
};

export const adamValueWebgpuConfig: KernelConfig = {
  kernelName: ADAM_VALUE,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, attrs, backend }: Args) => {
    const a = attrs as AdamScalars & { offset: number; total: number };
    return adamValue(backend as WebGPUBackend, inputs.mv as TensorInfo, inputs.value as TensorInfo, a, a.offset, a.total);
  }) as unknown as KernelFunc,
};
