/**
 * KerasAdam against tfjs' own Adam (same hyper-parameters) on each backend, over several steps and variables of
 * different shapes: on cpu and wasm it is tfjs' update itself; on webgpu it runs the AdamMoments and AdamValue
 * kernels over flat moments, whose values and moments must match tfjs' 14-op update to float32 rounding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../workers/backend/index.ts';
import { KerasAdam } from '../../../workers/train/adam.ts';
import { randomValues, useBackendOrSkip } from '../kernels/backends.ts';
import { useWebgpuKernels } from '../../../bench/versus.ts';

const SHAPES = [[3, 3, 4, 1], [1, 1, 4, 8], [8], [1000]];
const STEPS = 6;

/** Every value of each variable and of the optimizer state after STEPS updates with reproducible gradients. */
async function train(make: () => tf.Optimizer): Promise<{ weights: Float32Array[]; state: Float32Array[]; kernels: string[] }> {
  const variables = SHAPES.map((shape, i) =>
    tf.variable(
      tf.tensor(
        randomValues(
          shape.reduce((a, b) => a * b, 1),
          10 + i,
        ),
        shape,
      ),
      true,
      `adam_test_${i}_${Math.random()}`,
    ),
  );
  const optimizer = make();
  let kernels: string[] = [];
  for (let step = 0; step < STEPS; step++) {
    const grads = variables.map((v, i) => ({
      name: v.name,
      tensor: tf.tensor(
        randomValues(v.size, 100 * step + i).map((g) => g * (i + 1)),
        v.shape,
      ),
    }));
    const profile = await tf.profile(() => optimizer.applyGradients(grads));
    kernels = profile.kernels.map((k) => k.name);
    tf.dispose(grads.map((g) => g.tensor));
  }
  const weights = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  const state = await Promise.all((await optimizer.getWeights()).map(async (w) => (await w.tensor.data()) as Float32Array));
  optimizer.dispose();
  tf.dispose(variables);
  return { weights, state, kernels };
}

function assertNear(actual: Float32Array[], expected: Float32Array[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: count`);
  for (const [k, e] of expected.entries()) {
    for (let i = 0; i < e.length; i++) {
      // float32 rounding of a few dozen operations; a wrong term (a moment, a bias correction) moves values by >1e-3.
      const tol = 1e-6 + 1e-5 * Math.abs(e[i]!);
      assert.ok(Math.abs(actual[k]![i]! - e[i]!) <= tol, `${what} ${k}[${i}]: ${actual[k]![i]} vs ${e[i]}`);
    }
  }
}

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  test(`${backend}: KerasAdam updates weights and moments as tfjs' Adam does`, async (t) => {
    if (!(await useBackendOrSkip(t, backend))) return;
    const ours = await train(() => new KerasAdam(0.01));
    const stock = await train(() => tf.train.adam(0.01, 0.9, 0.999, 1e-7));
    assertNear(ours.weights, stock.weights, 'weights');
    assertNear(ours.state, stock.state, 'iterations and moments');
    const count = (name: string) => ours.kernels.filter((k) => k === name).length;
    assert.equal(count('AdamMoments'), backend === 'webgpu' ? 1 : 0, `kernels of one step: ${ours.kernels.join(', ')}`);
    assert.equal(count('AdamValue'), backend === 'webgpu' ? SHAPES.length : 0, `kernels of one step: ${ours.kernels.join(', ')}`);
  });

  test(`${backend}: KerasAdam's state goes out and back in tfjs' layout: a copy set from it trains on identically`, async (t) => {
    if (!(await useBackendOrSkip(t, backend))) return;
    const variables = SHAPES.map((shape, i) =>
      tf.variable(
        tf.tensor(
          randomValues(
            shape.reduce((a, b) => a * b, 1),
            20 + i,
          ),
          shape,
        ),
        true,
        `adam_copy_${i}_${Math.random()}`,
      ),
    );
    const gradients = (step: number, vars: tf.Variable[]) =>
      vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(randomValues(v.size, 300 * step + i), v.shape) }));
    const first = new KerasAdam(0.01);
    for (let step = 0; step < 3; step++) first.applyGradients(gradients(step, variables));
    const copies = variables.map((v, i) => tf.variable(v.clone(), true, `adam_copy_${i}_${Math.random()}`));
    const second = new KerasAdam(0.01);
    const saved = await first.getWeights();
    assert.equal(saved.length, 1 + 2 * SHAPES.length, saved.map((w) => w.name).join(', '));
    // tfjs names each slot after its variable: the copy's slots carry the copies' names.
    await second.setWeights(
      saved.map((w, k) =>
        k === 0 ? w : { name: w.name.replace(variables[(k - 1) % SHAPES.length]!.name, copies[(k - 1) % SHAPES.length]!.name), tensor: w.tensor },
      ),
    );
    for (let step = 3; step < 5; step++) {
      first.applyGradients(gradients(step, variables));
      second.applyGradients(gradients(step, copies));
    }
    for (const [i, v] of variables.entries()) assert.deepEqual(await copies[i]!.data(), await v.data(), `variable ${i}`);
    first.dispose();
    second.dispose();
    tf.dispose([...variables, ...copies]);
  });
}

test('a KerasAdam step on webgpu updates the moments in one kernel and each variable in one, and runs nothing else', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const { kernels } = await train(() => new KerasAdam(0.01));
  const others = kernels.filter((k) => !['AdamMoments', 'AdamValue', 'Reshape', 'Concat'].includes(k));
  assert.deepEqual(others, [], kernels.join(', '));
  await initBackend('cpu');
});

test('a KerasAdam whose moments live in the webgpu kernels refuses to go on once they are gone', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const v = tf.variable(tf.ones([4]), true, `adam_guard_${Math.random()}`);
  const optimizer = new KerasAdam(0.01);
  const step = () => tf.tidy(() => optimizer.applyGradients([{ name: v.name, tensor: tf.fill([4], 0.5) }]));
  step();
  useWebgpuKernels('stock');
  try {
    assert.throws(step, /lost its Adam kernels/);
  } finally {
    useWebgpuKernels('ours');
    optimizer.dispose();
    v.dispose();
    await initBackend('cpu');
  }
});

test('a KerasAdam restored with setWeights after 8 steps takes the next steps exactly as the one never stopped, with the same powers of beta (cpu)', async () => {
  await initBackend('cpu');
  // After 8 steps, tfjs' pow(beta1, 9) and the product its steps multiply up differ in the last bit on cpu.
  // The powers tfjs' update divides by: a last bit's difference there may not reach the weights in a few steps.
  const powers = async (o: KerasAdam) => {
    const acc = o as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    return [(await acc.accBeta1.data())[0], (await acc.accBeta2.data())[0]];
  };
  const grad = (v: tf.Variable, step: number) => [{ name: v.name, tensor: tf.tensor(randomValues(v.size, 7 + step), v.shape) }];
  const start = randomValues(50, 3);
  const whole = tf.variable(tf.tensor(start), true, `adam_whole_${Math.random()}`);
  const cut = tf.variable(tf.tensor(start), true, `adam_cut_${Math.random()}`);
  const a = new KerasAdam(0.01);
  let b = new KerasAdam(0.01);
  for (let step = 0; step < 12; step++) {
    if (step === 8) {
      const saved = await b.getWeights();
      const copies = saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
      b.dispose();
      b = new KerasAdam(0.01);
      await b.setWeights(copies);
      tf.dispose(copies.map((c) => c.tensor));
      assert.deepEqual(await powers(b), await powers(a));
    }
    for (const [opt, v] of [
      [a, whole],
      [b, cut],
    ] as const) {
      const g = grad(v, step);
      opt.applyGradients(g);
      tf.dispose(g.map((x) => x.tensor));
    }
  }
  assert.deepEqual(await cut.data(), await whole.data());
  a.dispose();
  b.dispose();
  tf.dispose([whole, cut]);
});
