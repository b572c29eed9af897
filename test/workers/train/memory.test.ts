/**
 * A run holds as many tensors, of as many bytes, after every epoch, on every backend the suite has: whatever an
 * epoch makes (batches, predictions, gradients, the best weights' copies, the state saved to continue from) it
 * disposes. Counted as each epoch after the first starts (the first makes what lives for the whole run: Adam's
 * moments, the best weights' copy), on the augmented model (augmentation and dropout) and on mobilenet under the
 * seed protocol (its frozen trunk runs on each epoch's augmented images; val and test activations are cached).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { specFromFlags } from '../../../cli/commands/run-command.ts';
import type { ModelName } from '../../../study/run.ts';
import { executeRun } from '../../../workers/train/run.ts';
import { realDataOrSkip, realSubset, sharedWeightsOrSkip } from '../../helpers/real-data.ts';
import { useBackendOrSkip } from '../kernels/backends.ts';

const EPOCHS = 4;
let subset: string | null = null;

async function memoryAfterEachEpoch(t: TestContext, backend: 'cpu' | 'wasm' | 'webgpu', model: ModelName, weights: string | null) {
  if (!(await useBackendOrSkip(t, backend))) return null;
  subset ??= realSubset({ train: 5, test: 1 }); // 8 train images (batches of 3, 3 and 2), 2 val, 2 test
  const spec = specFromFlags({
    model,
    protocol: 'seed',
    data: subset,
    epochs: EPOCHS,
    imageSize: 48,
    batchSize: 3,
    seed: 3,
    patience: EPOCHS,
    backend,
    out: mkdtempSync(join(tmpdir(), `memory-${model}-${backend}-`)),
    cache: true,
    weights: weights ?? undefined,
  });
  const memory: { numTensors: number; numBytes: number }[] = [];
  const result = await executeRun(spec, {
    emit: (e) => {
      const epochStarts = e.type === 'progress' && e.phase === 'training' && e.done === 0 && e.epoch !== null && e.epoch > 1;
      if (epochStarts) memory.push({ numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes });
    },
  });
  assert.equal(result.history.length, EPOCHS);
  assert.equal(memory.length, EPOCHS - 1);
  return memory;
}

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  test(`${backend}: the augmented model holds the same tensors after every epoch`, async (t) => {
    if (!realDataOrSkip(t)) return;
    const memory = await memoryAfterEachEpoch(t, backend, 'augmented', null);
    if (memory) assert.deepEqual(memory.slice(1), memory.slice(0, -1), JSON.stringify(memory));
  });

  test(`${backend}: mobilenet (seed protocol) holds the same tensors after every epoch`, async (t) => {
    const weights = sharedWeightsOrSkip(t, 'mobilenet_v2_035_224');
    if (!realDataOrSkip(t) || !weights) return;
    const memory = await memoryAfterEachEpoch(t, backend, 'mobilenet', weights);
    if (memory) assert.deepEqual(memory.slice(1), memory.slice(0, -1), JSON.stringify(memory));
  });
}
