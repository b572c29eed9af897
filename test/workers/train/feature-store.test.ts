/**
 * Frozen-trunk activations on disk across runs (workers/train/feature-store.ts): the key follows everything the
 * activations depend on, a second run reads what the first computed without running the trunk, and a file of the
 * wrong size is recomputed rather than trusted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../workers/backend/index.ts';
import { featureKey, FeatureStore, trunkDigest } from '../../../workers/train/feature-store.ts';
import { featureSource, type InputSource } from '../../../workers/train/inputs.ts';
import { fixedImages } from '../../helpers/input-sources.ts';
import { randomValues } from '../kernels/backends.ts';

const SIZE = 8;
const N = 5;

function trunkModel(seed: number, strides = 1): tfl.LayersModel {
  const m = tfl.sequential();
  const kernelInitializer = tfl.initializers.glorotUniform({ seed });
  m.add(tfl.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 4, kernelSize: 3, strides, kernelInitializer }));
  m.add(tfl.layers.globalAveragePooling2d({}));
  return m;
}

/** N fixed images in batches of 2. */
const images = () => fixedImages(randomValues(N * SIZE * SIZE * 3, 3), N, SIZE);

async function allFeatures(source: InputSource): Promise<Float32Array> {
  const out: number[] = [];
  for await (const b of source.batches({ epoch: 0, training: false })) {
    out.push(...((await b.x.data()) as Float32Array));
    tf.dispose([b.x, b.y]);
  }
  return Float32Array.from(out);
}

/** featureKey of a trunk model, through its digest as a run takes it. */
const keyOf = async (p: { trunk: tfl.LayersModel; imageSize: number; backend: string; datasetFingerprint: string; ids: string[] }) =>
  featureKey({ ...p, trunk: await trunkDigest(p.trunk) });

test('featureKey changes with the weights, image size, backend, dataset and images, and only with them', async () => {
  await initBackend('cpu');
  const parts = { trunk: trunkModel(1), imageSize: SIZE, backend: 'cpu', datasetFingerprint: 'abc', ids: ['a', 'b'] };
  const key = await keyOf(parts);
  assert.equal(await keyOf({ ...parts }), key);
  assert.equal(await keyOf({ ...parts, trunk: trunkModel(1) }), key, 'the same weights in another model (other layer names)');
  const sameWeights = trunkModel(3);
  sameWeights.setWeights(parts.trunk.getWeights());
  assert.equal(await keyOf({ ...parts, trunk: sameWeights }), key, 'the same weights from another initialiser seed');
  for (const [what, changed] of Object.entries({
    weights: { ...parts, trunk: trunkModel(2) },
    'a layer setting': { ...parts, trunk: trunkModel(1, 2) },
    'image size': { ...parts, imageSize: SIZE + 1 },
    backend: { ...parts, backend: 'wasm' },
    dataset: { ...parts, datasetFingerprint: 'abd' },
    'image order': { ...parts, ids: ['b', 'a'] },
  })) {
    assert.notEqual(await keyOf(changed), key, what);
  }
});

test('a second run reads the activations the first stored, without running the trunk; a wrong-size file is recomputed', async () => {
  await initBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'melanoma-features-'));
  try {
    const store = new FeatureStore(dir);
    const trunk = trunkModel(1);
    let applied = 0;
    const apply = trunk.apply.bind(trunk);
    trunk.apply = ((...args: Parameters<typeof apply>) => {
      applied++;
      return apply(...args);
    }) as typeof trunk.apply;
    const key = await keyOf({ trunk, imageSize: SIZE, backend: 'cpu', datasetFingerprint: 'abc', ids: ['1', '2', '3', '4', '5'] });
    const logs: string[] = [];
    const options = { batchSize: 2, seed: 1, budgetBytes: 2 ** 20, store: { store, key }, log: (m: string) => logs.push(m) };

    const first = await featureSource({ trunk, rest: null }, images(), options);
    assert.equal(applied, 3, 'the first run computes (3 batches)');
    assert.deepEqual(readdirSync(dir), [`${key}.f32`], 'one file, no temporary left behind');
    const second = await featureSource({ trunk, rest: null }, images(), options);
    assert.equal(applied, 3, 'the second run does not run the trunk');
    assert.match(logs[1]!, /read from/);
    assert.deepEqual(await allFeatures(second!), await allFeatures(first!));

    writeFileSync(join(dir, `${key}.f32`), new Uint8Array(12)); // truncated
    const third = await featureSource({ trunk, rest: null }, images(), options);
    assert.equal(applied, 6, 'a file of the wrong size is not trusted');
    assert.deepEqual(await allFeatures(third!), await allFeatures(first!));
    assert.ok(existsSync(join(dir, `${key}.f32`)));
    assert.equal(await store.read(key, 7), null, 'read checks the size it expects');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
