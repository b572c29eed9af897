/**
 * The Relu gradient on the backends that run it as one ReluGrad kernel (wasm: SIMD with a scalar tail; webgpu:
 * WGSL) against the cpu backend's dy * step(x), NaN and zero included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../workers/backend/index.ts';
import { BACKENDS, randomValues, useBackendOrSkip } from './backends.ts';

for (const backend of BACKENDS) {
  test(`on ${backend} the ReLU gradient is one fused kernel that equals dy * step(x), NaN and zero included`, async (t) => {
    const n = 4 * 9 + 3; // wasm: vectors and a scalar tail
    const x = randomValues(n, 5);
    x[0] = 0;
    x[1] = Number.NaN;
    x[5] = -0;
    x[38] = Number.NaN; // in wasm's scalar tail
    const dy = randomValues(n, 6);
    const results: Float32Array[] = [];
    for (const b of ['cpu', backend] as const) {
      if (b === 'cpu') await initBackend('cpu');
      else if (!(await useBackendOrSkip(t, b))) return;
      const xt = tf.tensor1d(x);
      const dyt = tf.tensor1d(dy);
      const g = tf.grad((a: tf.Tensor) => tf.mul(tf.relu(a), dyt))(xt);
      const profile = await tf.profile(() => tf.grad((a: tf.Tensor) => tf.mul(tf.relu(a), dyt))(xt));
      const kernels = profile.kernelNames;
      assert.equal(kernels.includes('ReluGrad'), b !== 'cpu', `${b} kernels: ${kernels.join(', ')}`);
      results.push((await g.data()) as Float32Array);
      tf.dispose([xt, dyt, g]);
    }
    const [expected, actual] = results;
    assert.ok(expected && actual);
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(expected[i])) assert.ok(Number.isNaN(actual[i]), `index ${i}: NaN expected, got ${actual[i]}`);
      // dy * 0 may be -0 where the fused kernel writes 0: the same value to every later op.
      else assert.ok(actual[i] === expected[i], `index ${i} (x = ${x[i]}): ${actual[i]} vs ${expected[i]}`);
    }
  });
}
