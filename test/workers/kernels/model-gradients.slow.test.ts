/**
 * Whole-model gradient checks: the gradient of a binary cross-entropy loss w.r.t. every trainable weight of
 * three small models in the study's styles -- baseline (separable convs, max pools, GAP, dense), an Xception
 * entry block (3x3/2 valid conv, BN, ReLU, separable convs `same`, 3x3/2 `same` max pool, 1x1/2 shortcut,
 * add), a MobileNetV2 block (zero padding, depthwise 3x3/2, BN, ReLU6, 1x1 convs) -- is the same on wasm and
 * webgpu as on the cpu backend. 48 px inputs, batch 2, batch norm in training mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../workers/backend/index.ts';
import { BACKENDS, randomValues, useBackendOrSkip } from './backends.ts';

const SIZE = 48;
const BATCH = 2;

function baselineLike(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.separableConv2d({ inputShape: [SIZE, SIZE, 3], filters: 8, kernelSize: 3, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.separableConv2d({ filters: 16, kernelSize: 3, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.globalAveragePooling2d({}));
  m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid' }));
  return m;
}

function xceptionLike(): tfl.LayersModel {
  const input = tfl.input({ shape: [SIZE, SIZE, 3] });
  const bn = () => tfl.layers.batchNormalization({});
  const relu = () => tfl.layers.activation({ activation: 'relu' });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(input);
  x = relu().apply(bn().apply(x));
  x = tfl.layers.conv2d({ filters: 12, kernelSize: 3, padding: 'valid', useBias: false }).apply(x);
  x = relu().apply(bn().apply(x));
  let residual = tfl.layers.conv2d({ filters: 16, kernelSize: 1, strides: 2, padding: 'same', useBias: false }).apply(x);
  residual = bn().apply(residual);
  let y = tfl.layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }).apply(x);
  y = relu().apply(bn().apply(y));
  y = tfl.layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }).apply(y);
  y = bn().apply(y);
  y = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(y);
  y = tfl.layers.add().apply([y as tfl.SymbolicTensor, residual as tfl.SymbolicTensor]);
  y = tfl.layers.globalAveragePooling2d({}).apply(y);
  const output = tfl.layers.dense({ units: 1, activation: 'sigmoid' }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

function mobilenetLike(): tfl.LayersModel {
  const input = tfl.input({ shape: [SIZE, SIZE, 3] });
  const bn = () => tfl.layers.batchNormalization({});
  const relu6 = () => tfl.layers.reLU({ maxValue: 6 });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(input);
  x = relu6().apply(bn().apply(x));
  x = tfl.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
    })
    .apply(x);
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(x);
  x = relu6().apply(bn().apply(x));
  x = bn().apply(tfl.layers.conv2d({ filters: 12, kernelSize: 1, useBias: false }).apply(x));
  let y = tfl.layers.conv2d({ filters: 24, kernelSize: 1, useBias: false }).apply(x);
  y = relu6().apply(bn().apply(y));
  y = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }).apply(y);
  y = relu6().apply(bn().apply(y));
  y = bn().apply(tfl.layers.conv2d({ filters: 12, kernelSize: 1, useBias: false }).apply(y));
  y = tfl.layers.add().apply([x as tfl.SymbolicTensor, y as tfl.SymbolicTensor]);
  y = tfl.layers.globalAveragePooling2d({}).apply(y);
  const output = tfl.layers.dense({ units: 1, activation: 'sigmoid' }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

const MODELS = { baseline: baselineLike, xception: xceptionLike, mobilenet: mobilenetLike };

/** Builds the model on the active backend with reproducible weights; returns d(loss)/d(weight) for each. */
async function gradients(build: () => tfl.LayersModel): Promise<{ names: string[]; values: Float32Array[] }> {
  const model = build();
  model.setWeights(
    model.weights.map((w, i) => {
      const shape = w.shape as number[];
      const v = randomValues(
        shape.reduce((a, b) => a * b, 1),
        1000 + i,
      );
      const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
      const init = /gamma|moving_variance/.test(w.name)
        ? v.map((u) => 1 + 0.2 * u)
        : /beta|moving_mean|bias/.test(w.name)
          ? v.map((u) => 0.1 * u)
          : v.map((u) => (1.5 * u) / Math.sqrt(fanIn));
      return tf.tensor(init, shape);
    }),
  );
  const x = tf.tensor4d(
    randomValues(BATCH * SIZE * SIZE * 3, 7).map((u) => (u + 1) / 2),
    [BATCH, SIZE, SIZE, 3],
  );
  const y = tf.tensor2d([0, 1], [BATCH, 1]);
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => {
    const p = tf.clipByValue(model.apply(x, { training: true }) as tf.Tensor, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))))) as tf.Scalar;
  }, trainable);
  // Layer names carry a per-process counter (conv2d_Conv2D3); the rest names the weight.
  const names = model.trainableWeights.map((w) => w.originalName.replace(/\d+/g, ''));
  const values = await Promise.all(trainable.map((v) => grads[v.name]!.data() as Promise<Float32Array>));
  tf.dispose([x, y, ...Object.values(grads)]);
  model.dispose();
  return { names, values };
}

/**
 * Tolerance for a whole weight gradient: 1e-3 of the largest |gradient| of that weight, plus 1e-6. Every
 * kernel matches cpu to ~1e-6 relative (parity.test.ts), but a model chains forward and backward kernels and
 * batch norm over a batch of 2 divides by small variances, which scales those rounding differences up; 1e-3 of
 * the weight's gradient scale is still orders of magnitude below what any wrong kernel produces (wrong taps,
 * padding or tie handling move gradients by O(1) of their scale).
 */
function assertGradientsClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  const tol = 1e-3 * scale + 1e-6;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: |diff| ${worst} > ${tol} at ${at} (${actual[at]} vs ${expected[at]})`);
}

for (const [modelName, build] of Object.entries(MODELS)) {
  let reference: Promise<{ names: string[]; values: Float32Array[] }> | null = null;
  for (const backend of BACKENDS) {
    test(`${backend}: ${modelName}-like model, every weight's gradient equals cpu's`, async (t) => {
      reference ??= initBackend('cpu').then(() => gradients(build));
      const expected = await reference;
      if (!(await useBackendOrSkip(t, backend))) return;
      const actual = await gradients(build);
      assert.deepEqual(actual.names, expected.names);
      assert.ok(expected.values.length >= 6, 'the model has trainable weights');
      for (const [i, name] of expected.names.entries()) {
        assertGradientsClose(actual.values[i]!, expected.values[i]!, `${modelName} ${name} on ${backend}`);
      }
    });
  }
}
