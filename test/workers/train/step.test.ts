/**
 * The training loss: binaryCrossEntropy (workers/train/step.ts) writes out its gradient; it must equal what
 * autodiff through the same formula gives, clipped probabilities included, on every backend it trains on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../workers/backend/index.ts';
import { binaryCrossEntropy } from '../../../workers/train/step.ts';
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
    const [ours, expected] = [binaryCrossEntropy, reference].map((f) => tf.valueAndGrad((q: tf.Tensor) => f(y, q))(p));
    // A NaN probability makes the loss NaN either way; the values before it are compared without it.
    const finite = async (f: typeof reference) => {
      const loss = tf.tidy(() => f(tf.slice(y, 0, P.length - 1), tf.slice(p, 0, P.length - 1)));
      const [value] = await loss.data();
      loss.dispose();
      return value;
    };
    assert.equal(await finite(binaryCrossEntropy), await finite(reference), 'the loss');
    const [g, gRef] = await Promise.all([ours.grad.data(), expected.grad.data()]);
    g.forEach((v, i) => {
      const close = Math.abs(v - gRef[i]) <= 1e-6 * Math.max(1, Math.abs(gRef[i]));
      assert.ok(close, `p = ${P[i]}, y = ${Y[i]}: gradient ${v} against ${gRef[i]}`);
    });
    assert.equal(g[4], 0, 'p = 0 is clipped: no gradient');
    assert.equal(g[5], 0, 'p = 1 is clipped: no gradient');
    assert.equal(g[12], 0, 'a NaN probability passes no gradient, as the clip\'s own gradient');
    tf.dispose([y, p, ours.value, ours.grad, expected.value, expected.grad]);
  });
}
