import assert from 'node:assert/strict';
import { test } from 'node:test';
import { METRICS, averagePrecision, evaluateBinary, rocAuc } from '../../../study/metrics/binary.ts';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

test('evaluateBinary on the worked example', () => {
  const yTrue = [1, 0, 1, 1, 0, 0, 1, 0];
  const yProb = [0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.4, 0.1];
  const ev = evaluateBinary(yTrue, yProb);
  // p > 0.5: 0.9(1) 0.8(0) 0.8(1) 0.7(1) 0.7(0) 0.7(0) -> tp 3, fp 3; 0.4(1) -> fn; 0.1(0) -> tn.
  assert.deepEqual(ev.confusion, { tp: 3, fp: 3, tn: 1, fn: 1 });
  assert.equal(ev.metrics.accuracy, 0.5); // 4/8
  assert.equal(ev.metrics.precision, 0.5); // 3/6
  assert.equal(ev.metrics.recall, 0.75); // 3/4
  assert.equal(ev.metrics.specificity, 0.25); // 1/4: the benign 0.8, 0.7, 0.7 are called malignant
  assert.equal(ev.metrics.roc_auc, 0.65625); // 10.5/16, see roc.test.ts
  close(ev.metrics.pr_auc, 115 / 168); // see precision-recall.test.ts
  // -(ln .9 + ln .2 + ln .8 + ln .7 + ln .3 + ln .3 + ln .4 + ln .9) / 8
  const lnSum = [0.9, 0.2, 0.8, 0.7, 0.3, 0.3, 0.4, 0.9].reduce((s, p) => s + Math.log(p), 0);
  close(ev.metrics.loss, -lnSum / 8);
  assert.deepEqual(ev.roc.x, [0, 0, 0.25, 0.75, 0.75, 1]);
  assert.deepEqual(ev.pr.x, [1, 1, 0.75, 0.5, 0.25, 0]);
});

test('the AUCs are exact whatever the curves are thinned to', () => {
  let seed = 3;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const yTrue = Array.from({ length: 3000 }, () => (rand() < 0.45 ? 1 : 0));
  const yProb = yTrue.map((y) => Math.min(1, rand() * 0.9 + y * 0.1));
  const ev = evaluateBinary(Float32Array.from(yTrue), Float32Array.from(yProb), { maxCurvePoints: 10 });
  assert.equal(ev.roc.x.length, 10);
  assert.equal(ev.pr.x.length, 10);
  assert.equal(ev.metrics.roc_auc, rocAuc(Float32Array.from(yTrue), Float32Array.from(yProb)));
  assert.equal(ev.metrics.pr_auc, averagePrecision(Float32Array.from(yTrue), Float32Array.from(yProb)));
  // The trapezoids of 10 points would not give the exact AUC.
  let coarse = 0;
  for (let i = 1; i < ev.roc.x.length; i++) coarse += ((ev.roc.x[i]! - ev.roc.x[i - 1]!) * (ev.roc.y[i]! + ev.roc.y[i - 1]!)) / 2;
  assert.notEqual(coarse, ev.metrics.roc_auc);
});

test('a split with one class: NaN AUCs where undefined, Keras zeros for precision/recall', () => {
  const benign = evaluateBinary([0, 0, 0], [0.2, 0.4, 0.6]);
  assert.ok(Number.isNaN(benign.metrics.roc_auc));
  assert.ok(Number.isNaN(benign.metrics.pr_auc));
  assert.equal(benign.metrics.recall, 0); // no positive
  assert.equal(benign.metrics.precision, 0); // 0.6 is a false positive: 0/1
  assert.equal(benign.metrics.specificity, 2 / 3); // 0.2 and 0.4 are called benign
  assert.deepEqual(benign.roc, { x: [], y: [], thresholds: [] });
  assert.deepEqual(benign.pr, { x: [], y: [], thresholds: [] });

  const malignant = evaluateBinary([1, 1], [0.3, 0.4]);
  assert.ok(Number.isNaN(malignant.metrics.roc_auc));
  assert.equal(malignant.metrics.pr_auc, 1); // every threshold has precision 1
  assert.equal(malignant.metrics.precision, 0); // nothing above 0.5: no predicted positive
  assert.equal(malignant.metrics.recall, 0); // 0/2
  assert.equal(malignant.metrics.specificity, 0); // no benign lesion: 0, as scikit-learn's zero_division
  assert.deepEqual(malignant.roc.x, []);
  assert.deepEqual(malignant.pr, { x: [1, 0.5, 0], y: [1, 1, 1], thresholds: [0.3, 0.4, 1.4] });
});

test('bad inputs name the index and the value', () => {
  assert.throws(() => evaluateBinary([0, 1], [0.5]), /yTrue has 2 values but yProb has 1/);
  assert.throws(() => evaluateBinary([], []), /at least one sample/);
  assert.throws(() => evaluateBinary([0, 2], [0.5, 0.5]), /yTrue\[1\] = 2 is not a label/);
  assert.throws(() => evaluateBinary([0, 1, 0], [0.5, 0.5, Number.NaN]), /yProb\[2\] = NaN is not a probability/);
  assert.throws(() => evaluateBinary([0, 1], [1.5, 0.5]), /yProb\[0\] = 1.5 is not a probability/);
  assert.throws(() => evaluateBinary([0], [-0.1]), /yProb\[0\] = -0.1/);
  assert.throws(() => evaluateBinary([0], [Infinity]), /yProb\[0\] = Infinity/);
  assert.throws(() => evaluateBinary([0], [0.5], { threshold: Number.NaN }), /threshold = NaN/);
  assert.throws(() => evaluateBinary([0], [0.5], { maxCurvePoints: 1.5 }), /maxPoints = 1.5/);
});

test('the definitions: unique snake_case names (stored rows and SQL columns take them), each with its reference', () => {
  assert.equal(new Set(METRICS.map((m) => m.name)).size, METRICS.length);
  for (const m of METRICS) {
    assert.match(m.name, /^[a-z][a-z0-9_]*$/);
    assert.ok(m.label && m.reference, m.name);
    assert.ok(m.max === null || m.max > 0, m.name);
  }
  assert.deepEqual(
    METRICS.filter((m) => m.better === 'lower').map((m) => m.name),
    ['loss'],
  );
});
