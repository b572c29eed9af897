/**
 * Transpose for wasm. The stock kernel walks the output with scattered reads and is the slowest part of the
 * XNNPACK matrix products the gradient kernels fall back to (a [P, C] -> [C, P] transpose of a dy takes longer
 * than the matMul it feeds); a transpose that swaps two groups of axes -- [1, 0] or [0, 2, 1] once neighbouring axes that move
 * together are merged and size-1 axes dropped -- runs as a tiled loop over the heap instead (5-8x faster at the
 * baseline's shapes). Other permutations and dtypes go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, TransposeAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { transposeLoop } from './loops.ts';
import { heapView } from './wasm-heap.ts';

/**
 * The permutation with size-1 axes dropped and runs of axes that stay adjacent and in order merged:
 * e.g. shape [2, 3, 4, 5] with perm [0, 3, 1, 2] becomes shape [2, 12, 5] with perm [0, 2, 1].
 */
export function simplifyPermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const keptAxes = shape.flatMap((size, axis) => (size === 1 ? [] : [axis]));
  const sizes = keptAxes.map((axis) => shape[axis]!);
  const moved = perm.filter((axis) => shape[axis] !== 1).map((axis) => keptAxes.indexOf(axis));
  // Output-adjacent axes that are input-adjacent too (a, a + 1) move as one.
  const groups: number[][] = [];
  for (const axis of moved) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1]! + 1 === axis)
      last.push(axis); // a group is never empty
    else groups.push([axis]);
  }
  const inInputOrder = [...groups].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: inInputOrder.map((g) => g.reduce((n, axis) => n * sizes[axis]!, 1)),
    perm: groups.map((g) => inInputOrder.indexOf(g)),
  };
}

export function transposeWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; attrs: TransposeAttrs; backend: BackendWasm }) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs;
    const { shape, perm } = simplifyPermutation(x.shape, attrs.perm);
    const swap2d = perm.length === 2 && perm[0] === 1;
    const batched = perm.length === 3 && perm[0] === 0 && perm[1] === 2;
    if (x.dtype !== 'float32' || !(swap2d || batched)) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const out = backend.makeOutput(
      attrs.perm.map((axis) => x.shape[axis]!),
      'float32',
    );
    const [batches, rows, cols] = swap2d ? [1, shape[0]!, shape[1]!] : [shape[0]!, shape[1]!, shape[2]!];
    transposeLoop(heapView(backend, x), heapView(backend, out), batches, rows, cols);
    return out;
  };
  return {
    kernelName: tf.Transpose,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
