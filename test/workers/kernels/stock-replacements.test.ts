/**
 * The wasm replacements of stock kernels (Transpose, Sum, Identity, Cast) against the cpu backend, over the
 * cases they handle themselves and the ones they hand back to the stock kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../workers/backend/index.ts';
import { simplifyPermutation } from '../../../workers/kernels/transpose.ts';
import { compare, randomValues } from './backends.ts';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `f` on an input of `shape` on cpu and on wasm; returns both results' values and shapes. */
async function onBoth(shape: number[], seed: number, f: (x: tf.Tensor) => tf.Tensor, dtype: 'float32' | 'int32' = 'float32') {
  const values = randomValues(size(shape), seed).map((v) => (dtype === 'int32' ? Math.round(v * 50) : v));
  const results: { values: Float32Array | Int32Array; shape: number[]; dtype: string }[] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const x = tf.tensor(values, shape, dtype);
    const y = f(x);
    results.push({ values: (await y.data()) as Float32Array, shape: y.shape, dtype: y.dtype });
    tf.dispose([x, y]);
  }
  return { expected: results[0]!, actual: results[1]! }; // cpu's, then the backend's
}

async function assertSame(what: string, shape: number[], seed: number, f: (x: tf.Tensor) => tf.Tensor, dtype: 'float32' | 'int32' = 'float32') {
  const { expected, actual } = await onBoth(shape, seed, f, dtype);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const { ok, worst } = compare(actual.values, expected.values);
  assert.ok(ok, `${what}: differs from the cpu backend (worst ${worst})`);
}

test('simplifyPermutation drops size-1 axes and merges axes that move together', () => {
  assert.deepEqual(simplifyPermutation([2, 3, 4, 5], [0, 3, 1, 2]), { shape: [2, 12, 5], perm: [0, 2, 1] });
  assert.deepEqual(simplifyPermutation([3, 1, 4], [2, 1, 0]), { shape: [3, 4], perm: [1, 0] });
  assert.deepEqual(simplifyPermutation([4, 6, 5], [2, 0, 1]), { shape: [24, 5], perm: [1, 0] });
  assert.deepEqual(simplifyPermutation([4, 6, 5], [0, 1, 2]), { shape: [120], perm: [0] });
  assert.deepEqual(simplifyPermutation([2, 3, 4], [2, 1, 0]), { shape: [2, 3, 4], perm: [2, 1, 0] });
});

test('wasm Transpose equals cpu for swaps, batched swaps and the permutations it leaves to the stock kernel', async () => {
  const cases: [number[], number[]][] = [
    [
      [5, 7],
      [1, 0],
    ],
    [
      [70, 45],
      [1, 0],
    ], // several 32x32 tiles, partial ones at both edges
    [
      [3, 33, 31],
      [0, 2, 1],
    ],
    [
      [2, 3, 4, 5],
      [0, 3, 1, 2],
    ],
    [
      [2, 1, 3, 4],
      [0, 3, 2, 1],
    ],
    [
      [4, 6, 5],
      [2, 0, 1],
    ],
    [
      [2, 3, 4],
      [2, 1, 0],
    ], // stock
    [
      [2, 3, 4],
      [0, 1, 2],
    ], // no-op: stock
    [
      [1, 1],
      [1, 0],
    ],
  ];
  for (const [i, [shape, perm]] of cases.entries()) {
    await assertSame(`transpose ${shape.join('x')} by [${perm}]`, shape, 10 + i, (x) => tf.transpose(x, perm));
  }
  await assertSame('int32 transpose (stock)', [6, 5], 30, (x) => tf.transpose(x, [1, 0]), 'int32');
});

test('wasm Sum equals cpu over leading axes and hands other sums to the stock kernel', async () => {
  const cases: [number[], number[], boolean][] = [
    [[2, 5, 7, 3], [0, 1, 2], false], // a bias gradient
    [[2, 5, 7, 3], [2, 0, 1], true],
    [[9, 4], [0], false],
    [[3, 1, 5], [0, 1], false],
    [[3, 4, 5], [1], false], // stock
    [[3, 4, 5], [1, 2], true], // trailing axes: stock
    [[3, 4, 5], [0, 1, 2], false], // everything: stock
  ];
  for (const [i, [shape, axes, keepDims]] of cases.entries()) {
    await assertSame(`sum of ${shape.join('x')} over [${axes}]${keepDims ? ', keepDims' : ''}`, shape, 40 + i, (x) => tf.sum(x, axes, keepDims));
  }
  await assertSame('int32 sum over axis 0 (stock)', [6, 5], 60, (x) => tf.sum(x, 0), 'int32');
});

test('wasm Identity and same-dtype Cast share the data instead of copying, and free it once unused', async () => {
  await initBackend('wasm');
  const x = tf.tensor(randomValues(12, 70), [3, 4]);
  const before = tf.memory().numBytes;
  const backendBytes = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const ids = backendBytes();
  const copy = tf.clone(x);
  const cast = tf.cast(x, 'float32');
  assert.equal(backendBytes(), ids, 'no new data on the backend');
  x.dispose();
  assert.deepEqual(Array.from(await copy.data()), Array.from(await cast.data()));
  const asInt = tf.cast(copy, 'int32'); // a real cast: stock kernel, new data
  assert.equal(asInt.dtype, 'int32');
  assert.equal(backendBytes(), ids + 1);
  tf.dispose([copy, cast, asInt]);
  assert.equal(backendBytes(), ids - 1, 'the shared data is freed with its last tensor');
  assert.ok(tf.memory().numBytes < before);
  await assertSame('clone', [2, 3], 71, (t) => tf.clone(t));
  await assertSame('cast to int32', [2, 3], 72, (t) => tf.cast(tf.mul(t, 10), 'int32'));
});
