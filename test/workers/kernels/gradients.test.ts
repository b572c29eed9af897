/**
 * The Mean, Sigmoid, ClipByValue and FusedBatchNorm gradients of gradients.ts against tfjs' own, on cpu, wasm and webgpu: the
 * same numbers, bit for bit, for the means the models take (global average pooling, batch-norm statistics) and
 * others, and for batch norm's five inputs.
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
  test(`${backend}: the Mean, Sigmoid and ClipByValue gradients equal tfjs' own, bit for bit`, async (t) => {
    if (!(await useBackendOrSkip(t, backend))) return;
    for (const c of MEANS) {
      const values = randomValues(
        c.shape.reduce((a, b) => a * b, 1),
        3,
      );
      const x = tf.tensor(values, c.shape);
      const mean = (v: tf.Tensor) => tf.mean(v, c.axis, c.keepDims);
      assert.deepEqual(await gradient('ours', mean, x), await gradient('stock', mean, x), `mean of ${c.shape} over ${c.axis}`);
      assert.deepEqual(await gradient('ours', tf.sigmoid, x), await gradient('stock', tf.sigmoid, x), `sigmoid of ${c.shape}`);
      // ReLU6 as MobileNetV2 has it, and bounds that some of x's values equal exactly
      for (const [lo, hi] of [
        [0, 6],
        [Math.min(values[0]!, values[1]!), Math.max(values[0]!, values[1]!)],
      ] as const) {
        const clip = (v: tf.Tensor) => tf.clipByValue(tf.mul(v, 8), lo * 8, hi * 8);
        assert.deepEqual(await gradient('ours', clip, x), await gradient('stock', clip, x), `clip of ${c.shape} to [${lo}, ${hi}]`);
      }
      x.dispose();
    }
  });
}

const BATCH_NORMS: { x: number[]; stats: number[]; epsilon: number }[] = [
  { x: [2, 5, 6, 7], stats: [7], epsilon: 1e-3 }, // a pretrained base's batch norm, per channel
  { x: [1, 3, 3, 4], stats: [4], epsilon: 1e-5 }, // batch 1
  { x: [3, 2, 1, 5], stats: [5], epsilon: 1e-3 },
  { x: [2, 3], stats: [2, 3], epsilon: 1e-3 }, // statistics of x's own shape
];

/** The gradients of sum(batchNorm(x, mean, variance, offset, scale) * w) for a fixed w, with either set. */
async function batchNormGradients(set: 'ours' | 'stock', inputs: tf.Tensor[], epsilon: number): Promise<Float32Array[]> {
  useGradients(set);
  try {
    const grads = tf.grads((...v: tf.Tensor[]) => {
      const [x, mean, variance, offset, scale] = v as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]; // the five inputs below
      const y = tf.batchNorm(x, mean, variance, offset, scale, epsilon);
      return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 5), y.shape)));
    })(inputs);
    const values = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
    tf.dispose(grads);
    return values;
  } finally {
    useGradients('ours');
  }
}

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  test(`${backend}: the FusedBatchNorm gradients (x, mean, variance, offset, scale) equal tfjs' own, bit for bit`, async (t) => {
    if (!(await useBackendOrSkip(t, backend))) return;
    for (const c of BATCH_NORMS) {
      const n = c.stats.reduce((a, b) => a * b, 1);
      const x = tf.tensor(
        randomValues(
          c.x.reduce((a, b) => a * b, 1),
          3,
        ),
        c.x,
      );
      const mean = tf.tensor(randomValues(n, 7), c.stats);
      const variance = tf.tensor(
        randomValues(n, 11).map((v) => v * v + 0.1),
        c.stats,
      ); // positive
      const offset = tf.tensor(randomValues(n, 13), c.stats);
      const inputs = [x, mean, variance, offset, tf.tensor(randomValues(n, 17), c.stats)];
      const ours = await batchNormGradients('ours', inputs, c.epsilon);
      const stock = await batchNormGradients('stock', inputs, c.epsilon);
      assert.equal(ours.length, inputs.length);
      for (const [i, g] of ours.entries()) assert.deepEqual(g, stock[i], `gradient ${i} of batch norm of ${c.x} with statistics ${c.stats}`);
      tf.dispose(inputs);
    }
  });
}
