/**
 * Grad-CAM of the study's own models (random weights): which layer the map weighs (the last convolution: the
 * baseline's last separable block, MobileNetV2's out_relu), its grid, and that the logit it differentiates is the
 * model's own output.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '../../../workers/models/index.ts';
import { camSplit, gradCam } from '../../../workers/predict/grad-cam.ts';

before(async () => {
  await tf.setBackend('cpu');
});

test("the study's models: the map weighs the last convolution's activations, and the logit is the model's own", async () => {
  for (const [name, size, layer, grid] of [
    ['baseline', 48, 'separable_conv2d_3', 2],
    ['augmented', 64, 'separable_conv2d_3', 4],
    ['mobilenet', 64, 'out_relu', 2],
  ] as const) {
    const m = await buildModel(name, { imageSize: size, seed: 3, outputBias: -0.2, randomWeights: true, inputScaling: '[0, 1]' });
    const x = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 7);
    const cam = await gradCam(camSplit(m.model), x);
    assert.equal(cam.layer, layer, name);
    assert.deepEqual([cam.height, cam.width], [grid, grid], name);
    const p = (m.model.predict(x) as tf.Tensor).dataSync()[0]!;
    assert.ok(Math.abs(cam.probability - p) < 1e-5, `${name}: ${cam.probability} from the logit, ${p} from the model`);
    assert.ok(
      cam.map.every((v) => v >= 0 && Number.isFinite(v)),
      name,
    );
    m.model.dispose();
    x.dispose();
  }
});
