/** Brier score, ECE and temperature scaling against hand computations. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  TEMPERATURE_RANGE,
  applyTemperature,
  binOf,
  calibrate,
  calibrationReport,
  calibrationStats,
  ensembleOf,
  fitTemperature,
  temperatureNll,
} from '../../study/probability-calibration.ts';

const near = (a: number | null | undefined, b: number, tolerance = 1e-12) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= tolerance, `${a} is not ${b}`);

/*
 * The worked case: ten images, 10 equal-width bins of p.
 *
 *   bin          images (p, y)                               n   Σp     Σy   |Σy − Σp|
 *   [0.0, 0.1)   (0.05, 0)                                   1   0.05   0    0.05
 *   [0.1, 0.2)   (0.10, 0) (0.15, 0) (0.15, 1)               3   0.40   1    0.60
 *   [0.3, 0.4)   (0.35, 0)                                   1   0.35   0    0.35
 *   [0.6, 0.7)   (0.62, 1) (0.68, 0) (0.68, 1)               3   1.98   2    0.02
 *   [0.9, 1.0]   (0.95, 1) (1.00, 1)                         2   1.95   2    0.05
 *
 *   ECE = Σ (n_b / n)·|ȳ_b − p̄_b| = Σ |Σy − Σp| / n = 1.07 / 10 = 0.107.
 *   (Guo et al.'s top-label form, on max(p, 1 − p), gives another number: the test pins the melanoma form.)
 *   Brier = (0.05² + 0.10² + 0.15² + 0.85² + 0.35² + 0.38² + 0.68² + 0.32² + 0.05² + 0²) / 10 = 1.5917 / 10 = 0.15917.
 */
const worked = {
  probabilities: [0.05, 0.1, 0.15, 0.15, 0.35, 0.62, 0.68, 0.68, 0.95, 1.0],
  labels: [0, 0, 0, 1, 0, 1, 0, 1, 1, 1],
};

describe('calibrationStats', () => {
  test('the worked case: ECE 0.107, Brier 0.15917, the bins of the reliability diagram', () => {
    const s = calibrationStats(worked);
    near(s.ece, 0.107);
    near(s.brier, 0.15917);
    assert.equal(s.n, 10);
    assert.deepEqual(
      s.bins.map((b) => b.n),
      [1, 3, 0, 1, 0, 0, 3, 0, 0, 2],
    );
    near(s.bins[1]!.meanProbability, 0.4 / 3);
    near(s.bins[1]!.observedFraction, 1 / 3);
    near(s.bins[9]!.meanProbability, 0.975);
    assert.equal(s.bins[2]!.meanProbability, null);
    assert.equal(s.bins[2]!.observedFraction, null);
    near(s.bins[9]!.lower, 0.9);
    near(s.bins[9]!.upper, 1);
  });

  test('bins: k/10 opens bin k, 1.0 closes the last', () => {
    for (let k = 0; k < 10; k++) assert.equal(binOf(k / 10), k, `p = ${k / 10}`);
    assert.equal(binOf(1), 9);
    assert.equal(binOf(0.0999999), 0);
  });

  test('a perfectly calibrated split has ECE 0; a confident wrong one Brier 1', () => {
    near(calibrationStats({ probabilities: [0.25, 0.25, 0.25, 0.25], labels: [1, 0, 0, 0] }).ece, 0);
    const wrong = calibrationStats({ probabilities: [0, 1], labels: [1, 0] });
    near(wrong.brier, 1);
    near(wrong.ece, 1);
  });

  test('bad input is refused', () => {
    assert.throws(() => calibrationStats({ probabilities: [], labels: [] }), /no images/);
    assert.throws(() => calibrationStats({ probabilities: [1.5], labels: [1] }), /not in \[0, 1\]/);
    assert.throws(() => calibrationStats({ probabilities: [0.5], labels: [2] }), /neither 0 nor 1/);
    assert.throws(() => calibrationStats({ probabilities: [0.5, 0.2], labels: [1] }), /pair up/);
  });
});

/*
 * Temperature in closed form: four images at logit +c (3 melanomas, 1 benign) and four at −c (1 melanoma, 3 benign).
 * The NLL of σ(a·z) is minimal where σ(a·c) = 3/4, so a = ln 3 / c and T = 1/a = c / ln 3. With c = 2: T = 1.8205.
 * Scaled, the val probabilities become 0.75 and 0.25, the fractions of melanomas at each logit: val ECE 0.
 */
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
function twoLogits(c: number, positivesAtPlus: number, m = 4) {
  const probabilities = [...Array(m).fill(sigmoid(c)), ...Array(m).fill(sigmoid(-c))];
  // At −c the same fraction q of benign lesions: m − positivesAtPlus melanomas.
  const labels = [...Array(m).keys()].map((i) => (i < positivesAtPlus ? 1 : 0)).concat([...Array(m).keys()].map((i) => (i < positivesAtPlus ? 0 : 1)));
  return { probabilities, labels };
}

describe('fitTemperature', () => {
  test('T = c / logit(q) for two logits ±c with a fraction q of melanomas at +c', () => {
    near(fitTemperature(twoLogits(2, 3)), 2 / Math.log(3), 1e-9);
    near(fitTemperature(twoLogits(0.5, 3)), 0.5 / Math.log(3), 1e-9);
  });

  test('T minimises the val NLL', () => {
    const t = fitTemperature(worked)!;
    const z = worked.probabilities.map((p) => Math.log(Math.min(Math.max(p, 1e-7), 1 - 1e-7) / (1 - Math.min(Math.max(p, 1e-7), 1 - 1e-7))));
    const at = (x: number) => temperatureNll(z, worked.labels, x);
    assert.ok(at(t) < at(t * 1.01) && at(t) < at(t * 0.99), `NLL at T = ${t} is no minimum`);
  });

  test('after scaling, the val fractions are met: ECE 0; the ranking is kept', () => {
    const val = twoLogits(2, 3);
    const c = calibrate(val, twoLogits(2, 4));
    near(c.val.after!.ece, 0, 1e-9);
    near(c.val.after!.bins[7]!.meanProbability, 0.75, 1e-9);
    assert.ok(c.val.before.ece > 0.1);
    const scaled = applyTemperature([0.1, 0.3, 0.9], 2);
    assert.ok(scaled[0]! < scaled[1]! && scaled[1]! < scaled[2]!);
    near(applyTemperature([0.5], 7)[0], 0.5);
  });

  test('no temperature without both classes on val; a separable val gives the range bound', () => {
    assert.equal(fitTemperature({ probabilities: [0.2, 0.7], labels: [1, 1] }), null);
    assert.equal(calibrate({ probabilities: [0.2, 0.7], labels: [1, 1] }, worked).test.after, null);
    assert.equal(fitTemperature({ probabilities: [0.2, 0.7], labels: [0, 1] }), TEMPERATURE_RANGE[0]);
    assert.equal(fitTemperature({ probabilities: [0.7, 0.2], labels: [0, 1] }), TEMPERATURE_RANGE[1]);
  });
});

describe('calibrationReport', () => {
  const run = (runId: number, model: string, shift: number) => ({
    runId,
    model,
    runIndex: runId,
    val: { images: ['v1', 'v2', 'v3', 'v4'], labels: [0, 0, 1, 1], probabilities: [0.1 + shift, 0.6, 0.4, 0.9 - shift] },
    test: { images: ['t1', 't2', 't3'], labels: [0, 1, 1], probabilities: [0.3, 0.2 + shift, 0.8] },
  });

  test('per run, mean ± std per model, and the ensemble of the mean probabilities', () => {
    const report = calibrationReport([run(1, 'baseline', 0), run(2, 'baseline', 0.1), { runId: 3, model: 'augmented', runIndex: 0 }]);
    assert.equal(report.bins, 10);
    assert.deepEqual(
      report.runs.map((r) => r.runId),
      [1, 2],
      'a run without predictions is left out',
    );
    assert.equal(report.models.length, 1);
    const m = report.models[0]!;
    assert.equal(m.runs, 2);
    const briers = report.runs.map((r) => r.test.before.brier);
    near(m.test.brier.mean, (briers[0]! + briers[1]!) / 2);
    near(m.test.brier.std, Math.abs(briers[0]! - briers[1]!) / Math.SQRT2);
    near(m.temperature.mean, (report.runs[0]!.temperature! + report.runs[1]!.temperature!) / 2);
    near(m.ensemble!.test.before.brier, calibrationStats({ labels: [0, 1, 1], probabilities: [0.3, 0.25, 0.8] }).brier);
    assert.deepEqual(m.ensemble!.images, { val: 4, test: 3 });
  });

  test('an ensemble pairs images by name and keeps only those every run has', () => {
    const e = ensembleOf([
      { images: ['a', 'b', 'c'], labels: [0, 1, 1], probabilities: [0.2, 0.4, 0.9] },
      { images: ['b', 'a'], labels: [1, 0], probabilities: [0.6, 0.4] },
    ]);
    assert.deepEqual(e.images, ['a', 'b']);
    assert.deepEqual(e.labels, [0, 1]);
    near(e.probabilities[0], 0.3);
    near(e.probabilities[1], 0.5);
  });
});
