import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { experimentConfigSchema, legacyOverrides, recordedProtocol } from '../../study/experiment-config.ts';
import { MODEL_NAMES, type ModelName } from '../../study/models.ts';
import { overridesIn, PROTOCOLS, resolveProtocol } from '../../study/protocol.ts';
import { buildRunSpec } from '../../study/run-spec.ts';
import { PROJECT_ROOT } from '../helpers/real-data.ts';

/** The config of the committed seed-224 experiment, as `orchestrate` recorded it. */
function committedConfig(): unknown {
  const lines = gunzipSync(readFileSync(join(PROJECT_ROOT, 'results', 'seed-224.ndjson.gz')))
    .toString('utf8')
    .split('\n');
  return (JSON.parse(lines[1]!) as { config: unknown }).config;
}

test('the recorded config of a real experiment is an ExperimentConfig; its protocol reads back with every setting', () => {
  const config = experimentConfigSchema.parse(committedConfig());
  assert.deepEqual([config.seed, config.epochs, config.imageSize, config.batchSize, config.backend], [1, null, 224, 32, 'auto']);
  const protocol = recordedProtocol(config);
  assert.ok(protocol);
  assert.equal(protocol.name, 'seed');
  assert.deepEqual(protocol.overrides, {});
  // Recorded across sessions of the code (resuming records the protocol's models as the code knows them): every
  // model it has is the seed protocol's, to the setting, and the study's four are there.
  for (const [model, settings] of Object.entries(protocol.models))
    assert.deepEqual(settings, JSON.parse(JSON.stringify(PROTOCOLS.seed.models[model as ModelName])), model);
  for (const model of ['baseline', 'augmented', 'mobilenet', 'mobilenet-ft'] as const) assert.ok(protocol.models[model], model);
});

test('an experiment recorded before protocols has none; its flags at the top are its overrides; a broken config is refused', () => {
  const legacy = { seed: 1, epochs: 2, imageSize: 64, batchSize: 32, backend: 'cpu', weights: null, out: '/runs/legacy' };
  assert.equal(experimentConfigSchema.parse(legacy).protocol, undefined);
  assert.equal(recordedProtocol(legacy), null);
  assert.equal(recordedProtocol({ ...legacy, protocol: { name: 'unheard-of', models: {}, overrides: {} } }), null);
  assert.deepEqual(legacyOverrides(legacy), { epochs: 2, imageSize: 64, batchSize: 32 });
  assert.deepEqual(legacyOverrides({ epochs: null, imageSize: '64' }), { epochs: undefined, imageSize: undefined, batchSize: undefined });
  assert.equal(experimentConfigSchema.safeParse({ ...legacy, backend: 'abacus' }).success, false);
  assert.equal(experimentConfigSchema.safeParse({ ...legacy, imageSize: 0 }).success, false);
});

test("a RunSpec takes its model's settings from the protocol after the flags' overrides, and its place from the caller", () => {
  const flags = { model: 'mobilenet-ft2', data: '/d', epochs: 2, imageSize: 64, learningRate: undefined, seed: 3 };
  assert.deepEqual(overridesIn(flags), { epochs: 2, imageSize: 64 });
  const protocol = resolveProtocol('seed', overridesIn(flags));
  const place = {
    dataDir: '/d',
    outDir: '/o',
    backend: 'wasm',
    gpu: null,
    initFrom: '/o/base',
    weights: null,
    cacheImages: true,
    saveAugmented: null,
  } as const;
  for (const model of MODEL_NAMES) {
    const spec = buildRunSpec(protocol, model, 3, place);
    const s = protocol.models[model];
    assert.deepEqual(
      [spec.model, spec.seed, spec.protocol, spec.epochs, spec.imageSize, spec.batchSize, spec.learningRate, spec.patience, spec.inputScaling],
      [model, 3, 'seed', 2, 64, 32, s.learningRate.value, 10, s.inputScaling.value],
    );
    assert.equal(spec.augment === null, !s.augment.value, model);
    assert.deepEqual(spec.validation, { fraction: 0.2, take: 'first' });
    assert.equal(spec.initFrom, '/o/base');
  }
});
