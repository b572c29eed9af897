/** What the runs say of a new image together (study/prediction.ts): the ensemble, its spread, and every call. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseThreshold, OPERATING_POINTS } from '../../study/operating-points.ts';
import { callRules, predictionBackend, predictionOf, ttaAugmentation } from '../../study/prediction.ts';

// Two runs' val predictions of the same five images (labels 0 0 0 1 1).
const labels = [0, 0, 0, 1, 1];
const runA = { labels, probabilities: [0.1, 0.2, 0.6, 0.7, 0.9] };
const runB = { labels, probabilities: [0.3, 0.1, 0.2, 0.4, 0.8] };

test("each rule: 0.5 first, then each operating point with each run's val threshold and the ensemble's on the val mean", () => {
  const rules = callRules([runA, runB]);
  assert.equal(rules.length, 1 + OPERATING_POINTS.length);
  assert.deepEqual(rules[0], { label: 'at 0.5', target: null, ensemble: 0.5, runs: [0.5, 0.5], reason: null });
  const mean = { labels, probabilities: [0.2, 0.15, 0.4, 0.55, 0.85] };
  for (const [i, target] of OPERATING_POINTS.entries()) {
    const rule = rules[i + 1]!;
    assert.deepEqual(rule.runs, [chooseThreshold(runA, target).threshold, chooseThreshold(runB, target).threshold]);
    assert.ok(Math.abs(rule.ensemble! - chooseThreshold(mean, target).threshold!) < 1e-12, rule.label);
  }
  // Specificity 0.80 of 3 benign images takes the 3rd lowest benign probability: 0.6 (A), 0.3 (B), 0.4 (the mean).
  assert.deepEqual(rules[1]!.runs, [0.6, 0.3]);
  assert.ok(Math.abs(rules[1]!.ensemble! - 0.4) < 1e-12);
});

test('a run without val predictions has no threshold, and the ensemble none either, with the reason', () => {
  const rules = callRules([runA, null]);
  assert.deepEqual(rules[1]!.runs, [0.6, null]);
  assert.equal(rules[1]!.ensemble, null);
  assert.equal(rules[1]!.reason, 'run 2 of 2 has no stored val predictions');
  const image = predictionOf('x.jpg', [0.7, 0.2], rules);
  assert.deepEqual(image.calls[1], { label: rules[1]!.label, threshold: null, malignant: null, runsMalignant: 1, runsWithThreshold: 1 });
});

test('an image: the mean, the sample std, min and max, and the calls of the ensemble and of each run', () => {
  const rules = callRules([runA, runB]);
  const image = predictionOf('x.jpg', [0.5, 0.35], rules);
  assert.equal(image.probability, 0.425);
  assert.ok(Math.abs(image.std! - Math.sqrt((0.075 ** 2 * 2) / 1)) < 1e-12);
  assert.deepEqual([image.min, image.max], [0.35, 0.5]);
  // At 0.5 (p > t): neither run, nor the ensemble. At specificity 0.80: run A (t 0.6) no, run B (t 0.3) yes, ensemble (t 0.4) yes.
  assert.deepEqual(image.calls[0], { label: 'at 0.5', threshold: 0.5, malignant: false, runsMalignant: 0, runsWithThreshold: 2 });
  assert.equal(image.calls[1]!.malignant, true);
  assert.equal(image.calls[1]!.runsMalignant, 1);
  assert.equal(predictionOf('one.jpg', [0.9], callRules([runA])).std, null, 'no std for one run');
});

test("test-time views keep the rotation and flips of the protocol, nothing else; the backend is the runs' own", () => {
  const a = ttaAugmentation({ augment: null, protocol: 'seed' });
  assert.equal(a.rotationRange, 30);
  assert.ok(a.horizontalFlip && a.verticalFlip);
  assert.deepEqual([a.zoomRange, a.widthShiftRange, a.heightShiftRange, a.brightnessRange], [0, 0, 0, [1, 1]]);
  assert.equal(predictionBackend([{ backend: 'wasm' }, { backend: 'wasm' }]), 'wasm');
  assert.equal(predictionBackend([{ backend: 'wasm' }, { backend: 'webgpu' }]), 'auto');
  assert.equal(predictionBackend([{ backend: null }]), 'auto');
});
