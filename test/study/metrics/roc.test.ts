import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rocAuc, rocCurve } from '../../../study/metrics/roc.ts';

test('perfect ranking: every (positive, negative) pair ordered right, AUC 1', () => {
  // 2 positives x 2 negatives = 4 pairs, all 4 correct: 4/4.
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
});

test('inverted ranking: AUC 0', () => {
  assert.equal(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 0);
});

test('all scores tied: every pair is half credit, AUC 0.5', () => {
  // 2 positives x 3 negatives = 6 pairs, each 1/2: 3/6.
  assert.equal(rocAuc([1, 0, 0, 1, 0], [0.3, 0.3, 0.3, 0.3, 0.3]), 0.5);
});

test('a tie across classes counts 1/2', () => {
  // positives {0.9, 0.6}, negatives {0.2, 0.6}:
  // (0.9,0.2)=1 (0.9,0.6)=1 (0.6,0.2)=1 (0.6,0.6)=1/2 -> U = 3.5, AUC = 3.5/4 = 0.875.
  assert.equal(rocAuc([0, 1, 0, 1], [0.2, 0.6, 0.6, 0.9]), 0.875);
});

test('worked example with tie groups: U / (P*N)', () => {
  // positives 0.9, 0.8, 0.7, 0.4; negatives 0.8, 0.7, 0.7, 0.1 (P = N = 4, 16 pairs).
  // 0.9 beats all 4 -> 4; 0.8 beats 0.7,0.7,0.1 and ties 0.8 -> 3.5; 0.7 beats 0.1, ties two 0.7 -> 2;
  // 0.4 beats 0.1 -> 1. U = 10.5, AUC = 10.5/16 = 0.65625.
  assert.equal(rocAuc([1, 0, 1, 1, 0, 0, 1, 0], [0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.4, 0.1]), 0.65625);
});

test('one class absent: AUC is NaN (0/0 pairs) and the curve is empty', () => {
  assert.ok(Number.isNaN(rocAuc([1, 1, 1], [0.2, 0.5, 0.9])));
  assert.ok(Number.isNaN(rocAuc([0, 0], [0.2, 0.5])));
  assert.deepEqual(rocCurve([1, 1, 1], [0.2, 0.5, 0.9]), { x: [], y: [], thresholds: [] });
  assert.deepEqual(rocCurve([0, 0], [0.2, 0.5]), { x: [], y: [], thresholds: [] });
});

test('matches a brute-force Mann-Whitney count on data with many ties', () => {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const yTrue: number[] = [];
  const yProb: number[] = [];
  for (let i = 0; i < 400; i++) {
    const y = rand() < 0.3 ? 1 : 0;
    yTrue.push(y);
    // Two decimals: hundreds of ties, within and across classes.
    yProb.push(Math.round(Math.min(1, Math.max(0, rand() * 0.7 + y * 0.3)) * 100) / 100);
  }
  let u = 0;
  let pairs = 0;
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] !== 1) continue;
    for (let j = 0; j < yTrue.length; j++) {
      if (yTrue[j] !== 0) continue;
      pairs++;
      u += yProb[i]! > yProb[j]! ? 1 : yProb[i] === yProb[j] ? 0.5 : 0;
    }
  }
  assert.ok(Math.abs(rocAuc(yTrue, yProb) - u / pairs) < 1e-12);
});

test('curve: starts at (0,0) with threshold max+1, one point per corner, ends at (1,1)', () => {
  // Same worked example. Distinct thresholds (desc) with cumulative (fp, tp):
  // 0.9 (0,1)  0.8 (1,2)  0.7 (3,3)  0.4 (3,4)  0.1 (4,4); every inner point is a corner, so all stay.
  const curve = rocCurve([1, 0, 1, 1, 0, 0, 1, 0], [0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.4, 0.1]);
  assert.deepEqual(curve, {
    x: [0, 0, 0.25, 0.75, 0.75, 1],
    y: [0, 0.25, 0.5, 0.75, 1, 1],
    thresholds: [1.9, 0.9, 0.8, 0.7, 0.4, 0.1],
  });
});

test('curve drops intermediate points the way scikit-learn does', () => {
  // (fp, tp) per threshold 0.9..0.4: (0,1) (0,2) (0,3) (1,3) (2,3) (3,3). Second differences vanish at
  // 0.8 (tp 1,2,3), 0.6 (fp 0,1,2 / tp 3,3,3) and 0.5, so only 0.9, 0.7 and 0.4 remain after (0,0).
  const curve = rocCurve([1, 1, 1, 0, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]);
  assert.deepEqual(curve.x, [0, 0, 0, 1]);
  assert.deepEqual(curve.y, [0, 1 / 3, 1, 1]);
  assert.deepEqual(curve.thresholds, [1.9, 0.9, 0.7, 0.4]);
});
