/**
 * The WGSL kernels' entry points that parity.test.ts does not reach through a gradient, on webgpu against the
 * cpu backend: Sum over leading axes (bias gradients, batch-norm statistics) in one pass and in several (rows
 * beyond what one pass sums), one column and many, keepDims; the pointwise FusedConv2D of few input channels,
 * with and without bias and ReLU; the matrix products tfjs would split into float atomic adds (mat-mul.ts); and
 * the cases each hands to the stock kernel. Also runWgsl's dispatch of more
 * workgroups than one dimension allows, which the training-sized tensors at 224 px need.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { chunkRows } from '../../../workers/kernels/wgsl/column-sum.ts';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runWgsl } from '../../../workers/kernels/wgsl/run.ts';
import { assertSameAsCpu, useBackendOrSkip } from './backends.ts';
import { recordDispatches } from '../../../bench/dispatches.ts';

const CASES: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
  { shape: [2, 5, 7, 3], axis: [0, 1, 2] }, // one pass
  { shape: [4, 61, 67, 5], axis: [0, 1, 2] }, // 16,348 rows: three passes
  { shape: [3, 50, 50, 32], axis: [0, 1, 2], keepDims: true },
  { shape: [20000, 1], axis: 0 }, // one column
  { shape: [7, 9, 4], axis: [1, 0] }, // axes in any order
  { shape: [6, 5, 4], axis: [1] }, // not leading: stock kernel
  { shape: [6, 5, 4], axis: [0, 1, 2] }, // every axis: stock kernel
  { shape: [6, 5, 4], axis: -1 },
];

test('chunkRows: passes shrink the rows and keep every chunk non-empty', () => {
  for (const [rows, cols] of [
    [1, 1],
    [64, 3],
    [65, 3],
    [1_577_088, 32],
    [20_000, 1],
    [7104, 27],
  ] as const) {
    const per = chunkRows(rows, cols);
    assert.ok(per >= 1 && per <= rows, `${rows}x${cols}: ${per}`);
    const chunks = Math.ceil(rows / per);
    assert.ok(chunks === 1 || chunks < rows, `${rows}x${cols}: ${chunks} chunks`);
    assert.ok((chunks - 1) * per < rows, `${rows}x${cols}: an empty chunk`);
  }
});

test('webgpu Sum over leading axes equals cpu, in one pass or several, and hands other sums to the stock kernel', async (t) => {
  for (const c of CASES) {
    const what = `sum of ${c.shape.join('x')} over ${String(c.axis)}${c.keepDims ? ', keepDims' : ''}`;
    if (!(await assertSameAsCpu(t, 'webgpu', what, [{ shape: c.shape }], (x) => tf.sum(x, c.axis, c.keepDims)))) return;
  }
});

test('webgpu pointwise FusedConv2D of few input channels equals cpu, with and without bias and ReLU', async (t) => {
  const cases: { x: [number, number, number, number]; cout: number; bias: boolean; activation: 'relu' | 'linear' | 'elu'; k?: number }[] = [
    { x: [2, 9, 7, 3], cout: 32, bias: true, activation: 'relu' }, // the baseline's first pointwise layer
    { x: [1, 5, 5, 8], cout: 4, bias: false, activation: 'linear' },
    { x: [1, 4, 6, 1], cout: 8, bias: true, activation: 'linear' },
    { x: [1, 5, 5, 12], cout: 8, bias: true, activation: 'relu' }, // more channels: stock kernel
    { x: [1, 5, 5, 3], cout: 6, bias: true, activation: 'relu' }, // cout not a multiple of 4: stock
    { x: [1, 5, 5, 3], cout: 8, bias: true, activation: 'elu' }, // other activation: stock
    { x: [1, 6, 6, 3], cout: 8, bias: true, activation: 'relu', k: 3 }, // not pointwise: stock
  ];
  for (const c of cases) {
    const k = c.k ?? 1;
    const shapes = [c.x, [k, k, c.x[3], c.cout], [c.cout]].map((shape) => ({ shape }));
    const what = `fused conv ${k}x${k} of ${c.x.join('x')} to ${c.cout}${c.bias ? ' + bias' : ''}, ${c.activation}`;
    const conv = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) =>
      tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: filter as tf.Tensor4D,
        strides: 1,
        pad: 'valid',
        bias: c.bias ? bias : undefined,
        activation: c.activation,
      });
    if (!(await assertSameAsCpu(t, 'webgpu', what, shapes, conv))) return;
  }
});

test('runWgsl: a dispatch of more than 65535 workgroups (which the backend splits in 2D) runs every index once', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const n = 70_001; // workgroups of 1: over the 65535 a dimension allows
  const x = tf.zeros([n]);
  const info = runWgsl(tf.backend() as unknown as WebGPUBackend, {
    key: 'test_index',
    inputs: { x },
    outputShape: [n],
    main: 'fn main(index : i32) { if (index < uniforms.threads) { result[index] = x[index] + f32(index); } }',
    workgroupSize: 1,
  });
  const y = tf.engine().makeTensorFromTensorInfo(info);
  const values = await y.data();
  const wrong = values.findIndex((v, i) => v !== i);
  assert.equal(wrong, -1, `index ${wrong}: ${values[wrong]}`);
  tf.dispose([x, y]);
});

test('webgpu BatchMatMul and _FusedMatMul: products tfjs would split into float atomics sum in groups, equal to cpu', async (t) => {
  type Case = { a: number[]; b: number[]; transposeA?: boolean; transposeB?: boolean; fused?: 'relu' | 'sigmoid'; splitK: boolean };
  const cases: Case[] = [
    { a: [1, 16, 5120], b: [1, 5120, 16], splitK: false }, // mobilenet's head at 64 px, batch 16
    { a: [3000, 16], b: [3000, 24], transposeA: true, splitK: false },
    { a: [16, 3000], b: [24, 3000], transposeB: true, splitK: false },
    { a: [16, 5120], b: [5120, 16], fused: 'relu', splitK: false },
    { a: [8, 4096], b: [4096, 20], fused: 'sigmoid', splitK: false },
    { a: [16, 2003], b: [2003, 16], splitK: true }, // a prime inner dimension has no groups: stock split-K
    { a: [64, 64], b: [64, 64], splitK: false }, // parallel enough: stock
  ];
  for (const c of cases) {
    const what = `${c.a.join('x')}${c.transposeA ? 'ᵀ' : ''} x ${c.b.join('x')}${c.transposeB ? 'ᵀ' : ''}${c.fused ? ` + bias, ${c.fused}` : ''}`;
    const n = (c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1])!;
    const product = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
      c.fused === undefined
        ? tf.matMul(a, b, c.transposeA, c.transposeB)
        : tf.fused.matMul({ a, b, transposeA: c.transposeA, transposeB: c.transposeB, bias, activation: c.fused });
    const shapes = [{ shape: c.a }, { shape: c.b }, { shape: [n] }];
    if (!(await assertSameAsCpu(t, 'webgpu', what, shapes, product))) return;
    const [a, b, bias] = [tf.randomNormal(c.a), tf.randomNormal(c.b), tf.randomNormal([n])];
    const { dispatches: log } = await recordDispatches(async () => {
      const y = product(a, b, bias);
      await y.data();
      y.dispose();
    });
    assert.equal(
      log.some((d) => /SplitK/.test(d.program)),
      c.splitK,
      `${what}: ${log.map((d) => d.program).join(', ')}`,
    );
    tf.dispose([a, b, bias]);
  }
});
