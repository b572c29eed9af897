/**
 * Column sums of a row-major [rows, cols] matrix: the bias gradient (dy [N, H, W, C] summed over N, H and W) and
 * the per-chunk partial sums of the other gradient kernels. The stock webgpu Sum first transposes the reduced
 * axes innermost (a full copy of dy) and then runs one workgroup per output value, 32 workgroups for a 32-channel
 * bias. Here each thread sums one column over a chunk of rows (neighbouring threads read neighbouring columns),
 * and passes repeat over the [chunks, cols] partial sums until one row is left.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { GPU_THREADS, runWgsl } from './run.ts';

/** Chunks never get shorter than MIN_ROWS; up to ONE_PASS_ROWS rows are summed in one pass. */
const MIN_ROWS = 16;
const ONE_PASS_ROWS = 256;

const MAIN = /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let col = index % uniforms.cols;
  let start = (index / uniforms.cols) * uniforms.chunkRows;
  let end = min(start + uniforms.chunkRows, uniforms.rows);
  var acc = 0.0;
  for (var r = start; r < end; r++) {
    acc += x[r * uniforms.cols + col];
  }
  result[index] = acc;
}`;

/** Rows per chunk for a pass over [rows, cols]: all of them once few are left. */
export function chunkRows(rows: number, cols: number): number {
  if (rows <= ONE_PASS_ROWS) return rows;
  const chunks = Math.max(1, Math.min(Math.ceil(GPU_THREADS / cols), Math.floor(rows / MIN_ROWS)));
  return Math.ceil(rows / chunks);
}

/** Sums the rows of `x` (any shape, read as [rows, cols]); the result has shape `outShape` (cols values). */
export function columnSum(backend: WebGPUBackend, x: TensorInfo, rows: number, cols: number, outShape: number[]): TensorInfo {
  let current = x;
  for (;;) {
    const per = chunkRows(rows, cols);
    const chunks = Math.ceil(rows / per);
    const next = runWgsl(backend, {
      key: 'column_sum',
      inputs: { x: current },
      outputShape: chunks === 1 ? outShape : [chunks, cols],
      uniforms: { rows, cols, chunkRows: per },
      main: MAIN,
    });
    if (current !== x) backend.disposeData(current.dataId);
    if (chunks === 1) return next;
    current = next;
    rows = chunks;
  }
}
