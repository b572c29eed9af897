/**
 * AdamUpdate (new): one variable's Adam update as one kernel, inputs {m, v, g, value}, outputs [m', v', value'],
 * attrs the step's scalars (wgsl/adam.ts AdamScalars). Registered for webgpu, where tfjs' own update costs 14
 * dispatches per variable; workers/train/adam.ts uses it wherever it is registered.
 */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { adamUpdate, type AdamScalars } from './wgsl/adam.ts';

export const ADAM_UPDATE = 'AdamUpdate';

export const adamUpdateWebgpuConfig: KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs: unknown; backend: unknown }) => {
    const { m, v, g, value } = inputs as Record<'m' | 'v' | 'g' | 'value', TensorInfo>;
    return adamUpdate(backend as WebGPUBackend, { m, v, g, value }, attrs as AdamScalars);
  }) as unknown as KernelFunc,
};
