/**
 * The Mean and Sigmoid gradients of gradients.ts against tfjs' own, on cpu, wasm and webgpu: the same numbers,
 * bit for bit, for the means the models take (global average pooling, batch-norm statistics) and others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useGradients } from '../../../workers/kernels/gradients.ts';
import { randomValues, useBackendOrSkip } from './backends.ts';

const MEANS: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
  { shape: [2, 5, 6, 7], axis: [1, 2] }, // global average pooling
  { shape: [3, 4, 5, 8], axis: [0, 1, 2], keepDims: true }, // batch-norm statistics
  { shape: [7, 3], axis: 0 },
  { shape: [4, 9], axis: -1 },
  { shape: [3, 5, 2], axis: [0, 1, 2] }, // every axis
  { shape: [6], axis: 0 },
];

/** The gradient of sum(f(x) * w) for a fixed w, with tfjs' gradients or with these. */
async function gradient(set: 'ours' | 'stock', f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): Promise<Float32Array> {
  useGradients(set);
  try {
    const g = tf.grad((v: tf.Tensor) => {
      const y = f(v);
      return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 5), y.shape)));
    })(x);
    const values = (await g.data()) as Float32Array;
    g.dispose();
    return values;
  } finally {
    useGradients('ours');
  }
}

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  test(`${backend}: the Mean and Sigmoid gradients equal tfjs' own, bit for bit`, async (t) => {
    if (!(await useBackendOrSkip(t, backend))) return;
    for (const c of MEANS) {
      const x = tf.tensor(randomValues(c.shape.reduce((a, b) => a * b, 1), 3), c.shape);
      const mean = (v: tf.Tensor) => tf.mean(v, c.axis, c.keepDims);
      assert.deepEqual(await gradient('ours', mean, x), await gradient('stock', mean, x), `mean of ${c.shape} over ${c.axis}`);
      assert.deepEqual(await gradient('ours', tf.sigmoid, x), await gradient('stock', tf.sigmoid, x), `sigmoid of ${c.shape}`);
      x.dispose();
    }
  });
}
