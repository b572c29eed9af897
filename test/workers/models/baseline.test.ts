import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { UserError } from '../../../common/errors.ts';
import { buildAugmented, buildBaseline } from '../../../workers/models/baseline.ts';

before(async () => {
  await tf.setBackend('cpu');
});

test('baseline has exactly 49,756 parameters, all trainable, with Keras layer names', () => {
  const m = buildBaseline({ imageSize: 64, seed: 1, outputBias: 0 });
  assert.equal(m.countParams(), 49_756);
  assert.deepEqual(
    m.layers.map((l) => l.name),
    [
      'input_1',
      'separable_conv2d',
      'max_pooling2d',
      'separable_conv2d_1',
      'max_pooling2d_1',
      'separable_conv2d_2',
      'max_pooling2d_2',
      'separable_conv2d_3',
      'max_pooling2d_3',
      'global_average_pooling2d',
      'dense',
      'dense_1',
    ],
  );
  assert.equal(
    m.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0),
    49_756,
  );
  m.dispose();
});

test('augmented puts Dropout(0.5) between the convolutional stack and the pooling, same parameter count', () => {
  const m = buildAugmented({ imageSize: 64, seed: 1, outputBias: 0 });
  assert.equal(m.countParams(), 49_756);
  const names = m.layers.map((l) => l.name);
  assert.equal(names.indexOf('dropout'), names.indexOf('max_pooling2d_3') + 1);
  assert.equal(names.indexOf('global_average_pooling2d'), names.indexOf('dropout') + 1);
  assert.equal((m.getLayer('dropout').getConfig() as { rate: number }).rate, 0.5);
  m.dispose();
});

test('46 px works and 45 px is a UserError', () => {
  const m = buildBaseline({ imageSize: 46, seed: 1, outputBias: 0 });
  assert.deepEqual(m.getLayer('max_pooling2d_3').outputShape, [null, 1, 1, 256]);
  const y = m.predict(tf.ones([1, 46, 46, 3])) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 1]);
  m.dispose();
  assert.throws(
    () => buildBaseline({ imageSize: 45, seed: 1, outputBias: 0 }),
    (e: unknown) => e instanceof UserError && /45.*46/.test(e.message),
  );
  assert.throws(() => buildAugmented({ imageSize: 45, seed: 1, outputBias: 0 }), UserError);
});

test('initial weights depend on the seed only', () => {
  const weights = (seed: number) => {
    const m = buildAugmented({ imageSize: 48, seed, outputBias: 0 });
    const values = m.getWeights().map((w) => Array.from(w.dataSync()));
    m.dispose();
    return values;
  };
  const a = weights(7);
  assert.deepEqual(weights(7), a);
  const b = weights(8);
  // Every randomly initialised tensor (kernels; biases start at zero) differs under another seed.
  const kernels = a.map((_, i) => i).filter((i) => a[i]!.some((v) => v !== 0));
  assert.equal(kernels.length, 10); // 4 x (depthwise, pointwise) + 2 dense kernels
  for (const i of kernels) assert.notDeepEqual(b[i], a[i], `tensor ${i}`);
});

test('the output bias starts at the given log-odds, so the untrained model predicts the prior on blank input', () => {
  const bias = Math.log(438 / 1440);
  const m = buildBaseline({ imageSize: 48, seed: 3, outputBias: bias });
  const [, b] = m.getLayer('dense_1').getWeights();
  assert.ok(b, 'dense_1 has a bias');
  assert.ok(Math.abs(b.dataSync()[0]! - bias) < 1e-6);
  // All-zero images: every activation is relu(bias) = 0, so only the output bias is left.
  const p = (m.predict(tf.zeros([2, 48, 48, 3])) as tf.Tensor).dataSync();
  for (const v of p) assert.ok(Math.abs(v - 1 / (1 + Math.exp(-bias))) < 1e-6);
  m.dispose();
});
