import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averagePrecision, prCurve } from '../../../study/metrics/precision-recall.ts';

// AP = sum over distinct thresholds, descending, of (R_k - R_{k-1}) * P_k with R_0 = 0 (scikit-learn's
// average_precision_score).
const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

test('perfect ranking: AP 1', () => {
  // 0.9: R 1/2 P 1; 0.8: R 1 P 1; lower thresholds add no recall. AP = 1/2*1 + 1/2*1 = 1.
  assert.equal(averagePrecision([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
});

test('inverted ranking', () => {
  // 0.9, 0.8: no positive yet (R 0); 0.2: tp 1 fp 2 -> R 1/2 P 1/3; 0.1: tp 2 fp 2 -> R 1 P 1/2.
  // AP = 1/2*1/3 + 1/2*1/2 = 5/12.
  close(averagePrecision([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 5 / 12);
});

test('all scores tied: AP is the prevalence', () => {
  // One threshold: R 1, P = 2/5.
  close(averagePrecision([1, 0, 0, 1, 0], [0.3, 0.3, 0.3, 0.3, 0.3]), 0.4);
});

test('worked example with ties (scikit-learn gives 0.6845238095238095)', () => {
  // P = 4. Thresholds, descending, cumulative (tp, fp):
  // 0.9 (1,0): R 1/4, P 1      -> + 1/4 * 1
  // 0.8 (2,1): R 2/4, P 2/3    -> + 1/4 * 2/3
  // 0.7 (3,3): R 3/4, P 1/2    -> + 1/4 * 1/2
  // 0.4 (4,3): R 1,   P 4/7    -> + 1/4 * 4/7
  // 0.1 (4,4): R 1             -> + 0
  // AP = 1/4 * (42 + 28 + 21 + 24)/42 = 115/168.
  close(averagePrecision([1, 0, 1, 1, 0, 0, 1, 0], [0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.4, 0.1]), 115 / 168);
});

test('a tie across classes shares the precision of its group', () => {
  // 0.9 (1,0): R 1/2 P 1; 0.6 (2,1): R 1 P 2/3. AP = 1/2 + 1/3 = 5/6.
  close(averagePrecision([0, 1, 0, 1], [0.2, 0.6, 0.6, 0.9]), 5 / 6);
});

test('no positives: AP is NaN and the curve is empty; no negatives: AP 1', () => {
  assert.ok(Number.isNaN(averagePrecision([0, 0, 0], [0.1, 0.5, 0.9])));
  assert.deepEqual(prCurve([0, 0, 0], [0.1, 0.5, 0.9]), { x: [], y: [], thresholds: [] });
  assert.equal(averagePrecision([1, 1], [0.1, 0.9]), 1);
});

test('curve: ascending thresholds, recall falling from 1, ending at (recall 0, precision 1)', () => {
  const curve = prCurve([1, 0, 1, 1, 0, 0, 1, 0], [0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.4, 0.1]);
  assert.deepEqual(curve, {
    x: [1, 1, 0.75, 0.5, 0.25, 0],
    y: [0.5, 4 / 7, 0.5, 2 / 3, 1, 1],
    thresholds: [0.1, 0.4, 0.7, 0.8, 0.9, 1.9],
  });
});
