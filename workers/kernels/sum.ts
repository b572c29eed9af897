/**
 * Sum over leading axes for wasm and webgpu. The stock kernels move the reduced axes innermost with a transpose
 * first, so the bias gradient of a convolution -- dy [N, H, W, C] summed over N, H and W -- costs a full transpose
 * of dy (0.3-0.6 s for the baseline's first layer at 224 px, batch 32, on wasm). On wasm a sum over leading axes is one pass over the heap
 * instead (SIMD when the kept axes hold a multiple of 4 values); on webgpu it is wgsl/column-sum.ts. Other sums
 * go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { sumOuterLoop } from './loops.ts';
import { simdKernels } from './simd/index.ts';
import { heapView, outputFrom } from './wasm-heap.ts';
import { columnSum } from './wgsl/column-sum.ts';

/** A float32 sum over the leading axes that keeps at least one: [rows, cols] and the output shape, else null. */
function leadingSum(x: TensorInfo, attrs: SumAttrs): { rows: number; cols: number; shape: number[] } | null {
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.every((axis, i) => axis === i);
  if (x.dtype !== 'float32' || !leading || axes.length === x.shape.length) return null;
  const kept = x.shape.slice(axes.length);
  const cols = tf.util.sizeFromShape(kept);
  const rows = tf.util.sizeFromShape(x.shape) / Math.max(1, cols);
  return { rows, cols, shape: attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept };
}

export function sumWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; attrs: SumAttrs; backend: BackendWasm }) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs;
    const sum = leadingSum(x, attrs);
    if (sum === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const { rows: outer, cols: inner, shape } = sum;
    if (inner % 4 !== 0) return outputFrom(backend, shape, sumOuterLoop(heapView(backend, x), outer, inner));
    const simd = simdKernels(backend);
    const out = backend.makeOutput(shape, 'float32');
    simd.withScratch([inner * 4, inner * 8], (part, acc) => simd.exports.sum_outer(simd.ptr(x), outer, inner, part, acc, simd.ptr(out)));
    return out;
  };
  return { kernelName: tf.Sum, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function sumWebgpuConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; attrs: SumAttrs; backend: WebGPUBackend }) => {
    const sum = leadingSum(args.inputs.x, args.attrs);
    if (sum === null) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    return columnSum(args.backend, args.inputs.x, sum.rows, sum.cols, sum.shape);
  };
  return { kernelName: tf.Sum, backendName: 'webgpu', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
