/**
 * Training kernels for backends whose stock tfjs 4.22 kernels are missing or slow. Registered once per
 * thread (the kernel registry is per thread) by initBackend; they replace any stock kernel of the same name.
 *
 * wasm: Conv2DBackpropFilter and the two depthwise gradients are missing (training fails without them); the
 *       stock Conv2DBackpropInput is a naive loop; the stock MaxPoolGrad loses gradients (see max-pool-grad.ts).
 * webgpu: the stock filter gradients are correct but two orders of magnitude slower than the matMul they are.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.ts';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.ts';
import { maxPoolGradWasmConfig } from './max-pool-grad.ts';
import type { KernelBackend } from './tensors.ts';

export type { KernelBackend } from './tensors.ts';

export const TRAINING_KERNELS: Record<'wasm' | 'webgpu', readonly string[]> = {
  wasm: [
    tf.Conv2DBackpropFilter,
    tf.Conv2DBackpropInput,
    tf.DepthwiseConv2dNativeBackpropFilter,
    tf.DepthwiseConv2dNativeBackpropInput,
    tf.MaxPoolGrad,
  ],
  webgpu: [tf.Conv2DBackpropFilter, tf.DepthwiseConv2dNativeBackpropFilter],
};

const FACTORIES: Record<string, (backend: KernelBackend) => KernelConfig> = {
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterConfig,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputConfig,
  [tf.DepthwiseConv2dNativeBackpropFilter]: depthwiseBackpropFilterConfig,
  [tf.DepthwiseConv2dNativeBackpropInput]: depthwiseBackpropInputConfig,
  [tf.MaxPoolGrad]: (backend) => {
    if (backend !== 'wasm') throw new Error(`no MaxPoolGrad training kernel for ${backend}`);
    return maxPoolGradWasmConfig;
  },
};

const registered = new Set<string>();
const replaced = new Map<string, KernelConfig>();

/** The stock kernel a training kernel replaced in this thread, if there was one (for benchmarks). */
export function stockKernel(name: string, backend: 'wasm' | 'webgpu'): KernelConfig | undefined {
  return replaced.get(`${backend}/${name}`);
}

/** Registers the training kernels for `backend` (idempotent); returns the kernel names it holds. */
export function registerTrainingKernels(backend: 'wasm' | 'webgpu'): readonly string[] {
  const names = TRAINING_KERNELS[backend];
  if (registered.has(backend)) return names;
  for (const name of names) {
    const stock = tf.getKernel(name, backend);
    if (stock !== undefined) {
      replaced.set(`${backend}/${name}`, stock);
      tf.unregisterKernel(name, backend);
    }
    tf.registerKernel(FACTORIES[name](backend));
  }
  registered.add(backend);
  return names;
}
