import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import h5wasm from 'h5wasm/node';
import { UserError } from '../../../common/errors.ts';
import { buildModel } from '../../../workers/models/index.ts';
import { buildMobileNetV1Base } from '../../../workers/models/mobilenet-v1.ts';
import { leafLayers, weightKey } from '../../../workers/models/weights-by-name.ts';
import { readH5Weights } from '../../../study/weights/keras-h5.ts';
import { loadH5Weights } from '../../../workers/models/weights-h5.ts';
import { PRETRAINED } from '../../../study/weights/pretrained.ts';
import { buildXceptionBase, xceptionH5LayerNames } from '../../../workers/models/xception.ts';
import { sharedWeightsOrSkip } from '../../helpers/real-data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'melanoma-h5-'));

before(async () => {
  await tf.setBackend('cpu');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a model's weights the way Keras' save_weights does: `<layer>/<layer>/<param>:0`, layer_names, weight_names. */
async function writeKerasH5(model: tfl.LayersModel, path: string, rename: (layer: string) => string = (n) => n): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const layers = leafLayers(model);
  f.create_attribute(
    'layer_names',
    layers.map((l) => rename(l.name)),
  );
  f.create_attribute('keras_version', '2.0.8');
  for (const layer of layers) {
    const name = rename(layer.name);
    const group = f.create_group(name);
    const weightNames = layer.weights.map((w) => `${name}/${weightKey(layer, w).split('/')[1]}:0`);
    group.create_attribute('weight_names', weightNames);
    if (weightNames.length > 0) group.create_group(name);
    for (const [i, w] of layer.weights.entries()) {
      group.create_dataset({ name: weightNames[i]!, data: w.read().dataSync() as Float32Array, shape: w.shape as number[], dtype: '<f' });
    }
  }
  f.close();
}

test('the real Keras MobileNet v1 0.25 file: 135 tensors, 218,544 parameters, all loaded by name', async (t) => {
  const dir = sharedWeightsOrSkip(t, 'mobilenet_v1_025_224_notop_h5');
  if (!dir) return;
  const file = join(dir, 'mobilenet_2_5_224_tf_no_top.h5');
  const h5 = await readH5Weights(file);
  assert.equal(h5.kerasVersion, '2.0.4');
  assert.equal(h5.tensors.length, 135);
  assert.equal(
    h5.tensors.reduce((n, x) => n + x.values.length, 0),
    218_544,
  );
  const first = h5.tensors[0]!;
  assert.deepEqual([first.layer, first.param, first.shape], ['conv1', 'kernel', [3, 3, 3, 8]]);
  assert.equal(h5.tensors[h5.tensors.length - 1]!.layer, 'conv_pw_13_bn');

  const model = buildMobileNetV1Base(224, 0.25);
  assert.equal(model.countParams(), 218_544);
  const before = model.getLayer('conv_pw_13').getWeights()[0]!.dataSync().slice(0, 4);
  const report = await loadH5Weights(model, file);
  assert.deepEqual({ tensors: report.tensors, params: report.params, unused: report.unused }, { tensors: 135, params: 218_544, unused: [] });
  // Spot-check that values landed in the right variables.
  const pw13 = h5.tensors.find((x) => x.layer === 'conv_pw_13' && x.param === 'kernel')!;
  assert.deepEqual(model.getLayer('conv_pw_13').getWeights()[0]!.dataSync(), pw13.values);
  assert.notDeepEqual(Array.from(before), Array.from(pw13.values.slice(0, 4)));
  const variance = h5.tensors.find((x) => x.layer === 'conv_dw_7_bn' && x.param === 'moving_variance')!;
  assert.deepEqual(model.getLayer('conv_dw_7_bn').getWeights()[3]!.dataSync(), variance.values);

  const y = model.predict(tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 2)) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 7, 7, 256]);
  const values = y.dataSync();
  assert.ok(values.every(Number.isFinite));
  assert.ok(tf.max(y).dataSync()[0]! > 0, 'activations are not all zero');
  model.dispose();
});

test('a model with a layer the file lacks, or of another width, is a UserError', async (t) => {
  const dir = sharedWeightsOrSkip(t, 'mobilenet_v1_025_224_notop_h5');
  if (!dir) return;
  const file = join(dir, 'mobilenet_2_5_224_tf_no_top.h5');
  const wider = buildMobileNetV1Base(128, 0.5);
  await assert.rejects(loadH5Weights(wider, file), (e: unknown) => e instanceof UserError && /wrong shape.*conv1\/kernel/.test(e.message));
  wider.dispose();
  const v2 = buildXceptionBase(71, 0);
  await assert.rejects(loadH5Weights(v2, file), (e: unknown) => e instanceof UserError && /lacks 234 of the 234 weights/.test(e.message));
  v2.dispose();
});

test('files that are not Keras HDF5 weights are UserErrors naming the file', async () => {
  const text = join(tmp, 'not.h5');
  writeFileSync(text, 'hello, not HDF5');
  await assert.rejects(readH5Weights(text), (e: unknown) => e instanceof UserError && e.message.includes(text));
  await assert.rejects(readH5Weights(join(tmp, 'absent.h5')), (e: unknown) => e instanceof UserError && /does not exist/.test(e.message));
  await h5wasm.ready;
  const plain = join(tmp, 'plain.h5');
  const f = new h5wasm.File(plain, 'w');
  f.create_dataset({ name: 'x', data: new Float32Array([1, 2]) });
  f.close();
  await assert.rejects(readH5Weights(plain), (e: unknown) => e instanceof UserError && /layer_names/.test(e.message));
});

test('an Xception file in the Keras 2.0 layout (conv2d_1..4, batch_normalization_1..4) loads into the Keras-named model', async () => {
  const source = buildXceptionBase(71, 1);
  const keras2 = (n: string) =>
    n.replace(/^(conv2d|batch_normalization)(?:_(\d+))?$/, (_m, p: string, k?: string) => `${p}_${k === undefined ? 1 : Number(k) + 1}`);
  const file = join(tmp, PRETRAINED.xception.file);
  await writeKerasH5(source, file, keras2);
  const h5 = await readH5Weights(file);
  assert.deepEqual(
    h5.layerNames.filter((n) => n.startsWith('conv2d')),
    ['conv2d_1', 'conv2d_2', 'conv2d_3', 'conv2d_4'],
  );

  const target = buildXceptionBase(71, 2);
  const report = await loadH5Weights(target, file, { renameLayers: xceptionH5LayerNames });
  assert.deepEqual({ tensors: report.tensors, params: report.params }, { tensors: 234, params: 20_861_480 });
  for (const name of ['conv2d', 'conv2d_3', 'batch_normalization_2', 'block14_sepconv2']) {
    const a = source.getLayer(name).getWeights();
    const b = target.getLayer(name).getWeights();
    for (const [i, w] of a.entries()) assert.deepEqual(b[i]!.dataSync(), w.dataSync(), name);
  }
  // Read by name without the order mapping, conv2d_1 of the file (the model's conv2d, 64->128) cannot fit the
  // model's conv2d_1 (128->256).
  const unmapped = buildXceptionBase(71, 3);
  await assert.rejects(loadH5Weights(unmapped, file), UserError);
  unmapped.dispose();
  source.dispose();
  target.dispose();

  // buildModel finds the file in a weights folder.
  const m = await buildModel('xception', { imageSize: 71, seed: 4, outputBias: 0, weights: tmp });
  assert.equal(m.loaded?.params, 20_861_480);
  assert.equal(m.loaded?.from, file);
  m.model.dispose();
  rmSync(file);
});
