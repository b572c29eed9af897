/**
 * A model is one registry record (study/models.ts) plus, for a new network, its file and builder: every consumer
 * of the models takes each record from the registry. Each test enumerates the records and asks one consumer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { UsageError, UserError } from '../../common/errors.ts';
import { checkPretrainedWeights } from '../../orchestrator/preflight.ts';
import { checkMinImageSize } from '../../study/image-size.ts';
import { FINE_TUNES, MODEL_NAMES, MODELS, PRETRAINED, PRETRAINED_NAMES, pretrainedOf, settingsModel, type ModelName } from '../../study/models.ts';
import { PROTOCOL_NAMES, PROTOCOLS, runSettings } from '../../study/protocol.ts';
import { BUILDERS, buildModel } from '../../workers/models/index.ts';

/** `model` with every model it starts from, bases first: what --models must name to plan it. */
function withBases(model: ModelName): ModelName[] {
  const base = FINE_TUNES[model];
  return base ? [...withBases(base), model] : [model];
}

test('every protocol gives every record its settings: its architecture and fine-tuning, the settings of the article model it stands for', () => {
  for (const name of PROTOCOL_NAMES) {
    for (const model of MODEL_NAMES) {
      const record = MODELS[model];
      const settings = PROTOCOLS[name].models[model];
      assert.ok(settings, `${name}: ${model}`);
      assert.deepEqual(settings.architecture, record.architecture, `${name}.${model}`);
      assert.deepEqual(settings.fineTune, record.fineTune && { base: record.fineTune.base, unfrozen: record.fineTune.unfrozen }, `${name}.${model}`);
      assert.deepEqual(runSettings(settings), runSettings(PROTOCOLS[name].models[settingsModel(model)]), `${name}.${model}`);
      assert.equal(settings.standsInFor, record.standsInFor);
    }
  }
});

test('every record builds through its builder at its smallest image size, which the image-size check and the network agree on', async () => {
  await tf.setBackend('cpu');
  for (const model of MODEL_NAMES) {
    const { builder, minImageSize } = MODELS[model];
    assert.ok(BUILDERS[builder], `${model}: no builder ${builder}`);
    assert.throws(
      () => checkMinImageSize(minImageSize.px - 1, [model]),
      (e: unknown) => e instanceof UsageError && e.message.includes(model),
    );
    checkMinImageSize(minImageSize.px, [model]);
    await assert.rejects(buildModel(model, { imageSize: minImageSize.px - 1, seed: 1, outputBias: 0, randomWeights: true }), UserError, model);
    const m = await buildModel(model, { imageSize: minImageSize.px, seed: 1, outputBias: 0, randomWeights: true });
    assert.equal((m.model.predict(tf.zeros([1, minImageSize.px, minImageSize.px, 3])) as tf.Tensor).shape.join(), '1,1', model);
    m.model.dispose();
  }
});

test("a fine-tuning record's layers are exactly the base layers that train, and each of its names and prefixes finds one", async () => {
  await tf.setBackend('cpu');
  for (const model of MODEL_NAMES) {
    const fineTune = MODELS[model].fineTune;
    if (!fineTune) continue;
    const size = MODELS[model].minImageSize.px;
    const m = await buildModel(model, { imageSize: size, seed: 1, outputBias: 0, randomWeights: true });
    const layers = m.base!.layers.map((l) => l.name);
    for (const name of fineTune.layers.names) assert.ok(layers.includes(name), `${model}: no layer ${name}`);
    for (const prefix of fineTune.layers.prefixes)
      assert.ok(
        layers.some((l) => l.startsWith(prefix)),
        `${model}: no layer ${prefix}*`,
      );
    const matches = (l: string) => fineTune.layers.names.includes(l) || fineTune.layers.prefixes.some((p) => l.startsWith(p));
    const trained = new Set(m.base!.trainableWeights.map((w) => w.originalName.split('/')[0]));
    const expected = m.base!.layers.filter((l) => matches(l.name) && l.trainableWeights.length > 0).map((l) => l.name);
    assert.deepEqual([...trained].sort(), expected.sort(), model);
    const frozen = await buildModel(fineTune.base.value as ModelName, { imageSize: size, seed: 1, outputBias: 0, randomWeights: true });
    assert.equal(frozen.base!.trainableWeights.length, 0, `${fineTune.base.value} trains none of its base`);
    m.model.dispose();
    frozen.model.dispose();
  }
});

test('preflight asks for the ImageNet file of every record that starts from one, directly or through its base', () => {
  const empty = mkdtempSync(join(tmpdir(), 'registry-weights-'));
  for (const model of MODEL_NAMES) {
    const pretrained = pretrainedOf(model);
    if (pretrained === null) {
      checkPretrainedWeights(withBases(model), empty);
      continue;
    }
    assert.throws(
      () => checkPretrainedWeights([model], empty),
      (e: unknown) => e instanceof UserError && e.message.includes(`no ${pretrained} weights in ${empty}`) && e.message.includes(PRETRAINED[pretrained].file),
      model,
    );
  }
  assert.deepEqual(
    PRETRAINED_NAMES,
    MODEL_NAMES.filter((m) => MODELS[m].pretrained !== null),
  );
});
