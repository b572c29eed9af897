import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { UserError } from '../../../common/errors.ts';
import { fileLoadHandler } from '../../../workers/models/file-io.ts';
import { buildModel } from '../../../workers/models/index.ts';
import { MOBILENET_BASE_PARAMS, buildMobileNetV2Base, makeDivisible } from '../../../workers/models/mobilenet.ts';
import { trainsBaseLayer } from '../../../study/models.ts';
import { leafLayers } from '../../../workers/models/weights-by-name.ts';
import { sharedWeightsOrSkip } from '../../helpers/real-data.ts';

before(async () => {
  await tf.setBackend('cpu');
});

test('MobileNetV2 0.35 base: 410,208 parameters at any size, Keras layer names, 32 px minimum', () => {
  assert.deepEqual(
    [11.2, 5, 8.4, 11.2, 22.4, 33.6, 56, 112].map((v) => makeDivisible(v)),
    [16, 8, 8, 16, 24, 32, 56, 112],
  );
  const base = buildMobileNetV2Base(224, 1);
  assert.equal(base.countParams(), MOBILENET_BASE_PARAMS);
  assert.equal(MOBILENET_BASE_PARAMS, 410_208);
  assert.deepEqual(base.outputShape, [null, 7, 7, 1280]);
  const names = base.layers.map((l) => l.name);
  assert.deepEqual(names.slice(2, 6), ['Conv1', 'bn_Conv1', 'Conv1_relu', 'expanded_conv_depthwise']);
  assert.deepEqual(names.slice(-4), ['block_16_project_BN', 'Conv_1', 'Conv_1_bn', 'out_relu']);
  assert.equal(base.weights.length, 260);
  base.dispose();
  for (const s of [32, 33, 96]) {
    const b = buildMobileNetV2Base(s, 1);
    assert.equal(b.countParams(), 410_208, `${s} px`);
    b.dispose();
  }
  assert.throws(() => buildMobileNetV2Base(31, 1), UserError);
});

test('mobilenet / mobilenet-ft trainable counts at 224 and 96', async () => {
  const expected = {
    224: { head: 7 * 7 * 1280 * 16 + 16 + 17 },
    96: { head: 3 * 3 * 1280 * 16 + 16 + 17 },
  };
  for (const size of [224, 96] as const) {
    const frozen = await buildModel('mobilenet', { imageSize: size, seed: 1, outputBias: 0, randomWeights: true });
    assert.equal(frozen.trainableParams, expected[size].head);
    assert.equal(frozen.totalParams, 410_208 + expected[size].head);
    frozen.model.dispose();
    const ft = await buildModel('mobilenet-ft', { imageSize: size, seed: 1, outputBias: 0, randomWeights: true });
    // block_16 (56 -> 336 -> 112 channels): expand 56x336 + BN, depthwise 3x3x336 + BN, project 336x112 + BN;
    // Conv_1 112x1280 + BN (BN: gamma and beta trainable, the moving statistics not).
    const lastStage = 56 * 336 + 2 * 336 + 9 * 336 + 2 * 336 + 336 * 112 + 2 * 112 + 112 * 1280 + 2 * 1280;
    assert.equal(ft.trainableParams, expected[size].head + lastStage);
    const layers = new Set(ft.model.trainableWeights.map((w) => w.originalName.split('/')[0]));
    assert.deepEqual([...layers].sort(), [
      'Conv_1',
      'Conv_1_bn',
      'block_16_depthwise',
      'block_16_depthwise_BN',
      'block_16_expand',
      'block_16_expand_BN',
      'block_16_project',
      'block_16_project_BN',
      'dense',
      'dense_1',
    ]);
    ft.model.dispose();
  }
  const ft = (layer: string) => trainsBaseLayer('mobilenet-ft', layer);
  assert.ok(ft('block_16_expand_relu') && !ft('block_15_add') && !ft('out_relu'));
});

test('mobilenet-ft2 trains the last two stages: blocks 13 to 16 and Conv_1, 1,314,241 parameters at 224', async () => {
  // Block 13 (32 -> 192 -> 56 channels, stride 2), blocks 14 and 15 (56 -> 336 -> 56, residual), block 16 and
  // Conv_1 as mobilenet-ft; each convolution with its BN's gamma and beta.
  const block = (cin: number, cexp: number, cout: number) => cin * cexp + 2 * cexp + 9 * cexp + 2 * cexp + cexp * cout + 2 * cout;
  const lastTwoStages = block(32, 192, 56) + 2 * block(56, 336, 56) + block(56, 336, 112) + 112 * 1280 + 2 * 1280;
  for (const [size, side] of [
    [224, 7],
    [96, 3],
  ] as const) {
    const m = await buildModel('mobilenet-ft2', { imageSize: size, seed: 1, outputBias: 0, randomWeights: true });
    assert.equal(m.trainableParams, side * side * 1280 * 16 + 16 + 17 + lastTwoStages);
    assert.equal(m.totalParams, 410_208 + side * side * 1280 * 16 + 16 + 17);
    const layers = new Set(m.model.trainableWeights.map((w) => w.originalName.split('/')[0]));
    const stages = [13, 14, 15, 16].flatMap((b) => ['depthwise', 'depthwise_BN', 'expand', 'expand_BN', 'project', 'project_BN'].map((l) => `block_${b}_${l}`));
    assert.deepEqual([...layers].sort(), ['Conv_1', 'Conv_1_bn', ...stages, 'dense', 'dense_1'].sort());
    assert.ok(
      m.model.trainableWeights.every((w) => !/moving/.test(w.originalName)),
      'BN statistics stay frozen',
    );
    m.model.dispose();
  }
  assert.equal(lastTwoStages + 7 * 7 * 1280 * 16 + 33, 1_314_241);
});

test('real ImageNet weights load by name: every base tensor found, forward pass at 96 px is finite', async (t) => {
  const dir = sharedWeightsOrSkip(t, 'mobilenet_v2_035_224');
  if (!dir) return;
  const m = await buildModel('mobilenet', { imageSize: 96, seed: 1, outputBias: -1.2, weights: dir });
  assert.deepEqual({ tensors: m.loaded!.tensors, params: m.loaded!.params }, { tensors: 260, params: 410_208 });
  const p = (m.model.predict(tf.randomUniform([2, 96, 96, 3], 0, 1, 'float32', 5)) as tf.Tensor).dataSync();
  assert.equal(p.length, 2);
  for (const v of p) assert.ok(Number.isFinite(v) && v > 0 && v < 1, String(v));
  m.model.dispose();
});

test('frozen base at 224 equals the original TensorFlow.js model, and stays in inference mode when training', async (t) => {
  const dir = sharedWeightsOrSkip(t, 'mobilenet_v2_035_224');
  if (!dir) return;
  const m = await buildModel('mobilenet', { imageSize: 224, seed: 1, outputBias: 0, weights: dir });
  const original = await tfl.loadLayersModel(fileLoadHandler(dir));
  // The export is Sequential[Sequential[model2 (the base), GAP], Sequential[dense head]].
  const originalBase = (original.layers[0] as tfl.LayersModel).layers[0] as tfl.LayersModel;
  assert.deepEqual(
    leafLayers(originalBase)
      .filter((l) => l.weights.length > 0)
      .map((l) => l.name),
    leafLayers(m.base!)
      .filter((l) => l.weights.length > 0)
      .map((l) => l.name),
  );

  const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 11);
  const ours = m.base!.predict(x) as tf.Tensor;
  const theirs = originalBase.predict(tf.sub(tf.mul(x, 2), 1)) as tf.Tensor; // MobileNet's own x/127.5 - 1
  assert.deepEqual(ours.shape, [1, 7, 7, 1280]);
  const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!;
  assert.ok(diff < 1e-4, `max difference ${diff}`);
  assert.ok(tf.max(theirs).dataSync()[0]! > 0.5, 'the reference output is not trivially zero');

  // fit() runs layers in training mode; the base must still use its ImageNet BN statistics.
  const trainingMode = m.base!.apply(x, { training: true }) as tf.Tensor;
  assert.equal(tf.max(tf.abs(tf.sub(trainingMode, ours))).dataSync()[0], 0);
  const bnMean = Array.from(m.base!.getLayer('Conv_1_bn').getWeights()[2]!.dataSync());
  m.model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  await m.model.fit(x, tf.tensor2d([[1]]), { epochs: 1, batchSize: 1, verbose: 0 });
  assert.deepEqual(Array.from(m.base!.getLayer('Conv_1_bn').getWeights()[2]!.dataSync()), bnMean);
  m.model.dispose();
  original.dispose();
});

test('a weights folder without MobileNet weights is a UserError naming it and the download command', async () => {
  await assert.rejects(
    buildModel('mobilenet', { imageSize: 96, seed: 1, outputBias: 0, weights: '/nonexistent/weights' }),
    (e: unknown) => e instanceof UserError && e.message.includes('/nonexistent/weights') && e.message.includes('melanoma weights download mobilenet'),
  );
});
