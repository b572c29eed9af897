import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../workers/backend/index.ts';
import { separableConv2d } from '../../../workers/models/separable-conv.ts';
import { compare, randomValues } from '../kernels/backends.ts';

type Args = Parameters<typeof tfl.layers.separableConv2d>[0];

/** A one-layer model from `make`, its weights set from fixed values; output and every weight's gradient. */
async function outputAndGrads(make: (a: Args) => tfl.layers.Layer, args: Args, inputShape: number[]) {
  const input = tfl.input({ shape: inputShape.slice(1) });
  const layer = make({ ...args, name: 'sep' });
  const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(randomValues(w.size, 7 + i), w.shape)));
  const x = tf.tensor(
    randomValues(
      inputShape.reduce((a, b) => a * b),
      3,
    ),
    inputShape,
  );
  const y = model.apply(x) as tf.Tensor;
  const dy = tf.tensor(randomValues(y.size, 5), y.shape);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as tf.Tensor, dy)) as tf.Scalar);
  const out = {
    y: (await y.data()) as Float32Array,
    grads: await Promise.all(weights.map((w) => grads[w.name]!.data() as Promise<Float32Array>)),
    json: model.toJSON(null, false) as unknown as { config: { layers: { class_name: string }[] } },
  };
  tf.dispose([x, y, dy, ...Object.values(grads)]);
  model.dispose();
  return out;
}

const CASES: [string, Args, number[]][] = [
  ['relu, bias, valid (the baseline)', { filters: 8, kernelSize: 3, activation: 'relu', padding: 'valid' }, [2, 9, 8, 3]],
  ['relu, bias, same, 5 filters', { filters: 5, kernelSize: 3, activation: 'relu', padding: 'same' }, [1, 7, 7, 4]],
  ['linear (not fused)', { filters: 4, kernelSize: 3, padding: 'valid' }, [1, 6, 6, 3]],
  ['relu without bias (not fused)', { filters: 4, kernelSize: 3, activation: 'relu', useBias: false }, [1, 6, 6, 3]],
];

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: the fused SeparableConv2D gives the stock layer's output and gradients, and serialises as it`, async () => {
    await initBackend(backend);
    for (const [what, args, shape] of CASES) {
      const stock = await outputAndGrads((a) => tfl.layers.separableConv2d(a), args, shape);
      const fused = await outputAndGrads(separableConv2d, args, shape);
      assert.ok(compare(fused.y, stock.y).ok, `${what}: output (${compare(fused.y, stock.y).worst})`);
      assert.equal(fused.grads.length, stock.grads.length);
      for (const [i, g] of fused.grads.entries()) {
        const { ok, worst } = compare(g, stock.grads[i]!);
        assert.ok(ok, `${what}: gradient of weight ${i} (${worst})`);
      }
      assert.deepEqual(
        fused.json.config.layers.map((l) => l.class_name),
        stock.json.config.layers.map((l) => l.class_name),
      );
    }
  });
}

test('the fused layer runs the pointwise convolution, bias and ReLU as one FusedConv2D kernel', async () => {
  await initBackend('wasm');
  const input = tfl.input({ shape: [8, 8, 3] });
  const model = tfl.model({ inputs: input, outputs: separableConv2d({ filters: 8, kernelSize: 3, activation: 'relu' }).apply(input) as tfl.SymbolicTensor });
  const x = tf.ones([1, 8, 8, 3]);
  const profile = await tf.profile(() => model.apply(x) as tf.Tensor);
  assert.ok(profile.kernelNames.includes('FusedConv2D'), profile.kernelNames.join(', '));
  assert.ok(!profile.kernelNames.includes('Relu') && !profile.kernelNames.includes('Add'), profile.kernelNames.join(', '));
  x.dispose();
  model.dispose();
});
