import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { UserError } from '../../../common/errors.ts';
import { MODELS } from '../../../study/models.ts';
import { buildModel } from '../../../workers/models/index.ts';
import { leafLayers } from '../../../workers/models/weights-by-name.ts';
import { XCEPTION_BASE_PARAMS, buildXceptionBase, xceptionH5LayerNames } from '../../../workers/models/xception.ts';

const size = (ws: { shape: (number | null)[] }[]) => ws.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
const empty = mkdtempSync(join(tmpdir(), 'melanoma-noweights-'));

before(async () => {
  await tf.setBackend('cpu');
});
after(() => rmSync(empty, { recursive: true, force: true }));

test('Xception base: 20,861,480 parameters, 7x7x2048 at 224, Keras layer names', () => {
  const base = buildXceptionBase(224, 1);
  assert.equal(base.countParams(), XCEPTION_BASE_PARAMS);
  assert.equal(XCEPTION_BASE_PARAMS, 20_861_480);
  assert.deepEqual(base.outputShape, [null, 7, 7, 2048]);
  const names = leafLayers(base).map((l) => l.name);
  assert.deepEqual(names.slice(1, 5), ['rescaling', 'block1_conv1', 'block1_conv1_bn', 'block1_conv1_act']);
  assert.equal(names[names.length - 1], 'block14_sepconv2_act');
  for (const n of ['conv2d', 'conv2d_1', 'conv2d_2', 'conv2d_3', 'batch_normalization_3', 'block2_sepconv2_act', 'block13_pool', 'add_11']) {
    assert.ok(names.includes(n), n);
  }
  assert.equal(names.filter((n) => /^conv2d/.test(n)).length, 4);
  // 36 convolutions (2 + 2*3 in blocks 2-4 + 3*8 in 5-12 + 2 + 2) and 4 residual ones, each with its BN.
  assert.equal(base.layers.filter((l) => l.getClassName() === 'BatchNormalization').length, 40);
  base.dispose();
});

test('xception at 224: 1,605,665 trainable (the head) with the base frozen', async () => {
  const m = await buildModel('xception', { imageSize: 224, seed: 1, outputBias: 0, randomWeights: true });
  assert.equal(m.totalParams, 20_861_480 + 1_605_665);
  assert.equal(m.trainableParams, 1_605_665);
  assert.deepEqual(
    m.model.trainableWeights.map((w) => w.originalName),
    ['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias'],
  );
  assert.deepEqual(m.head.outputShape, [null, 1]);
  m.model.dispose();
});

test('xception-ft at 224: 6,354,465 trainable = head + the six block14 layers', async () => {
  const m = await buildModel('xception-ft', { imageSize: 224, seed: 1, outputBias: 0, randomWeights: true });
  assert.equal(m.trainableParams, 6_354_465);
  const layers = new Set(m.model.trainableWeights.map((w) => w.originalName.split('/')[0]));
  assert.deepEqual([...layers].sort(), ['block14_sepconv1', 'block14_sepconv1_bn', 'block14_sepconv2', 'block14_sepconv2_bn', 'dense', 'dense_1']);
  // BN moving statistics stay frozen.
  assert.ok(m.model.trainableWeights.every((w) => !/moving/.test(w.originalName)));
  for (const name of MODELS['xception-ft'].fineTune!.layers.names) assert.equal(m.base!.getLayer(name).trainable, true, name);
  assert.equal(m.base!.getLayer('block13_sepconv2').trainable, false);
  assert.equal(size(m.model.trainableWeights), 6_354_465);
  m.model.dispose();
});

test('71 px is the smallest Xception input; it runs and gives probabilities', async () => {
  assert.throws(
    () => buildXceptionBase(70, 1),
    (e: unknown) => e instanceof UserError && /70.*71/.test(e.message),
  );
  const m = await buildModel('xception', { imageSize: 71, seed: 1, outputBias: -1, randomWeights: true });
  const p = (m.model.predict(tf.randomUniform([1, 71, 71, 3], 0, 1, 'float32', 1)) as tf.Tensor).dataSync();
  assert.equal(p.length, 1);
  assert.ok(Number.isFinite(p[0]) && p[0]! > 0 && p[0]! < 1);
  m.model.dispose();
});

test('without weight files xception stops with a UserError that says how to get them', async () => {
  await assert.rejects(
    buildModel('xception', { imageSize: 71, seed: 1, outputBias: 0, weights: empty }),
    (e: unknown) => e instanceof UserError && e.message.includes('melanoma weights download xception'),
  );
  await assert.rejects(
    buildModel('xception', { imageSize: 71, seed: 1, outputBias: 0, weights: join(empty, 'missing.h5') }),
    (e: unknown) => e instanceof UserError && e.message.includes('missing.h5'),
  );
});

test('xception-ft without initFrom is a UserError', async () => {
  await assert.rejects(
    buildModel('xception-ft', { imageSize: 71, seed: 1, outputBias: 0 }),
    (e: unknown) => e instanceof UserError && /init-from/.test(e.message),
  );
});

test('the unnamed residual layers of the Keras 2.0 file map by order onto the model names', () => {
  const keras2 = [
    'block1_conv1',
    'conv2d_1',
    'batch_normalization_1',
    'conv2d_2',
    'batch_normalization_2',
    'conv2d_3',
    'batch_normalization_3',
    'conv2d_4',
    'batch_normalization_4',
    'add_1',
  ];
  const map = xceptionH5LayerNames(keras2);
  assert.deepEqual(
    ['conv2d_1', 'conv2d_2', 'conv2d_3', 'conv2d_4', 'batch_normalization_1', 'batch_normalization_4', 'block1_conv1'].map((n) => map.get(n)),
    ['conv2d', 'conv2d_1', 'conv2d_2', 'conv2d_3', 'batch_normalization', 'batch_normalization_3', 'block1_conv1'],
  );
  // Files written by newer Keras already use the model's names.
  const newer = xceptionH5LayerNames([
    'conv2d',
    'conv2d_1',
    'conv2d_2',
    'conv2d_3',
    'batch_normalization',
    'batch_normalization_1',
    'batch_normalization_2',
    'batch_normalization_3',
  ]);
  assert.equal(newer.get('conv2d_1'), 'conv2d_1');
  assert.throws(() => xceptionH5LayerNames(['conv2d_1', 'batch_normalization_1']), UserError);
});
