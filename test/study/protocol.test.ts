import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODEL_NAMES, type ModelName } from '../../study/models.ts';
import { PROTOCOLS, PROTOCOL_NAMES, resolveProtocol, runSettings, settingRows, type Setting } from '../../study/protocol.ts';

/** Every Setting inside a value, with its path. */
function settingsIn(value: unknown, path: string): [string, Setting<unknown>][] {
  if (value === null || typeof value !== 'object') return [];
  if ('value' in value && 'source' in value) return [[path, value as Setting<unknown>]];
  return Object.entries(value).flatMap(([k, v]) => settingsIn(v, `${path}.${k}`));
}

test('every setting of every model in both protocols names its source: an article line, or the reason for a choice', () => {
  for (const name of PROTOCOL_NAMES) {
    for (const model of MODEL_NAMES) {
      const m = PROTOCOLS[name].models[model];
      const found = settingsIn(m, `${name}.${model}`);
      // architecture, runs, epochs, patience, learning rate, batch size, image size, augment, input scaling,
      // validation, output bias (+ 8 augmentation parameters, + 2 fine-tuning settings)
      assert.ok(found.length >= 11, `${name}.${model}: ${found.length} settings`);
      for (const [path, s] of found) {
        const text = 'article' in s.source ? s.source.article : 'choice' in s.source ? s.source.choice : '';
        assert.match(text, /\S{2,}/, `${path} has no source`);
        if ('article' in s.source) assert.match(s.source.article, /^\d/, `${path}: an article source starts with its line`);
      }
    }
  }
});

test('seed is the article: 50/25/100 epochs, one -ft run, patience 10, augmented transfer models, first 20%, [0, 1] inputs', () => {
  const seed = PROTOCOLS.seed.models;
  const values = (model: ModelName) => runSettings(seed[model]);
  assert.deepEqual(
    MODEL_NAMES.map((m) => [m, values(m).epochs, seed[m].runs.value]),
    [
      ['baseline', 50, 10],
      ['augmented', 25, 10],
      ['xception', 100, 10],
      ['xception-ft', 100, 1],
      ['mobilenet', 100, 10],
      ['mobilenet-ft', 100, 1],
      ['mobilenet-ft2', 100, 1],
    ],
  );
  for (const m of MODEL_NAMES) {
    const v = values(m);
    assert.equal(v.patience, 10);
    assert.equal(v.batchSize, 32);
    assert.equal(v.imageSize, 224);
    assert.deepEqual(v.validation, { fraction: 0.2, take: 'first' });
    assert.equal(v.inputScaling, '[0, 1]', `${m} gets the generators' [0, 1]`);
    assert.equal(v.augment !== null, m !== 'baseline', `${m} augmentation`);
  }
  assert.equal(values('augmented').augment!.rotationRange, 30);
  assert.ok('article' in seed.augmented.augmentation!.rotationRange.source);
  assert.ok('choice' in seed.augmented.augmentation!.zoomRange.source, "zoom is the project's value");
  assert.ok('article' in seed.xception.augment.source && /279/.test((seed.xception.augment.source as { article: string }).article));
  assert.equal(values('baseline').learningRate, 1e-3);
  assert.ok('article' in seed.baseline.learningRate.source);
  assert.ok('choice' in seed.xception.learningRate.source && 'choice' in seed['xception-ft'].learningRate.source);
  assert.equal(seed['xception-ft'].fineTune?.base.value, 'xception');
});

test('the MobileNetV2 models take the settings of the Xception model they replace, and say so', () => {
  for (const name of PROTOCOL_NAMES) {
    const models = PROTOCOLS[name].models;
    for (const [standIn, replaced] of [
      ['mobilenet', 'xception'],
      ['mobilenet-ft', 'xception-ft'],
      ['mobilenet-ft2', 'xception-ft'],
    ] as const) {
      assert.deepEqual(runSettings(models[standIn]), runSettings(models[replaced]), `${name}: ${standIn}`);
      assert.equal(models[standIn].runs.value, models[replaced].runs.value);
      assert.equal(models[standIn].standsInFor, replaced);
      assert.ok(settingRows(models, [standIn]).some((r) => r.setting === 'stands in for' && r.value === replaced));
    }
  }
});

test('extended is the earlier behaviour: 100 epochs and 10 runs everywhere, ImageNet scaling, cached transfer models, last 20%', () => {
  const ext = PROTOCOLS.extended.models;
  for (const m of MODEL_NAMES) {
    const v = runSettings(ext[m]);
    assert.equal(v.epochs, 100);
    assert.equal(ext[m].runs.value, 10);
    assert.deepEqual(v.validation, { fraction: 0.2, take: 'last' });
    const pretrained = m !== 'baseline' && m !== 'augmented';
    assert.equal(v.inputScaling, pretrained ? '[-1, 1]' : '[0, 1]', m);
    assert.equal(v.augment !== null, m === 'augmented', m);
  }
  assert.deepEqual([runSettings(ext.xception).learningRate, runSettings(ext['xception-ft']).learningRate], [1e-4, 1e-5]);
});

test('an override replaces a setting for every model and is recorded, with the flag as its source', () => {
  const r = resolveProtocol('seed', { epochs: 3, imageSize: 64, runs: undefined });
  assert.deepEqual(r.overrides, { epochs: 3, imageSize: 64 });
  for (const m of MODEL_NAMES) {
    assert.equal(r.models[m].epochs.value, 3);
    assert.deepEqual(r.models[m].epochs.source, { override: '--epochs 3' });
    assert.deepEqual(r.models[m].imageSize.source, { override: '--image-size 64' });
  }
  assert.deepEqual(r.models['xception-ft'].runs, PROTOCOLS.seed.models['xception-ft'].runs, 'what no flag touches stays');
  assert.equal(PROTOCOLS.seed.models.baseline.epochs.value, 50, 'the protocol itself is unchanged');
});

test("a flag that repeats the protocol's value for every model is no override; one that differs for some model is", () => {
  const r = resolveProtocol('seed', { imageSize: 224, batchSize: 32, epochs: 50 });
  assert.deepEqual(r.overrides, { epochs: 50 }, 'augmented and the transfer models have other epoch counts');
  assert.deepEqual(r.models.baseline.imageSize.source, PROTOCOLS.seed.models.baseline.imageSize.source);
  assert.deepEqual(r.models.augmented.epochs.source, { override: '--epochs 50' });
});
