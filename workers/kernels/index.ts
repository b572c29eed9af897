/**
 * Training kernels for backends whose stock tfjs 4.22 kernels are missing or slow. Registered once per
 * thread (the kernel registry is per thread) by initBackend; they replace any stock kernel of the same name.
 *
 * wasm: Conv2DBackpropFilter and the two depthwise gradients are missing (training fails without them); the
 *       stock Conv2DBackpropInput is a naive loop; the stock MaxPoolGrad loses gradients (see max-pool-grad.ts).
 *       Stock kernels that are slow on training-sized tensors are replaced too, falling back to the stock kernel
 *       for the cases they do not speed up: Transpose, Sum, Add (a bias), and the copying Identity and Cast. The
 *       Relu gradient runs one fused kernel, ReluGrad (relu-grad.ts). The heavy loops are WebAssembly SIMD
 *       working in place on the backend's heap (simd/kernels.c).
 * webgpu: the stock filter gradients are correct but two orders of magnitude slower than the matMul they are.
 *       The depthwise filter gradient, the tiling max-pool gradient, sums over leading axes (bias gradients),
 *       pointwise convolutions of few channels (forward and both gradients) and ReluGrad are WGSL shaders (wgsl/),
 *       each handing the other cases to the stock kernel or a tf-ops formulation; other pointwise convolutions
 *       run as one matMul over all pixels. New kernels: Adam updates the moments of all variables in one pass and
 *       each variable in one more (adam.ts); a batch of images goes from bytes to augmented float input in one
 *       pass, ImageBatch (image-batch.ts); binary cross-entropy and its gradient in one pass each
 *       (binary-cross-entropy.ts); dropout with its mask drawn on the GPU (dropout.ts). A product that tfjs
 *       would split into float atomic adds sums in groups instead (mat-mul.ts). See README.md for the table.
 * Both: the Relu gradient runs ReluGrad, and the Mean and Sigmoid gradients make no tensor on the host (gradients.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.ts';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.ts';
import { maxPoolWasmConfig } from './max-pool.ts';
import { maxPoolGradWasmConfig, maxPoolGradWebgpuConfig } from './max-pool-grad.ts';
import { ADAM_MOMENTS, ADAM_VALUE, adamMomentsWebgpuConfig, adamValueWebgpuConfig } from './adam.ts';
import { IMAGE_BATCH, imageBatchWebgpuConfig } from './image-batch.ts';
import { SEEDED_DROPOUT, seededDropoutWebgpuConfig } from './dropout.ts';
import { BINARY_CROSS_ENTROPY, BINARY_CROSS_ENTROPY_GRAD, binaryCrossEntropyGradWebgpuConfig, binaryCrossEntropyWebgpuConfig } from './binary-cross-entropy.ts';
import { addWasmConfig } from './add.ts';
import { conv2DWasmConfig, conv2DWebgpuConfig, fusedConv2DWasmConfig, fusedConv2DWebgpuConfig } from './conv2d.ts';
import { depthwiseConvWasmConfig } from './depthwise-conv.ts';
import { batchMatMulWebgpuConfig, fusedMatMulWebgpuConfig } from './mat-mul.ts';
import { useGradients } from './gradients.ts';
import { RELU_GRAD, reluGradWasmConfig, reluGradWebgpuConfig } from './relu-grad.ts';
import { castWasmConfig, identityWasmConfig } from './shared-data.ts';
import { sumWasmConfig, sumWebgpuConfig } from './sum.ts';
import type { KernelBackend } from './tensors.ts';
import { transposeWasmConfig } from './transpose.ts';

export type { KernelBackend } from './tensors.ts';

export const TRAINING_KERNELS: Record<'wasm' | 'webgpu', readonly string[]> = {
  wasm: [
    tf.Conv2DBackpropFilter,
    tf.Conv2DBackpropInput,
    tf.DepthwiseConv2dNativeBackpropFilter,
    tf.DepthwiseConv2dNativeBackpropInput,
    tf.MaxPoolGrad,
    tf.Transpose,
    tf.Sum,
    tf.Identity,
    tf.Cast,
    tf.Add,
    tf.DepthwiseConv2dNative,
    tf.Conv2D,
    tf.FusedConv2D,
    tf.MaxPool,
    RELU_GRAD,
  ],
  webgpu: [
    tf.Conv2DBackpropFilter,
    tf.DepthwiseConv2dNativeBackpropFilter,
    tf.MaxPoolGrad,
    tf.Sum,
    tf.Conv2D,
    tf.FusedConv2D,
    tf.DepthwiseConv2dNativeBackpropInput,
    tf.Conv2DBackpropInput,
    tf.BatchMatMul,
    tf._FusedMatMul,
    RELU_GRAD,
    ADAM_MOMENTS,
    ADAM_VALUE,
    IMAGE_BATCH,
    BINARY_CROSS_ENTROPY,
    BINARY_CROSS_ENTROPY_GRAD,
    SEEDED_DROPOUT,
  ],
};

/** Builds a kernel for `backend`; `stock` is the kernel it replaces (the wasm ones fall back to it). */
type Factory = (backend: KernelBackend, stock: KernelConfig | undefined) => KernelConfig;

function wasmOnly(name: string, make: (stock: KernelConfig) => KernelConfig): Factory {
  return perBackend(name, { wasm: make });
}

/** A new kernel (no stock one) that only webgpu has. */
function webgpuOnly(name: string, config: KernelConfig): Factory {
  return (backend) => {
    if (backend !== 'webgpu') throw new Error(`no ${name} kernel for ${backend}`);
    return config;
  };
}

/** A kernel that wraps the stock one, built per backend. */
function perBackend(name: string, make: Partial<Record<'wasm' | 'webgpu', (stock: KernelConfig) => KernelConfig>>): Factory {
  return (backend, stock) => {
    const build = backend === 'cpu' ? undefined : make[backend];
    if (build === undefined || stock === undefined) throw new Error(`no ${name} training kernel for ${backend}`);
    return build(stock);
  };
}

const FACTORIES: Record<string, Factory> = {
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterConfig,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputConfig,
  [tf.DepthwiseConv2dNativeBackpropFilter]: depthwiseBackpropFilterConfig,
  [tf.DepthwiseConv2dNativeBackpropInput]: depthwiseBackpropInputConfig,
  [tf.MaxPoolGrad]: perBackend(tf.MaxPoolGrad, { wasm: () => maxPoolGradWasmConfig, webgpu: maxPoolGradWebgpuConfig }),
  [tf.Transpose]: wasmOnly(tf.Transpose, transposeWasmConfig),
  [tf.Sum]: perBackend(tf.Sum, { wasm: sumWasmConfig, webgpu: sumWebgpuConfig }),
  [tf.Identity]: wasmOnly(tf.Identity, identityWasmConfig),
  [tf.Cast]: wasmOnly(tf.Cast, castWasmConfig),
  [tf.Add]: wasmOnly(tf.Add, addWasmConfig),
  [tf.DepthwiseConv2dNative]: wasmOnly(tf.DepthwiseConv2dNative, depthwiseConvWasmConfig),
  [tf.Conv2D]: perBackend(tf.Conv2D, { wasm: conv2DWasmConfig, webgpu: conv2DWebgpuConfig }),
  [tf.FusedConv2D]: perBackend(tf.FusedConv2D, { wasm: fusedConv2DWasmConfig, webgpu: fusedConv2DWebgpuConfig }),
  [tf.MaxPool]: wasmOnly(tf.MaxPool, maxPoolWasmConfig),
  [tf.BatchMatMul]: perBackend(tf.BatchMatMul, { webgpu: batchMatMulWebgpuConfig }),
  [tf._FusedMatMul]: perBackend(tf._FusedMatMul, { webgpu: fusedMatMulWebgpuConfig }),
  [ADAM_MOMENTS]: webgpuOnly(ADAM_MOMENTS, adamMomentsWebgpuConfig),
  [ADAM_VALUE]: webgpuOnly(ADAM_VALUE, adamValueWebgpuConfig),
  [IMAGE_BATCH]: webgpuOnly(IMAGE_BATCH, imageBatchWebgpuConfig),
  [BINARY_CROSS_ENTROPY]: webgpuOnly(BINARY_CROSS_ENTROPY, binaryCrossEntropyWebgpuConfig),
  [BINARY_CROSS_ENTROPY_GRAD]: webgpuOnly(BINARY_CROSS_ENTROPY_GRAD, binaryCrossEntropyGradWebgpuConfig),
  [SEEDED_DROPOUT]: webgpuOnly(SEEDED_DROPOUT, seededDropoutWebgpuConfig),
  [RELU_GRAD]: (backend) => {
    if (backend === 'cpu') throw new Error(`no ${RELU_GRAD} kernel for ${backend}`);
    return backend === 'wasm' ? reluGradWasmConfig : reluGradWebgpuConfig;
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
    const factory = FACTORIES[name];
    if (factory === undefined) throw new Error(`no kernel factory for ${name}`);
    tf.registerKernel(factory(backend, stock));
  }
  useGradients('ours');
  registered.add(backend);
  return names;
}
