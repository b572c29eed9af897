/**
 * The pretrained models' Rescaling: the numbers of tfjs-layers' own on every backend, float32 and int inputs, and
 * the same config and serialised class, so a saved model loads in stock tfjs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { rescaling } from '../../../workers/models/rescaling.ts';
import { BACKENDS, randomValues, useBackendOrSkip } from '../kernels/backends.ts';

for (const backend of ['cpu', ...BACKENDS] as const) {
  test(`${backend}: rescaling gives tfjs-layers' Rescaling's numbers`, async (t) => {
    if (!(await useBackendOrSkip(t, backend))) return;
    const inputs = [tf.tensor(randomValues(2 * 5 * 5 * 3, 9), [2, 5, 5, 3]), tf.tensor([0, 1, 255, 17], [4], 'int32')];
    for (const args of [{ scale: 2, offset: -1 }, { scale: 1 / 255 }]) {
      for (const x of inputs) {
        const ours = rescaling(args).apply(x) as tf.Tensor;
        const stock = tfl.layers.rescaling(args).apply(x) as tf.Tensor;
        assert.equal(ours.dtype, 'float32');
        assert.deepEqual(await ours.data(), await stock.data(), `${JSON.stringify(args)} on ${x.dtype}`);
        tf.dispose([ours, stock]);
      }
    }
    tf.dispose(inputs);
  });
}

test("rescaling keeps tfjs-layers' config and class name, so a model with it loads in stock tfjs", async () => {
  const ours = rescaling({ scale: 2, offset: -1, name: 'rescaling' });
  assert.equal(ours.getClassName(), 'Rescaling');
  assert.deepEqual(ours.getConfig(), tfl.layers.rescaling({ scale: 2, offset: -1, name: 'rescaling' }).getConfig());
  const input = tfl.input({ shape: [3] });
  const model = tfl.model({ inputs: input, outputs: ours.apply(input) as tfl.SymbolicTensor });
  const loaded = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'] });
  assert.equal(loaded.layers[1]!.constructor, tfl.layers.rescaling({ scale: 1 }).constructor);
  assert.deepEqual(loaded.layers[1]!.getConfig(), ours.getConfig());
});
