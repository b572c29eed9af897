/**
 * A transfer model's inputs under each protocol: seed feeds the pretrained base [0, 1] images and trains on
 * augmented images, whose trunk activations change every epoch; extended feeds it [-1, 1] and trains the head on
 * activations computed once. Val and test are never augmented, so their activations are computed once in both.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { protocolSettings } from '../../../study/protocol.ts';
import { initBackend } from '../../../workers/backend/index.ts';
import { indexDataset } from '../../../study/data/dataset.ts';
import { buildModel } from '../../../workers/models/index.ts';
import { frozenTrunk } from '../../../workers/models/trunk.ts';
import type { RunSpec } from '../../../study/run.ts';
import { runSources } from '../../../workers/train/sources.ts';
import { specSettings } from '../../../study/spec-settings.ts';
import { realDataOrSkip, realSubset, sharedWeightsOrSkip } from '../../helpers/real-data.ts';

const SIZE = 64;

const WEIGHTS = 'mobilenet_v2_035_224';

test("seed gives the pretrained base the images' [0, 1]; extended and runs recorded before protocols give it [-1, 1]", async (t) => {
  const weights = sharedWeightsOrSkip(t, WEIGHTS);
  if (!weights) return;
  await initBackend('cpu');
  const seed = await buildModel('mobilenet', {
    imageSize: SIZE,
    seed: 3,
    outputBias: 0,
    weights,
    inputScaling: protocolSettings('mobilenet', 'seed').inputScaling,
  });
  const ext = await buildModel('mobilenet', {
    imageSize: SIZE,
    seed: 3,
    outputBias: 0,
    weights,
    inputScaling: protocolSettings('mobilenet', 'extended').inputScaling,
  });
  assert.equal(
    seed.base!.layers.some((l) => l.name === 'rescaling'),
    false,
  );
  assert.equal(
    ext.base!.layers.some((l) => l.name === 'rescaling'),
    true,
  );
  const x = tf.randomUniform([1, SIZE, SIZE, 3], 0, 1, 'float32', 5);
  // Same weights: seed's base on 2x - 1 is extended's base on x.
  const a = seed.base!.apply(tf.sub(tf.mul(x, 2), 1), { training: false }) as tf.Tensor;
  const b = ext.base!.apply(x, { training: false }) as tf.Tensor;
  const c = seed.base!.apply(x, { training: false }) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! < 1e-4, 'seed base = extended base without its rescaling');
  assert.ok(tf.max(tf.abs(tf.sub(c, b))).dataSync()[0]! > 1e-2, 'the scaling changes what the base computes');
  const spec = { model: 'mobilenet' } as RunSpec;
  assert.equal(specSettings(spec).inputScaling, '[-1, 1]', 'a run recorded before protocols: the legacy protocol');
  assert.equal(specSettings({ ...spec, protocol: 'seed', inputScaling: '[0, 1]' }).inputScaling, '[0, 1]');
  tf.dispose([x, a, b, c]);
  seed.model.dispose();
  ext.model.dispose();
});

test("seed: the trunk sees each epoch's augmented images; extended: the head trains on cached activations; val/test cached in both", async (t) => {
  const weights = sharedWeightsOrSkip(t, WEIGHTS);
  if (!realDataOrSkip(t) || !weights) return;
  await initBackend('cpu');
  // One training image per class: a batch's labels tell which image each row is.
  const dir = realSubset({ train: 1, test: 1 });
  try {
    const data = await indexDataset(dir);
    assert.equal(data.splits.train.length, 2);
    for (const protocol of ['seed', 'extended'] as const) {
      const settings = protocolSettings('mobilenet', protocol);
      const m = await buildModel('mobilenet', { imageSize: SIZE, seed: 1, outputBias: 0, weights, inputScaling: settings.inputScaling });
      const trunk = frozenTrunk(m.base!)!.trunk;
      const { sourceOf } = runSources(m, data, {
        imageSize: SIZE,
        batchSize: 2,
        seed: 1,
        augment: settings.augment,
        cache: null,
        saveAugmentedDir: null,
        featureCacheDir: null,
        featureBudgetBytes: 2 ** 30,
        backend: 'cpu',
      });
      const train = await sourceOf('train', true);
      const test = await sourceOf('test', false);
      assert.notEqual(test.base, 'all', `${protocol}: test activations are cached`);
      // What the layers above the frozen trunk see for the benign image in an epoch.
      const headInput = async (epoch: number): Promise<Float32Array> => {
        for await (const b of train.batches({ epoch, training: true })) {
          const acts = tf.tidy(() => (train.base === 'all' ? (trunk.apply(b.x, { training: false }) as tf.Tensor) : b.x.clone()));
          const row = b.labels.indexOf(0);
          const values = (await acts.data()) as Float32Array;
          const per = values.length / b.n;
          tf.dispose([acts, b.x, b.y]);
          return values.slice(row * per, (row + 1) * per);
        }
        throw new Error('no batch');
      };
      const [e1, e2] = [await headInput(1), await headInput(2)];
      const differs = e1.some((v, i) => Math.abs(v - e2[i]!) > 1e-6);
      if (protocol === 'seed') {
        assert.equal(train.base, 'all', 'seed: training batches are images');
        assert.ok(differs, 'seed: the trunk output of the same image differs between epochs (augmentation)');
      } else {
        assert.equal(train.base, null, 'extended: training batches are the cached activations of the whole base');
        assert.ok(!differs, 'extended: the same activations every epoch');
      }
      m.model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
