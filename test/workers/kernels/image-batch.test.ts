/**
 * ImageBatch on webgpu: a batch of bytes to the model's input, against the CPU's own path (augmentedPixels, then
 * v / 255), through workers/train/image-tensor.ts on both. Without augmentation the floats are identical. With
 * it the GPU computes the sampling in float32 where the CPU uses float64, so a value within about 1e-3 of a
 * rounding boundary may land one byte step away (rare), and a sample within float32 rounding of the source's
 * edge may turn black or not (rarer still): anything more than that, or more often, is a wrong formula.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { initBackend } from '../../../workers/backend/index.ts';
import { DEFAULT_AUGMENT, IDENTITY_PARAMS, sampleParams, type AugmentParams } from '../../../study/data/augment.ts';
import type { Batch } from '../../../study/data/loader.ts';
import { imageTensor } from '../../../workers/train/image-tensor.ts';
import { useBackendOrSkip } from './backends.ts';

function batchOf(size: number, n: number, augment: AugmentParams[] | null, seed: number): Batch {
  const rng = seedrandom(`bytes:${seed}`);
  // Smooth content with some full-range noise: bilinear samples land between the bytes, not only on them.
  const pixels = Uint8Array.from({ length: n * size * size * 3 }, (_, i) => (Math.floor(i / 3) * 7 + (i % 3) * 50 + rng() * 40) % 256);
  return { pixels, augment, y: new Float32Array(n), ids: [], size: n, imageSize: size };
}

async function onBoth(t: test.TestContext, batch: Batch): Promise<[Float32Array, Float32Array] | null> {
  await initBackend('cpu');
  const cpu = imageTensor(batch);
  const expected = (await cpu.data()) as Float32Array;
  cpu.dispose();
  if (!(await useBackendOrSkip(t, 'webgpu'))) return null;
  const before = tf.memory().numTensors;
  const profile = await tf.profile(() => imageTensor(batch));
  assert.deepEqual(profile.kernelNames, ['ImageBatch']);
  const gpu = imageTensor(batch);
  assert.deepEqual(gpu.shape, [batch.size, batch.imageSize, batch.imageSize, 3]);
  const actual = (await gpu.data()) as Float32Array;
  gpu.dispose();
  assert.equal(tf.memory().numTensors, before + 1, 'only the profiled result remains');
  return [actual, expected];
}

test('webgpu ImageBatch without augmentation: exactly the CPU floats v / 255, for byte counts not a multiple of 4', async (t) => {
  for (const [size, n] of [
    [5, 3],
    [16, 2],
    [1, 1],
  ] as const) {
    const both = await onBoth(t, batchOf(size, n, null, size));
    if (both === null) return;
    const [actual, expected] = both;
    assert.ok(
      actual.every((v, i) => v === expected[i]),
      `${n}x${size}x${size}x3: floats differ`,
    );
  }
});

test('webgpu ImageBatch with augmentation: the CPU augmentation, up to float32 rounding', async (t) => {
  const size = 37;
  const params = (p: Partial<AugmentParams>): AugmentParams => ({ ...IDENTITY_PARAMS, ...p });
  const rng = seedrandom('augment');
  const augment = [
    params({}), // identity: exact
    params({ flipH: true, flipV: true }), // exact too: every sample lands on a pixel
    params({ rotation: 90 }),
    params({ brightness: 1.3 }),
    params({ zoomX: 1.5, zoomY: 0.8, shiftX: 3, shiftY: -5 }),
    ...Array.from({ length: 6 }, () => sampleParams(size, DEFAULT_AUGMENT, rng)),
  ];
  const both = await onBoth(t, batchOf(size, augment.length, augment, 1));
  if (both === null) return;
  const [actual, expected] = both;
  const perImage = size * size * 3;
  let oneStep = 0;
  let more = 0;
  actual.forEach((v, i) => {
    const steps = Math.round(Math.abs(v - expected[i]!) * 255);
    if (i < 2 * perImage) assert.equal(v, expected[i], `image ${Math.floor(i / perImage)}, value ${i % perImage}`);
    if (steps === 1) oneStep++;
    else if (steps > 1) more++;
  });
  assert.ok(oneStep <= actual.length * 0.01, `${oneStep} of ${actual.length} values one step apart`);
  assert.ok(more <= actual.length * 0.001, `${more} of ${actual.length} values more than one step apart`);
  // Black borders where the content moved away: the same on both.
  const black = expected.filter((v) => v === 0).length;
  assert.ok(black > actual.length * 0.05, `only ${black} black values: the test batch does not exercise the edges`);
  process.stdout.write(`# ImageBatch vs CPU: ${oneStep} of ${actual.length} values one step apart, ${more} more\n`);
});

test('webgpu: batches uploaded back to back through the one upload buffer each keep their own bytes', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const batches = [1, 2, 3].map((seed) => batchOf(8, 4, null, seed));
  const tensors = batches.map((b) => imageTensor(b)); // nothing read back in between
  for (const [k, x] of tensors.entries()) {
    const got = (await x.data()) as Float32Array;
    assert.ok(
      got.every((v, i) => v === batches[k]!.pixels[i]! / 255 || Math.abs(v - batches[k]!.pixels[i]! / 255) < 1e-7),
      `batch ${k} holds other bytes`,
    );
  }
  tf.dispose(tensors);
});
