/**
 * Add for wasm where one operand is a bias along the last axis of the other ([..., C] + [C], the forward pass
 * of every biased layer): one SIMD pass (C a multiple of 4). The stock kernel's broadcasting loop takes about
 * twice as long on the baseline's first layer. Every other Add goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd/index.ts';

/** Whether `bias` is [C] or [1, ..., 1, C] with C the last axis of `x` (a multiple of 4) and x larger. */
function isBiasOf(bias: TensorInfo, x: TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  const b = bias.shape;
  return (
    c !== undefined &&
    x.dtype === 'float32' &&
    bias.dtype === 'float32' &&
    c % 4 === 0 &&
    b.length >= 1 &&
    b.length <= x.shape.length &&
    b[b.length - 1] === c &&
    b.slice(0, -1).every((d) => d === 1) &&
    tf.util.sizeFromShape(x.shape) > c
  );
}

export function addWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: BackendWasm }) => {
    const { a, b } = args.inputs;
    const [x, bias] = isBiasOf(b, a) ? [a, b] : isBiasOf(a, b) ? [b, a] : [null, null];
    if (x === null || bias === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const simd = simdKernels(args.backend);
    const c = x.shape[x.shape.length - 1]!; // isBiasOf found it
    const out = args.backend.makeOutput(x.shape, 'float32');
    simd.exports.add_bias(simd.ptr(x), simd.ptr(bias), simd.ptr(out), tf.util.sizeFromShape(x.shape) / c, c);
    return out;
  };
  return { kernelName: tf.Add, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
