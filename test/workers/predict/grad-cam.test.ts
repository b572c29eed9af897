/**
 * Grad-CAM against a case computed by hand: a tiny chain (1x1 convolution, global average pooling, Dense(2, relu),
 * Dense(1, sigmoid)) whose logit's gradient has a closed form; and the overlay drawn from a map. The study's own
 * models are in grad-cam.slow.test.ts.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { camSplit, gradCam } from '../../../workers/predict/grad-cam.ts';
import { rampColour, saliencyPng } from '../../../workers/predict/saliency-image.ts';

before(async () => {
  await tf.setBackend('cpu');
});

/**
 * x (2x2 pixels, 2 channels) -> conv 1x1 with the identity kernel, so A = x -> mean over the pixels m (2 values)
 * -> h = relu(m W + c) -> z = h v + b -> sigmoid.
 */
function tinyModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 2, 2] });
  const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 1, useBias: false, name: 'conv' });
  const pool = tfl.layers.globalAveragePooling2d({});
  const hidden = tfl.layers.dense({ units: 2, activation: 'relu' });
  const out = tfl.layers.dense({ units: 1, activation: 'sigmoid' });
  const y = out.apply(hidden.apply(pool.apply(conv.apply(input)))) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: y });
  conv.setWeights([tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2])]);
  hidden.setWeights([
    tf.tensor2d([
      [1, -1],
      [2, 1],
    ]),
    tf.tensor1d([0, 0.5]),
  ]);
  out.setWeights([tf.tensor2d([[0.4], [3]]), tf.tensor1d([-1])]);
  return model;
}

test('Grad-CAM of a tiny chain equals the map computed by hand', async () => {
  // Channel 0 is [[1, 2], [3, 4]], channel 1 is [[0, 2], [0, -3]].
  const x = tf.tensor4d([
    [
      [
        [1, 0],
        [2, 2],
      ],
      [
        [3, 0],
        [4, -3],
      ],
    ],
  ]);
  // m = (2.5, -0.25); m W + c = (2.0, -2.25), so the second hidden unit is off: h = (2, 0); z = 0.4 * 2 - 1 = -0.2.
  // dz/dm_k = W_k0 * 0.4 = (0.4, 0.8); A's mean spreads it over 4 pixels: alpha = dz/dm / 4 = (0.1, 0.2).
  // map = relu(0.1 A_0 + 0.2 A_1) = relu([[0.1, 0.6], [0.3, -0.2]]).
  const model = tinyModel();
  const split = camSplit(model);
  assert.equal(split.layer, 'conv');
  const cam = await gradCam(split, x);
  assert.equal(cam.height, 2);
  assert.equal(cam.width, 2);
  assert.ok(Math.abs(cam.logit - -0.2) < 1e-6, `logit ${cam.logit}`);
  assert.ok(Math.abs(cam.probability - 1 / (1 + Math.exp(0.2))) < 1e-6);
  const expected = [0.1, 0.6, 0.3, 0];
  for (const [i, v] of expected.entries()) assert.ok(Math.abs(cam.map[i]! - v) < 1e-6, `map[${i}] ${cam.map[i]}, by hand ${v}`);
  model.dispose();
  x.dispose();
});

test('the overlay colours where the map is high and leaves the image as it is where it is low', async () => {
  assert.deepEqual(rampColour(0), [0, 0, 160]);
  assert.deepEqual(rampColour(1), [230, 20, 20]);
  const grey = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 100, g: 100, b: 100 } } })
    .png()
    .toBuffer();
  const cam = { map: Float32Array.from([5, 0, 0, 0]), height: 2, width: 2, layer: 'conv', logit: 0, probability: 0.5 };
  const { data, info } = await sharp(await saliencyPng(grey, cam))
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [40, 40, 3]);
  const at = (x: number, y: number) => Array.from(data.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3));
  const [r = 0, g = 0, b = 0] = at(0, 0);
  assert.ok(r > 150 && g < 90 && b < 90, `top left ${[r, g, b]}: red, the map's maximum`);
  assert.deepEqual(at(39, 39), [100, 100, 100], 'bottom right: the image, where the map is at its minimum');
});
