/**
 * The augmented model's Dropout: a new mask at every training call (tfjs-layers' seeded Dropout repeats one mask
 * at every step), the same sequence of masks for the same seed, the mask's keep rate and scale, its gradient, and
 * the same numbers from the webgpu kernel as from the CPU's mask.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { dropout, seededDropout } from '../../../workers/models/dropout.ts';
import { dropoutMask, hash32 } from '../../../workers/kernels/dropout.ts';
import { randomValues, useBackendOrSkip } from '../kernels/backends.ts';

const trainingCalls = async (layer: tfl.layers.Layer, x: tf.Tensor, n: number) => {
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) out.push((await (layer.apply(x, { training: true }) as tf.Tensor).data()) as Float32Array);
  return out;
};

test("hash32 is Wellons' lowbias32 (values from an independent implementation)", () => {
  assert.deepEqual([0, 1, 2, 0xdeadbeef].map(hash32), [0, 1753845952, 3507691905, 3861431939]);
});

test('a seeded Dropout draws a new mask at every training call, the same sequence for the same seed', async (t) => {
  if (!(await useBackendOrSkip(t, 'cpu'))) return;
  const x = tf.ones([4, 64]);
  const [a1, a2, a3] = await trainingCalls(dropout({ rate: 0.5, seed: 7 }), x, 3);
  assert.notDeepEqual(a1, a2);
  assert.notDeepEqual(a2, a3);
  const [b1, b2, b3] = await trainingCalls(dropout({ rate: 0.5, seed: 7 }), x, 3);
  assert.deepEqual([b1, b2, b3], [a1, a2, a3]);
  const [c1] = await trainingCalls(dropout({ rate: 0.5, seed: 8 }), x, 1);
  assert.notDeepEqual(c1, a1);
  // Inference passes x through, and does not use up a mask.
  const layer = dropout({ rate: 0.5, seed: 7 });
  assert.deepEqual(await (layer.apply(x, { training: false }) as tf.Tensor).data(), await x.data());
  assert.deepEqual((await trainingCalls(layer, x, 1))[0], a1);
  // What tfjs-layers' own seeded Dropout does, and this one must not.
  const stock = tfl.layers.dropout({ rate: 0.5, seed: 7 });
  const [s1, s2] = await trainingCalls(stock, x, 2);
  assert.deepEqual(s1, s2);
});

test('the mask keeps 1 - rate of the elements, scaled by 1 / (1 - rate); the gradient is the same mask', async (t) => {
  if (!(await useBackendOrSkip(t, 'cpu'))) return;
  for (const rate of [0.5, 0.2]) {
    const n = 200_000;
    const mask = dropoutMask(n, { rate, seed: 12345 });
    const kept = mask.filter((v) => v !== 0);
    // Binomial standard deviation at n = 200,000: under 0.0012; 0.005 is over four of them.
    assert.ok(Math.abs(kept.length / n - (1 - rate)) < 0.005, `rate ${rate}: kept ${kept.length / n}`);
    assert.ok(
      kept.every((v) => v === Math.fround(1 / Math.fround(1 - rate))),
      `rate ${rate}: scale`,
    );
  }
  const x = tf.tensor1d(randomValues(1000, 3));
  const mask = tf.tensor1d(dropoutMask(1000, { rate: 0.5, seed: 99 }));
  const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(tf.mul(seededDropout(v, 0.5, 99), tf.range(0, 1000))))(x);
  assert.equal(
    await value.data().then((v) => v[0]),
    await tf
      .sum(tf.mul(tf.mul(x, mask), tf.range(0, 1000)))
      .data()
      .then((v) => v[0]),
  );
  assert.deepEqual(await grad.data(), await tf.mul(mask, tf.range(0, 1000)).data());
});

test("webgpu: the dropout kernel gives the CPU's numbers", async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const values = randomValues(3 * 37 * 41 * 5, 11);
  values[0] = NaN; // a dropped or kept NaN stays NaN, as x * mask on the CPU
  const shape = [3, 37, 41, 5];
  for (const [rate, seed] of [
    [0.5, 1],
    [0.3, -123456789],
    [0.5, 0x7fffffff],
  ] as const) {
    const mask = dropoutMask(values.length, { rate, seed });
    const expected = values.map((v, i) => Math.fround(v * mask[i]!));
    const y = seededDropout(tf.tensor(values, shape), rate, seed);
    assert.deepEqual(y.shape, shape);
    assert.deepEqual(await y.data(), expected, `rate ${rate}, seed ${seed}`);
  }
});
