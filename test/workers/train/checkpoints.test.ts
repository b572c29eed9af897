/**
 * A run's best weights: each new best replaces the copy kept in memory (no tensor more than one copy), is saved as
 * OUT/best/, and the last one is what the model holds for the final evaluation.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { RunSpec } from '../../../study/run.ts';
import { initBackend } from '../../../workers/backend/index.ts';
import type { StudyModel } from '../../../workers/models/index.ts';
import { Checkpoints } from '../../../workers/train/checkpoints.ts';

function tinyModel(): StudyModel {
  const head = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid' })] });
  return { name: 'baseline', base: null, head, model: head, trainableParams: 3, totalParams: 3, loaded: null };
}

const setTo = (m: StudyModel, value: number) => tf.tidy(() => m.model.setWeights(m.model.getWeights().map((w) => tf.fill(w.shape, value))));
const weightValues = (m: StudyModel) => m.model.getWeights().map((w) => Array.from(w.dataSync()));

test('each new best replaces the kept copy; restoring puts the last best back into the model and frees the copy', async () => {
  await initBackend('cpu');
  const outDir = mkdtempSync(join(tmpdir(), 'checkpoints-'));
  const checkpoints = new Checkpoints({ model: 'baseline', outDir, seed: 1 } as RunSpec, 'fingerprint', 'cpu');
  assert.equal(checkpoints.saved, null);
  const m = tinyModel();
  const before = tf.memory().numTensors;

  setTo(m, 1);
  await checkpoints.saveBest(m);
  const withOneCopy = tf.memory().numTensors;
  assert.equal(withOneCopy, before + m.model.weights.length);
  setTo(m, 2);
  await checkpoints.saveBest(m);
  assert.equal(tf.memory().numTensors, withOneCopy, 'the earlier best copy is freed');
  assert.ok(existsSync(join(checkpoints.bestDir, 'model.json')));

  setTo(m, 3);
  checkpoints.restoreBest(m);
  assert.deepEqual(weightValues(m), [[2, 2], [2]]);
  assert.equal(tf.memory().numTensors, before);
  m.model.dispose();
});
