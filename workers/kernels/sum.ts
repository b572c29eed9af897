/**
 * Sum for wasm. The stock kernel moves the reduced axes innermost with a transpose first, so the bias gradient
 * of a convolution -- dy [N, H, W, C] summed over N, H and W -- costs a full transpose of dy (0.3-0.6 s for the
 * baseline's first layer at 224 px, batch 32). A sum over leading axes is one pass over the heap instead (SIMD
 * when the kept axes hold a multiple of 4 values);
 * other sums go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sumOuterLoop } from './loops.ts';
import { simdKernels } from './simd/index.ts';
import { heapView, outputFrom } from './wasm-heap.ts';

export function sumWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; attrs: SumAttrs; backend: BackendWasm }) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.every((axis, i) => axis === i);
    if (x.dtype !== 'float32' || !leading || axes.length === x.shape.length) {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const kept = x.shape.slice(axes.length);
    const inner = tf.util.sizeFromShape(kept);
    const outer = tf.util.sizeFromShape(x.shape) / Math.max(1, inner);
    const shape = attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
    if (inner % 4 !== 0) return outputFrom(backend, shape, sumOuterLoop(heapView(backend, x), outer, inner));
    const simd = simdKernels(backend);
    const out = backend.makeOutput(shape, 'float32');
    simd.withScratch([inner * 4, inner * 8], (part, acc) => simd.exports.sum_outer(simd.ptr(x), outer, inner, part, acc, simd.ptr(out)));
    return out;
  };
  return { kernelName: tf.Sum, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
