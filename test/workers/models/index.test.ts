import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { UserError } from '../../../common/errors.ts';
import { fileLoadHandler } from '../../../workers/models/file-io.ts';
import { buildModel, loadWeightsByName, saveModel, summarize } from '../../../workers/models/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'melanoma-models-'));

before(async () => {
  await tf.setBackend('cpu');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const images = (n: number, size: number, seed: number) => tf.randomUniform([n, size, size, 3], 0, 1, 'float32', seed);

test('save -> load round trip gives identical predictions (by name into a fresh model, and tf.loadLayersModel)', async () => {
  const a = await buildModel('augmented', { imageSize: 64, seed: 1, outputBias: -0.5 });
  const dir = join(tmp, 'augmented');
  await saveModel(a.model, dir);
  assert.ok(existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin')));
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weightsManifest[0];
  assert.deepEqual(manifest.paths, ['weights.bin']);
  assert.equal(manifest.weights[0].name, 'separable_conv2d/depthwise_kernel');

  const x = images(2, 64, 3);
  const expected = (a.model.predict(x) as tf.Tensor).dataSync();
  const b = await buildModel('augmented', { imageSize: 64, seed: 2, outputBias: 0 });
  assert.notDeepEqual((b.model.predict(x) as tf.Tensor).dataSync(), expected);
  const report = await loadWeightsByName(b.model, dir);
  assert.equal(report.params, 49_756);
  assert.deepEqual((b.model.predict(x) as tf.Tensor).dataSync(), expected);

  const loaded = await tfl.loadLayersModel(fileLoadHandler(dir));
  assert.deepEqual((loaded.predict(x) as tf.Tensor).dataSync(), expected);
  for (const m of [a.model, b.model, loaded]) m.dispose();
});

test('a pretrained model (nested base + head, rescaling) round-trips; -ft starts from the saved checkpoint', async () => {
  const a = await buildModel('mobilenet', { imageSize: 64, seed: 1, outputBias: 0.3, randomWeights: true });
  const dir = join(tmp, 'mobilenet');
  await saveModel(a.model, dir);
  const x = images(2, 64, 4);
  const expected = (a.model.predict(x) as tf.Tensor).dataSync();

  const loaded = await tfl.loadLayersModel(fileLoadHandler(dir));
  const got = (loaded.predict(x) as tf.Tensor).dataSync();
  for (const [i, v] of got.entries()) assert.ok(Math.abs(v - expected[i]!) < 1e-6);

  const ft = await buildModel('mobilenet-ft', { imageSize: 64, seed: 9, outputBias: 0, initFrom: dir });
  assert.equal(ft.loaded?.params, a.totalParams);
  assert.deepEqual((ft.model.predict(x) as tf.Tensor).dataSync(), expected);
  assert.ok(ft.trainableParams > a.trainableParams);
  const ft2 = await buildModel('mobilenet-ft2', { imageSize: 64, seed: 9, outputBias: 0, initFrom: dir });
  assert.equal(ft2.loaded?.params, a.totalParams);
  assert.deepEqual((ft2.model.predict(x) as tf.Tensor).dataSync(), expected);
  assert.ok(ft2.trainableParams > ft.trainableParams);
  for (const m of [a.model, loaded, ft.model, ft2.model]) m.dispose();
});

test('loading a checkpoint of another model or size is a UserError naming the file', async () => {
  const dir = join(tmp, 'baseline');
  const a = await buildModel('baseline', { imageSize: 64, seed: 1, outputBias: 0 });
  await saveModel(a.model, dir);
  const other = await buildModel('mobilenet', { imageSize: 64, seed: 1, outputBias: 0, randomWeights: true });
  await assert.rejects(
    loadWeightsByName(other.model, dir),
    (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'model.json')) && /lacks/.test(e.message),
  );
  await assert.rejects(loadWeightsByName(other.model, join(tmp, 'nowhere')), UserError);
  await assert.rejects(
    buildModel('mobilenet-ft', { imageSize: 64, seed: 1, outputBias: 0, initFrom: join(tmp, 'nowhere') }),
    (e: unknown) => e instanceof UserError && e.message.includes('nowhere'),
  );
  writeFileSync(join(tmp, 'broken.json'), '{ not json');
  await assert.rejects(loadWeightsByName(a.model, join(tmp, 'broken.json')), (e: unknown) => e instanceof UserError && /not valid JSON/.test(e.message));
  a.model.dispose();
  other.model.dispose();
});

test('summarize lists the layers of base and head with parameter counts', async () => {
  const m = await buildModel('mobilenet-ft', { imageSize: 96, seed: 1, outputBias: 0, randomWeights: true });
  const s = summarize(m.model);
  assert.equal(s.total, m.totalParams);
  assert.equal(s.trainable, m.trainableParams);
  assert.equal(
    s.layers.reduce((n, l) => n + l.params, 0),
    s.total,
  );
  const row = (name: string) => s.layers.find((l) => l.name === name)!;
  assert.deepEqual(row('Conv1'), { name: 'Conv1', className: 'Conv2D', outputShape: '(None, 48, 48, 16)', params: 432, trainable: false });
  assert.equal(row('Conv_1_bn').trainable, true);
  assert.equal(row('dense').outputShape, '(None, 16)');
  assert.equal(s.layers[0]!.name, 'images');
  m.model.dispose();
});

test('pretrained models: the head is seeded and its output bias is the given log-odds', async () => {
  const weights = async (seed: number) => {
    const m = await buildModel('mobilenet', { imageSize: 64, seed, outputBias: -1.25, randomWeights: true });
    const values = new Map(m.model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
    m.model.dispose();
    return values;
  };
  const a = await weights(5);
  assert.deepEqual(a.get('dense_1/bias'), [-1.25]);
  assert.deepEqual(await weights(5), a);
  const b = await weights(6);
  for (const name of ['dense/kernel', 'dense_1/kernel', 'Conv1/kernel', 'Conv_1/kernel']) assert.notDeepEqual(b.get(name), a.get(name), name);
});
