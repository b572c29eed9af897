/**
 * The training step (workers/train/step.ts): binaryCrossEntropy writes out its gradient, which must equal what
 * autodiff through the same formula gives, clipped probabilities included, on every backend it trains on; a
 * frozen base runs before the gradient tape records, and the update must not change for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../workers/backend/index.ts';
import { buildModel } from '../../../workers/models/index.ts';
import { KerasAdam } from '../../../workers/train/adam.ts';
import { binaryCrossEntropy, forward, makeTrainStep } from '../../../workers/train/step.ts';
import { BACKENDS, useBackendOrSkip } from '../kernels/backends.ts';

const EPSILON = 1e-7;

/** Keras' formula, left to autodiff. */
function reference(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  const q = tf.clipByValue(p, EPSILON, 1 - EPSILON);
  return tf.neg(tf.mean(tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q)))))) as tf.Scalar;
}

// Inside the clip, on its edges, beyond them, and labels that are not 0 or 1.
const P = [0.5, 0.9, 0.01, 0.999, 0, 1, 1e-9, EPSILON, Math.fround(1 - EPSILON), 0.3, 0.7, 0.2, Number.NaN];
const Y = [1, 0, 1, 0, 1, 0, 0, 1, 1, 0.3, 1, 0, 1];

for (const backend of ['cpu', ...BACKENDS] as const) {
  test(`${backend}: binary cross-entropy and its written-out gradient equal autodiff through Keras' formula`, async (t) => {
    if (backend === 'cpu') await initBackend('cpu');
    else if (!(await useBackendOrSkip(t, backend))) return;
    const y = tf.tensor2d(Y, [Y.length, 1]);
    const p = tf.tensor2d(P, [P.length, 1]);
    const gradientOf = (f: typeof reference) => tf.valueAndGrad((q: tf.Tensor) => f(y, q))(p);
    const ours = gradientOf(binaryCrossEntropy);
    const expected = gradientOf(reference);
    // A NaN probability makes the loss NaN either way; the values before it are compared without it.
    const finite = async (f: typeof reference) => {
      const loss = tf.tidy(() => f(tf.slice(y, 0, P.length - 1), tf.slice(p, 0, P.length - 1)));
      const [value] = await loss.data();
      loss.dispose();
      return value;
    };
    assert.equal(await finite(binaryCrossEntropy), await finite(reference), 'the loss');
    // NaN on cpu and webgpu; wasm's clip turns a NaN into a bound, in the reference formula as well.
    const [withNaN, withNaNRef] = await Promise.all([ours.value.data(), expected.value.data()]);
    assert.equal(Number.isNaN(withNaN[0]), Number.isNaN(withNaNRef[0]), `a NaN probability: loss ${withNaN[0]} against ${withNaNRef[0]}`);
    if (backend !== 'wasm') assert.ok(Number.isNaN(withNaN[0]), 'a NaN probability makes the loss NaN');
    const [g, gRef] = await Promise.all([ours.grad.data(), expected.grad.data()]);
    g.forEach((v, i) => {
      const close = Math.abs(v - gRef[i]!) <= 1e-6 * Math.max(1, Math.abs(gRef[i]!));
      assert.ok(close, `p = ${P[i]}, y = ${Y[i]}: gradient ${v} against ${gRef[i]}`);
    });
    assert.equal(g[4], 0, 'p = 0 is clipped: no gradient');
    assert.equal(g[5], 0, 'p = 1 is clipped: no gradient');
    assert.equal(g[12], 0, "a NaN probability passes no gradient, as the clip's own gradient");
    tf.dispose([y, p, ours.value, ours.grad, expected.value, expected.grad]);
  });
}

// The more of the base trains, the more of its activations the tape keeps: at least `fewer` times fewer copies.
for (const [name, trainable, fewer] of [
  ['mobilenet', 4, 4],
  ['mobilenet-ft', 16, 4],
  ['mobilenet-ft2', 43, 2],
] as const) {
  test(`${name}: the frozen trunk runs outside the gradient tape, with the same update and without copies of its activations`, async () => {
    await initBackend('cpu');
    const build = () => buildModel(name, { imageSize: 32, seed: 3, outputBias: 0, randomWeights: true, initFrom: null });
    const [ours, recorded] = await Promise.all([build(), build()]);
    const x = tf.tensor4d(
      Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i % 97) / 97),
      [2, 32, 32, 3],
    );
    const y = tf.tensor2d([0, 1], [2, 1]);
    // The step as it was: the whole model inside the tape.
    const variables = recorded.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const reference = new KerasAdam(1e-3);
    const recordedStep = (a: tf.Tensor, b: tf.Tensor) =>
      tf.tidy(() => {
        let probs: tf.Tensor | undefined;
        reference.minimize(
          () => {
            probs = tf.keep(forward(recorded, a, true, 'all'));
            return binaryCrossEntropy(b, probs);
          },
          false,
          variables,
        );
        return probs!;
      });
    const optimizer = new KerasAdam(1e-3);
    const step = makeTrainStep(ours, optimizer, 'all');
    const copies: number[] = [];
    for (const run of [step, recordedStep]) {
      run(x, y).dispose();
      const profile = await tf.profile(() => run(x, y).dispose());
      copies.push(profile.kernels.filter((k) => k.name === 'Identity').length); // tfjs copies each tensor the tape saves
    }
    assert.ok(copies[0]! * fewer < copies[1]!, `${copies[0]} Identity kernels, against ${copies[1]} with the base on the tape`);
    const [a, b] = [ours, recorded].map((m) => m.model.trainableWeights.map((w) => w.read().dataSync()));
    assert.ok(a && b);
    assert.equal(a.length, trainable);
    for (const [i, w] of a.entries()) assert.deepEqual(w, b[i], `trainable weight ${i} after two steps`);
    tf.dispose([x, y]);
    optimizer.dispose();
    reference.dispose();
    for (const m of [ours, recorded]) m.model.dispose();
  });
}
