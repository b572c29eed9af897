/**
 * Training kernels for backends whose stock tfjs 4.22 kernels are missing or slow. Registered once per
 * thread (the kernel registry is per thread) by initBackend; they replace any stock kernel of the same name.
 *
 * wasm: the three below are missing (training fails without them) and the stock Conv2DBackpropInput is a
 *       naive loop.
 * webgpu: the stock filter gradients are correct but two orders of magnitude slower than the matMul they are.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.ts';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.ts';
import type { KernelBackend } from './tensors.ts';

export type { KernelBackend } from './tensors.ts';

export const TRAINING_KERNELS: Record<KernelBackend, readonly string[]> = {
  wasm: [
    tf.Conv2DBackpropFilter,
    tf.Conv2DBackpropInput,
    tf.DepthwiseConv2dNativeBackpropFilter,
    tf.DepthwiseConv2dNativeBackpropInput,
  ],
  webgpu: [tf.Conv2DBackpropFilter, tf.DepthwiseConv2dNativeBackpropFilter],
  // Not registered by initBackend: cpu is the reference the kernels are tested against. Tests may register
  // them there to check the formulations themselves.
  cpu: [
    tf.Conv2DBackpropFilter,
    tf.Conv2DBackpropInput,
    tf.DepthwiseConv2dNativeBackpropFilter,
    tf.DepthwiseConv2dNativeBackpropInput,
  ],
};

const FACTORIES: Record<string, (backend: KernelBackend) => KernelConfig> = {
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterConfig,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputConfig,
  [tf.DepthwiseConv2dNativeBackpropFilter]: depthwiseBackpropFilterConfig,
  [tf.DepthwiseConv2dNativeBackpropInput]: depthwiseBackpropInputConfig,
};

const registered = new Set<KernelBackend>();

/** Registers the training kernels for `backend` (idempotent); returns the kernel names it holds. */
export function registerTrainingKernels(backend: KernelBackend): readonly string[] {
  const names = TRAINING_KERNELS[backend];
  if (registered.has(backend)) return names;
  for (const name of names) {
    if (tf.getKernel(name, backend) !== undefined) tf.unregisterKernel(name, backend);
    tf.registerKernel(FACTORIES[name](backend));
  }
  registered.add(backend);
  return names;
}
