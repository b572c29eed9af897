/**
 * Shared pieces of the training kernels: they are written with tfjs ops, which run on the backend the kernel is
 * registered for. Inside a kernel the engine's tape is off (kernelDepth > 0), so these ops record no gradients;
 * the intermediate tensors are freed by the tidy the kernel runs in.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd/index.ts';
import { GPU_THREADS } from './wgsl/run.ts';

/** The backends the kernels are registered for; some formulations differ per backend (see matMulTN). */
export type KernelBackend = 'wasm' | 'webgpu' | 'cpu';

/**
 * A tracked tensor sharing the data of a kernel input. makeTensorFromTensorInfo does not count a reference on
 * the backend's data, and disposing the wrapper (at the end of the kernel's tidy) drops one, so the reference
 * is added here: without it the input's data would be freed while the tape still holds it.
 */
export function asTensor<R extends tf.Rank = tf.Rank>(info: tf.TensorInfo | undefined, name: string): tf.Tensor<R> {
  if (info === undefined) throw new Error(`training kernel: missing input '${name}'`);
  const engine = tf.engine();
  const tensor = engine.makeTensorFromTensorInfo(info) as tf.Tensor<R>;
  engine.backend.incRef(info.dataId);
  return tensor;
}

export function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

export function assertChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel}: only NHWC data is supported by the training kernels, got ${dataFormat}`);
  }
}

/**
 * Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor.
 */
export function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    y = tf.slice(y, [0, t, l, 0], [n, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c]);
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = tf.pad(y, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ]);
  }
  return y;
}

/**
 * Spreads an NHWC tensor over a grid `stride` times finer, with zeros between the values:
 * out[n, i*sh, j*sw, c] = x[n, i, j, c], shape [(H-1)*sh+1, (W-1)*sw+1]. Built from pad + reshape.
 */
export function dilateSpatial(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const grid = tf.reshape<tf.Rank.R4>(spread, [n, h * sh, w * sw, c]);
  return tf.slice(grid, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * The input values that filter tap (i, j) meets: x_padded[n, oh*sh + i*dh, ow*sw + j*dw, c] for every output
 * position (oh, ow), shape [N, outH, outW, C].
 */
export function tapSlice(
  xPadded: tf.Tensor4D,
  i: number,
  j: number,
  out: { outHeight: number; outWidth: number },
  stride: [number, number],
  dilation: [number, number] = [1, 1],
): tf.Tensor4D {
  const [n, h, w, c] = xPadded.shape;
  const [sh, sw] = stride;
  const { outHeight: oh, outWidth: ow } = out;
  const top = i * dilation[0];
  const left = j * dilation[1];
  if (sh === 1 && sw === 1) {
    if (top === 0 && left === 0 && oh === h && ow === w) return xPadded;
    // Merging width and channels keeps each output row one contiguous run (the wasm Slice copies run by run).
    const rows = tf.slice(tf.reshape<tf.Rank.R3>(xPadded, [n, h, w * c]), [0, top, left * c], [n, oh, ow * c]);
    return tf.reshape<tf.Rank.R4>(rows, [n, oh, ow, c]);
  }
  return tf.stridedSlice(xPadded, [0, top, left, 0], [n, top + (oh - 1) * sh + 1, left + (ow - 1) * sw + 1, c], [1, sh, sw, 1]) as tf.Tensor4D;
}

/**
 * a^T b for a [P, M] and b [P, N] (P large: all pixels of a batch), giving [M, N].
 * On wasm this is the SIMD kernel gemm_tn, which reads both operands in place (one of M, N a multiple of 4).
 * Otherwise XNNPACK runs it, which it does fast only without transpose flags (the stock wasm matMul falls back
 * to a naive loop ~6x slower), so one operand is transposed explicitly and the other becomes XNNPACK's packed
 * weight matrix; that is ~4x slower than gemm_tn for the baseline's shapes, packing a weight matrix of P rows.
 * On webgpu the rows are split into groups (innerGroups), one product per group, then summed.
 */
export function matMulTN(a: tf.Tensor2D, b: tf.Tensor2D, backend: KernelBackend): tf.Tensor2D {
  if (backend === 'webgpu') return matMulTNGrouped(a, b);
  if (backend !== 'wasm') return tf.matMul(a, b, true, false);
  const [, m] = a.shape;
  const [, n] = b.shape;
  if (n % 4 === 0) return gemmTN(a, b);
  if (m % 4 === 0) return tf.transpose(gemmTN(b, a));
  if (m <= n) return tf.transpose(tf.matMul(tf.transpose(b), a)) as tf.Tensor2D;
  return tf.matMul(tf.transpose(a), b);
}

/** Output tiles (32x32, one tfjs-webgpu workgroup of 64 threads each) a product should spread over. */
const TARGET_TILES = GPU_THREADS / 64;
/** Rows each group sums at least, so that a group's work outweighs writing and summing its partial result. */
const MIN_GROUP_ROWS = 128;

/**
 * How many groups to split the P rows of a^T b ([P, M], [P, N]) into: a divisor of P near the number that gives
 * TARGET_TILES output tiles in all, 1 when the product is parallel enough already or P is small. One product
 * over all rows has few outputs and a huge inner dimension, so tfjs-webgpu runs it on a few workgroups, or splits
 * the inner dimension into float atomic adds that land in whatever order the GPU runs them; a batched product
 * over groups has many workgroups and sums in a fixed order.
 */
export function innerGroups(rows: number, m: number, n: number): number {
  const tiles = Math.ceil(m / 32) * Math.ceil(n / 32);
  const wanted = Math.min(Math.ceil(TARGET_TILES / tiles), Math.floor(rows / MIN_GROUP_ROWS));
  if (wanted <= 1) return 1;
  let best = 1;
  for (let d = 1; d * d <= rows; d++) {
    if (rows % d !== 0) continue;
    for (const g of [d, rows / d]) {
      if (rows / g >= MIN_GROUP_ROWS / 4 && Math.abs(Math.log(g / wanted)) < Math.abs(Math.log(best / wanted))) best = g;
    }
  }
  return best;
}

function matMulTNGrouped(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (productGroups(a.shape, b.shape, true, false) === 1) return tf.matMul(a, b, true, false);
  return groupedProduct(a, b, true, false) as tf.Tensor2D;
}

/** [rows, cols] of op(x), x of shape [..., rows, cols] (the operand of a product: rank 2 or more). */
export function matrixDims(shape: readonly number[], transposed: boolean): [number, number] {
  const rows = shape[shape.length - 2]!;
  const cols = shape[shape.length - 1]!;
  return transposed ? [cols, rows] : [rows, cols];
}

/** The number of groups (innerGroups) of the inner dimension of op(a) op(b), for shapes [..., rows, cols]. */
export function productGroups(a: number[], b: number[], transposeA: boolean, transposeB: boolean): number {
  const [m, k] = matrixDims(a, transposeA);
  const [, n] = matrixDims(b, transposeB);
  return innerGroups(k, m, n);
}

/**
 * op(a) op(b) for one product (batch 1, any rank), its inner dimension summed in productGroups groups: a batched
 * product over the groups, then a sum over them; shape [..., M, N].
 */
export function groupedProduct(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const outer = a.rank >= b.rank ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const [m, k] = matrixDims(a.shape, transposeA);
  const [, n] = matrixDims(b.shape, transposeB);
  const groups = productGroups(a.shape, b.shape, transposeA, transposeB);
  const per = k / groups;
  // [groups, per, m] read transposed, or [groups, m, per] (a copy of a); likewise b.
  const a3 = transposeA ? tf.reshape(a, [groups, per, m]) : tf.transpose(tf.reshape(a, [m, groups, per]), [1, 0, 2]);
  const b3 = transposeB ? tf.transpose(tf.reshape(b, [n, groups, per]), [1, 0, 2]) : tf.reshape(b, [groups, per, n]);
  const partial = tf.matMul(a3 as tf.Tensor3D, b3 as tf.Tensor3D, transposeA, transposeB);
  return tf.reshape(tf.sum(partial, 0), [...outer, m, n]);
}

function gemmTN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const backend = tf.backend() as BackendWasm;
  const simd = simdKernels(backend);
  const [p, m] = a.shape;
  const [, n] = b.shape;
  const out = backend.makeOutput([m, n], 'float32');
  simd.withScratch([m * n * 8], (acc) => simd.exports.gemm_tn(simd.ptr(a), simd.ptr(b), p, m, n, acc, simd.ptr(out)));
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
}

/** a b^T for a [P, K] and b [N, K] (b small: a filter), giving [P, N]; see matMulTN for why wasm transposes. */
export function matMulNT(a: tf.Tensor2D, b: tf.Tensor2D, backend: KernelBackend): tf.Tensor2D {
  if (backend !== 'wasm') return tf.matMul(a, b, false, true);
  return tf.matMul(a, tf.transpose(b) as tf.Tensor2D);
}

/**
 * Splits the batch axis into chunks of at most `maxElements / elementsPerImage` images (at least one) so that
 * a kernel's temporary buffers stay bounded, and sums `f` over the chunks. Every tensor in `xs` is split alike.
 */
export function sumOverBatchChunks<T extends readonly [tf.Tensor4D, ...tf.Tensor4D[]]>(
  xs: T,
  elementsPerImage: number,
  maxElements: number,
  f: (chunk: T) => tf.Tensor,
): tf.Tensor {
  const n = xs[0].shape[0];
  const per = Math.max(1, Math.floor(maxElements / Math.max(1, elementsPerImage)));
  if (per >= n) return f(xs);
  let total: tf.Tensor | null = null;
  for (let start = 0; start < n; start += per) {
    const size = Math.min(per, n - start);
    const part = tf.tidy(() => {
      // map keeps the tuple's length and element type.
      const chunk = xs.map((x) => tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1])) as unknown as T;
      return f(chunk);
    });
    if (total === null) {
      total = part;
    } else {
      const next: tf.Tensor = tf.add(total, part);
      total.dispose();
      part.dispose();
      total = next;
    }
  }
  return total!;
}
