/**
 * On webgpu, a warm training step and a warm prediction of every model upload nothing: every tensor they make lives
 * on the GPU from the start (workers/train/step.ts, the kernels of workers/kernels/wgsl/).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { MODEL_NAMES, MODELS } from '../../../study/models.ts';
import { buildModel } from '../../../workers/models/index.ts';
import { KerasAdam } from '../../../workers/train/adam.ts';
import { forward, makeTrainStep } from '../../../workers/train/step.ts';
import { useBackendOrSkip } from '../kernels/backends.ts';

test('webgpu: a warm training step and a warm prediction create no GPU buffer: nothing is made on the host and uploaded', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const original = device.createBuffer;
  for (const name of MODEL_NAMES) {
    const size = Math.max(64, MODELS[name].minImageSize.px);
    const m = await buildModel(name, { imageSize: size, seed: 1, outputBias: 0, randomWeights: true, initFrom: null });
    const optimizer = new KerasAdam(1e-3);
    const step = makeTrainStep(m, optimizer, 'all');
    const x = tf.randomUniform([2, size, size, 3]);
    const y = tf.tensor2d([0, 1], [2, 1]);
    const run = async () => {
      for (const probs of [step(x, y), tf.tidy(() => forward(m, x, false, 'all'))]) {
        await probs.data();
        probs.dispose();
      }
    };
    await run(); // the first step fills tfjs' buffer pool and uploads x and y
    await run();
    const created: string[] = [];
    // tfjs uploads a tensor made on the host through a staging buffer it creates for that tensor alone.
    device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
      created.push(`${descriptor.size} bytes, usage ${descriptor.usage}`);
      return original.call(this, descriptor);
    };
    try {
      await run();
      await run();
    } finally {
      device.createBuffer = original;
    }
    assert.deepEqual(created, [], `${name}: buffers created by two warm steps and predictions`);
    tf.dispose([x, y]);
    optimizer.dispose();
    m.model.dispose();
  }
});
