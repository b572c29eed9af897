/**
 * BatchMatMul and _FusedMatMul on webgpu without float atomics. For a single product with few output tiles and a
 * long inner dimension (a Dense layer over a flattened base: 16 x 100,352 by 100,352 x 16 in Xception's head),
 * tfjs-webgpu picks its split-K program, whose workgroups add their partial sums into the output with atomic
 * compare-and-swap loops, in whatever order the GPU runs them: the same step can give different numbers from run
 * to run. Here that case sums the inner dimension in groups instead (a batched product, then a sum over the groups,
 * both in a fixed order; `innerGroups` in tensors.ts), then adds the bias and the activation. Every other product
 * goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo, _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { asTensor, groupedProduct, matrixDims, productGroups } from './tensors.ts';

/** Whether tfjs-webgpu 4.22 (kernels/BatchMatMul_impl.js) would run this product with its split-K program. */
export function choosesSplitK(backend: WebGPUBackend, a: number[], b: number[], transposeA: boolean, transposeB: boolean): boolean {
  if (tf.env().getNumber('WEBGPU_MATMUL_PROGRAM_TYPE') >= 0) return false; // a program chosen by flag stays chosen
  const batch = Math.max(tf.util.sizeFromShape(a.slice(0, -2)), tf.util.sizeFromShape(b.slice(0, -2)));
  const [m, k] = matrixDims(a, transposeA);
  const [, n] = matrixDims(b, transposeB);
  const flag = tf.env().getNumber('WEBGPU_THRESHOLD_TO_INCREASE_WORKGROUPS_FOR_MATMUL');
  const threshold = flag > 0 ? flag : (backend as unknown as { thresholdToIncreaseWorkgroups: number }).thresholdToIncreaseWorkgroups;
  const tiles = batch * Math.ceil(m / 32) * Math.ceil(n / 32);
  const fewWorkgroups = tiles <= threshold || (m <= 8 && tiles <= threshold * 2);
  return fewWorkgroups && batch * m * n > 128 && batch === 1 && k >= 2000;
}

function activate(x: tf.Tensor, attrs: _FusedMatMulAttrs, prelu: tf.Tensor | undefined): tf.Tensor {
  switch (attrs.activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'elu':
      return tf.elu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'leakyrelu':
      return tf.leakyRelu(x, attrs.leakyreluAlpha);
    case 'prelu':
      return tf.prelu(x, prelu!);
    default:
      throw new Error(`_FusedMatMul: unknown activation '${attrs.activation}'`);
  }
}

type Args = { inputs: NamedTensorInfoMap; attrs: BatchMatMulAttrs | _FusedMatMulAttrs; backend: WebGPUBackend };

function config(kernelName: string, stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: Args) => {
    const { inputs, attrs, backend } = args;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs;
    const split = a.dtype === 'float32' && choosesSplitK(backend, a.shape, b.shape, transposeA, transposeB);
    // A prime inner dimension has no groups; it keeps the split-K program (the batched product below, with more
    // than one group, never takes it).
    if (!split || productGroups(a.shape, b.shape, transposeA, transposeB) === 1) {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    return tf.tidy(() => {
      const product = groupedProduct(asTensor(a, 'a'), asTensor(b, 'b'), transposeA, transposeB);
      if (kernelName === tf.BatchMatMul) return product;
      const { bias, preluActivationWeights } = inputs as { bias?: TensorInfo; preluActivationWeights?: TensorInfo };
      const withBias = bias === undefined ? product : tf.add(product, asTensor(bias, 'bias'));
      const prelu = preluActivationWeights === undefined ? undefined : asTensor(preluActivationWeights, 'preluActivationWeights');
      return activate(withBias, attrs as _FusedMatMulAttrs, prelu);
    });
  };
  return { kernelName, backendName: 'webgpu', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export const batchMatMulWebgpuConfig = (stock: KernelConfig) => config(tf.BatchMatMul, stock);
export const fusedMatMulWebgpuConfig = (stock: KernelConfig) => config(tf._FusedMatMul, stock);
