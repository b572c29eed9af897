import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prCurve, rocCurve } from '../../../study/metrics/binary.ts';
import { thinCurve } from '../../../study/metrics/thin.ts';

function randomSplit(n: number, seed: number): { yTrue: number[]; yProb: number[] } {
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const yTrue: number[] = [];
  const yProb: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = rand() < 0.4 ? 1 : 0;
    yTrue.push(y);
    yProb.push(Math.min(1, rand() * 0.8 + y * 0.2));
  }
  return { yTrue, yProb };
}

const nonDecreasing = (a: number[]) => a.every((v, i) => i === 0 || a[i - 1]! <= v);
const nonIncreasing = (a: number[]) => a.every((v, i) => i === 0 || a[i - 1]! >= v);

test('a thinned ROC curve keeps its ends and stays monotonic', () => {
  const { yTrue, yProb } = randomSplit(2000, 11);
  const full = rocCurve(yTrue, yProb, Number.MAX_SAFE_INTEGER);
  assert.ok(full.x.length > 300, `the unthinned curve has ${full.x.length} points`);
  const thin = rocCurve(yTrue, yProb, 50);
  assert.equal(thin.x.length, 50);
  assert.equal(thin.y.length, 50);
  assert.equal(thin.thresholds.length, 50);
  for (const key of ['x', 'y', 'thresholds'] as const) {
    assert.equal(thin[key][0], full[key][0]);
    assert.equal(thin[key].at(-1), full[key].at(-1));
  }
  assert.deepEqual([thin.x[0], thin.y[0], thin.x.at(-1), thin.y.at(-1)], [0, 0, 1, 1]);
  assert.ok(nonDecreasing(thin.x) && nonDecreasing(thin.y) && nonIncreasing(thin.thresholds));
  // Every kept point is a point of the full curve, with its own threshold.
  const fullPoints = new Set(full.x.map((x, i) => `${x},${full.y[i]},${full.thresholds[i]}`));
  assert.ok(thin.x.every((x, i) => fullPoints.has(`${x},${thin.y[i]},${thin.thresholds[i]}`)));
});

test('a thinned PR curve keeps (recall 1, prevalence) and (recall 0, precision 1)', () => {
  const { yTrue, yProb } = randomSplit(1000, 5);
  const thin = prCurve(yTrue, yProb, 20);
  assert.equal(thin.x.length, 20);
  const prevalence = yTrue.filter((y) => y === 1).length / yTrue.length;
  assert.deepEqual([thin.x[0], thin.y[0]], [1, prevalence]);
  assert.deepEqual([thin.x.at(-1), thin.y.at(-1)], [0, 1]);
  assert.ok(nonIncreasing(thin.x) && nonDecreasing(thin.thresholds));
});

test('thinCurve: short curves unchanged, two points keep only the ends', () => {
  const curve = { x: [0, 0.5, 1], y: [0, 0.7, 1], thresholds: [2, 0.5, 0] };
  assert.equal(thinCurve(curve, 3), curve);
  assert.deepEqual(thinCurve(curve, 2), { x: [0, 1], y: [0, 1], thresholds: [2, 0] });
  assert.throws(() => rocCurve([0, 1], [0.2, 0.8], 1), /maxPoints = 1/);
});
