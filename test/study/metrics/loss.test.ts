import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binaryCrossEntropy } from '../../../study/metrics/loss.ts';

const close = (actual: number, expected: number, tol = 1e-12) => assert.ok(Math.abs(actual - expected) < tol, `${actual} is not ${expected}`);

test('mean of -ln p over positives and -ln(1-p) over negatives', () => {
  // (-ln 0.8 - ln(1 - 0.25)) / 2 = (0.2231435513 + 0.2876820725) / 2 = 0.2554128119
  close(binaryCrossEntropy([1, 0], [0.8, 0.25]), 0.2554128119, 1e-10);
  // p = 0.5 costs ln 2 either way.
  close(binaryCrossEntropy([1, 0, 1], [0.5, 0.5, 0.5]), Math.LN2);
});

test('clips at 0 and 1 like Keras: float32 bounds 1e-7 and 1 - 1e-7', () => {
  // Wrong p = 0: -ln(float32(1e-7)) = -ln(1.0000000116860974e-7) = 16.1180956393
  close(binaryCrossEntropy([1], [0]), -Math.log(1.0000000116860974e-7));
  close(binaryCrossEntropy([1], [0]), 16.1180956393, 1e-9);
  // Wrong p = 1: float32(1 - 1e-7) = 1 - 2^-23, so the cost is -ln(2^-23) = 23 ln 2 = 15.9423851529.
  close(binaryCrossEntropy([0], [1]), 23 * Math.LN2);
  // Right and certain: clipped to a tiny positive cost, never 0 nor -0.
  const certain = binaryCrossEntropy([1, 0], [1, 0]);
  assert.ok(certain > 0 && certain < 2e-7, `${certain}`);
});
