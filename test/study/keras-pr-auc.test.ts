/**
 * Keras' AUC(curve='PR') on hand cases. The first is the example of Keras' AUC documentation,
 * `AUC(num_thresholds=3)` on y_true [0, 0, 1, 1], y_pred [0, 0.5, 0.3, 0.9], whose docstring lists
 * "thresholds = [0 - 1e-7, 0.5, 1 + 1e-7], tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2]".
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countsAtThresholds, interpolatePrAuc, kerasPrAuc, kerasThresholds } from '../../study/keras-pr-auc.ts';
import { averagePrecision } from '../../study/metrics/index.ts';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

describe("Keras' AUC(curve='PR')", () => {
  const labels = [0, 0, 1, 1];
  const probs = [0, 0.5, 0.3, 0.9];

  test("thresholds and counts of Keras' documented example", () => {
    assert.deepEqual(kerasThresholds(3), [-1e-7, 0.5, 1 + 1e-7]);
    const c = countsAtThresholds(labels, probs, kerasThresholds(3));
    assert.deepEqual(c.tp, [2, 1, 0]);
    assert.deepEqual(c.fp, [2, 0, 0]);
    assert.deepEqual(c.fn, [0, 1, 2]);
  });

  test('the interpolated area of that example, by hand', () => {
    // Interval 1 (P 4 -> 1, TP 2 -> 1): slope 1/3, intercept 1 - 1/3 = 2/3, area (1/3)(1 + (2/3) ln 4) / 2.
    // Interval 2 (P 1 -> 0, TP 1 -> 0): slope 1, intercept 0, ln term 0 (P_B = 0), area 1 * 1 / 2.
    const expected = (1 / 6) * (1 + (2 / 3) * Math.log(4)) + 0.5;
    close(kerasPrAuc(labels, probs, 3), expected, 'PR AUC');
    // scikit-learn's average precision of the same predictions is a step sum: 0.5 * 1 + 0.5 * 2/3.
    close(averagePrecision(labels, probs), 0.5 + 1 / 3, 'average precision');
  });

  test('with the default 200 thresholds: a perfect ranking gives 1, a constant recall interval adds nothing', () => {
    close(kerasPrAuc([1, 0], [0.9, 0.1]), 1, 'perfect');
    // All predictions in one threshold bucket: one interval, P 4 -> 0 with TP 2 -> 0: slope 1/2, area 1/2 * 2 / 2.
    close(kerasPrAuc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]), 0.5, 'one bucket');
  });

  test('increments by hand over explicit counts', () => {
    // One interval, TP 3 -> 1, P 6 -> 2, FN_B 2: slope 1/2, intercept 1 - 1 = 0, area (1/2)(2) / 3 = 1/3.
    close(interpolatePrAuc({ thresholds: [0, 1], tp: [3, 1], fp: [3, 1], fn: [0, 2] }), 1 / 3, 'increment');
  });

  test('NaN without positives; bad probabilities are refused', () => {
    assert.ok(Number.isNaN(kerasPrAuc([0, 0], [0.2, 0.7])));
    assert.throws(() => kerasPrAuc([1, 0], [1.2, 0.1]), /not in \[0, 1\]/);
    assert.throws(() => kerasThresholds(1), /num_thresholds/);
  });
});
