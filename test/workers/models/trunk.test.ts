import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../workers/backend/index.ts';
import { buildModel } from '../../../workers/models/index.ts';
import { frozenTrunk } from '../../../workers/models/trunk.ts';
import { predictAll } from '../../../workers/train/fit.ts';
import { featureSource, type InputSource } from '../../../workers/train/inputs.ts';
import { fixedImages } from '../../helpers/input-sources.ts';
import { compare, randomValues } from '../kernels/backends.ts';

/** A small base: a frozen conv + BN + residual add, then `top` (trainable) on the sum. */
function toyBase(top: (x: tfl.SymbolicTensor, skip: tfl.SymbolicTensor) => tfl.SymbolicTensor): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', trainable: false }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ trainable: false }).apply(conv) as tfl.SymbolicTensor;
  const skip = tfl.layers.conv2d({ filters: 4, kernelSize: 1, trainable: false }).apply(input) as tfl.SymbolicTensor;
  const sum = tfl.layers.add().apply([bn, skip]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: top(sum, skip) });
}

async function assertComposes(base: tfl.LayersModel, what: string, imageShape: number[]) {
  const split = frozenTrunk(base);
  assert.ok(split, `${what}: a trunk`);
  const x = tf.tensor(
    randomValues(
      imageShape.reduce((a, b) => a * b),
      3,
    ),
    imageShape,
  );
  const whole = base.apply(x, { training: false }) as tf.Tensor;
  const acts = split.trunk.apply(x, { training: false }) as tf.Tensor;
  const composed = split.rest ? (split.rest.apply(acts, { training: false }) as tf.Tensor) : acts;
  const { ok, worst } = compare(await composed.data(), await whole.data());
  assert.ok(ok, `${what}: rest(trunk(x)) differs from base(x) (${worst})`);
  assert.equal(split.trunk.trainableWeights.length, 0, `${what}: the trunk is frozen`);
  const ids = (ws: tfl.LayerVariable[]) => ws.map((w) => w.id).sort();
  assert.deepEqual(ids(split.rest?.trainableWeights ?? []), ids(base.trainableWeights), `${what}: rest holds every trainable weight`);
  tf.dispose([x, whole, acts, composed]);
  return split;
}

test('frozenTrunk: trainable layers above frozen ones split off and re-compose to the base; a skip across the boundary does not', async () => {
  await initBackend('cpu');
  const chained = toyBase((x) => {
    const c = tfl.layers.conv2d({ filters: 6, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
    return tfl.layers.activation({ activation: 'relu' }).apply(c) as tfl.SymbolicTensor;
  });
  const split = await assertComposes(chained, 'toy chain', [2, 8, 8, 3]);
  assert.deepEqual(split.trunk.outputs[0]!.shape, [null, 8, 8, 4]);

  const residual = toyBase((x) => {
    const c = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
    const r = tfl.layers.activation({ activation: 'relu' }).apply(c) as tfl.SymbolicTensor;
    return tfl.layers.add().apply([c, r]) as tfl.SymbolicTensor; // a residual join among the trainable layers
  });
  await assertComposes(residual, 'toy residual', [2, 8, 8, 3]);

  const skipped = toyBase((x, skip) => {
    const c = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
    return tfl.layers.add().apply([c, skip]) as tfl.SymbolicTensor; // the frozen skip joins above the trainable conv
  });
  assert.equal(frozenTrunk(skipped), null);

  const frozen = toyBase((x) => x);
  frozen.trainable = false;
  const whole = frozenTrunk(frozen);
  assert.ok(whole && whole.trunk === frozen && whole.rest === null);
});

for (const [name, size] of [
  ['xception-ft', 71],
  ['mobilenet-ft', 48],
  ['mobilenet-ft2', 48],
  ['xception', 71],
] as const) {
  test(`${name}: the frozen trunk's cached activations give the same predictions as images through the whole model`, async () => {
    await initBackend('wasm');
    const m = await buildModel(name, { imageSize: size, seed: 1, outputBias: 0, randomWeights: true });
    const split = await assertComposes(m.base!, name, [2, size, size, 3]);
    assert.equal(split.rest === null, name === 'xception');

    const count = 5;
    const pixels = randomValues(count * size * size * 3, 9).map((v) => (v + 1) / 2);
    const images = fixedImages(pixels, count, size);
    const features = await featureSource(split, images, { batchSize: 2, seed: 1, budgetBytes: 2 ** 30 });
    assert.ok(features);
    assert.equal(features.base, split.rest);
    const fromImages = await predictAll(m, images);
    const fromCache = await predictAll(m, features);
    const { ok, worst } = compare(fromCache, fromImages);
    assert.ok(ok, `predictions differ (${worst})`);
    m.model.dispose();
  });
}

test('predicting a source frees every batch it was given', async () => {
  await initBackend('wasm');
  const m = await buildModel('baseline', { imageSize: 46, seed: 1, outputBias: 0 });
  const source: InputSource = {
    size: 3,
    labels: new Float32Array(3),
    base: 'all',
    async *batches() {
      for (let i = 0; i < 3; i++) yield { x: tf.ones([1, 46, 46, 3]), y: tf.zeros([1, 1]), labels: new Float32Array(1), n: 1 };
    },
  };
  await predictAll(m, source); // first pass: lazy allocations
  const before = tf.memory().numTensors;
  await predictAll(m, source);
  assert.equal(tf.memory().numTensors, before);
  m.model.dispose();
});
