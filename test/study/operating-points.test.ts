/** Operating points against a hand computation on 6 val and 6 test images, ties and empty classes included. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import seedrandom from 'seedrandom';
import {
  OPERATING_POINTS,
  chooseThreshold,
  confusionAt,
  meanStd,
  modelsAtThreshold,
  operatingPoint,
  operatingPoints,
  operatingPointsReport,
  ratesOf,
  summarizeOperatingPoints,
  type Scored,
} from '../../study/operating-points.ts';
import { first } from '../../common/indexing.ts';

/*
 * The worked case. Decision: malignant when p > t.
 *
 *   val   benign     0.2  0.4  0.4  0.7        (N = 4)
 *         malignant  0.4  0.9                  (P = 2)
 *   test  benign     0.1  0.35 0.5  0.75       (N = 4)
 *         malignant  0.4  0.7                  (P = 2)
 *
 * Target specificity s: t = the ceil(4s)-th lowest val benign probability.
 *   s = 0.80, 0.90, 0.95: ceil(3.2) = ceil(3.6) = ceil(3.8) = 4 → t = 0.7.
 *     val:  benign ≤ 0.7: all 4 → spec 1; malignant > 0.7: 0.9 → sens 1/2.
 *     test: benign ≤ 0.7: 0.1 0.35 0.5 → TN 3, FP 1 (0.75) → spec 0.75;
 *           malignant > 0.7: none (0.7 is not > 0.7) → TP 0, FN 2 → sens 0; PPV 0/1 = 0.
 *   s = 0.50: ceil(2) = 2 → t = 0.4 (the 2nd lowest; the other benign 0.4 is tied with it).
 *     val:  benign ≤ 0.4: 0.2 0.4 0.4 → spec 3/4; malignant > 0.4: 0.9 → sens 1/2.
 *     test: benign ≤ 0.4: 0.1 0.35 → TN 2, FP 2 → spec 0.5; malignant > 0.4: 0.7 → TP 1, FN 1 → sens 0.5; PPV 1/3.
 * Target sensitivity r: t = just below the ceil(2r)-th highest val malignant probability (positive when p ≥ it).
 *   r = 0.90, 0.95: ceil(1.8) = ceil(1.9) = 2 → just below 0.4.
 *     val:  malignant ≥ 0.4: both → sens 1; benign ≥ 0.4: 0.4 0.4 0.7 → FP 3, TN 1 → spec 1/4.
 *     test: malignant ≥ 0.4: 0.4 0.7 → TP 2 → sens 1; benign ≥ 0.4: 0.5 0.75 → FP 2, TN 2 → spec 0.5; PPV 2/4.
 *   r = 0.50: ceil(1) = 1 → just below 0.9.
 *     val:  sens 1/2 (0.9), spec 1 (no benign ≥ 0.9).
 *     test: nothing ≥ 0.9 → sens 0, spec 1; PPV undefined (nothing called malignant) → null.
 */
const split = (benign: number[], malignant: number[]): Scored => ({
  labels: [...benign.map(() => 0), ...malignant.map(() => 1)],
  probabilities: [...benign, ...malignant],
});
/** a equals b to 12 decimal places. */
const near = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} is not ${b}`);

const val = split([0.2, 0.4, 0.4, 0.7], [0.4, 0.9]);
const testSplit = split([0.1, 0.35, 0.5, 0.75], [0.4, 0.7]);

describe('operating points', () => {
  test('the confusion matrix at a threshold counts p > t as malignant (a tie with t is benign)', () => {
    assert.deepEqual(confusionAt(testSplit, 0.4), { tp: 1, fp: 2, tn: 2, fn: 1 });
    assert.deepEqual(confusionAt(testSplit, 0.7), { tp: 0, fp: 1, tn: 3, fn: 2 });
    assert.deepEqual(ratesOf({ tp: 1, fp: 2, tn: 2, fn: 1 }), { sensitivity: 0.5, specificity: 0.5, ppv: 1 / 3 });
    assert.deepEqual(ratesOf({ tp: 0, fp: 0, tn: 4, fn: 2 }), { sensitivity: 0, specificity: 1, ppv: null });
  });

  test("the study's five operating points of the worked case", () => {
    const points = operatingPoints(val, testSplit);
    assert.deepEqual(
      points.map((p) => [p.kind, p.target]),
      OPERATING_POINTS.map((t) => [t.kind, t.target]),
    );
    for (const p of points.slice(0, 3)) {
      assert.equal(p.threshold, 0.7);
      assert.deepEqual(p.val, { sensitivity: 0.5, specificity: 1, ppv: 1, confusion: { tp: 1, fp: 0, tn: 4, fn: 1 } });
      assert.deepEqual(p.test, { sensitivity: 0, specificity: 0.75, ppv: 0, confusion: { tp: 0, fp: 1, tn: 3, fn: 2 } });
    }
    for (const p of points.slice(3)) {
      assert.ok(p.threshold! < 0.4 && p.threshold! > 0.4 - 1e-15, `just below 0.4: ${p.threshold}`);
      assert.deepEqual(p.val, { sensitivity: 1, specificity: 0.25, ppv: 0.4, confusion: { tp: 2, fp: 3, tn: 1, fn: 0 } });
      assert.deepEqual(p.test, { sensitivity: 1, specificity: 0.5, ppv: 0.5, confusion: { tp: 2, fp: 2, tn: 2, fn: 0 } });
    }
  });

  test('other targets of the worked case: ties with the chosen benign image stay benign', () => {
    const spec50 = operatingPoint(val, testSplit, { kind: 'specificity', target: 0.5 });
    assert.equal(spec50.threshold, 0.4);
    assert.equal(spec50.val!.specificity, 0.75);
    assert.equal(spec50.val!.sensitivity, 0.5);
    assert.deepEqual(spec50.test, { sensitivity: 0.5, specificity: 0.5, ppv: 1 / 3, confusion: { tp: 1, fp: 2, tn: 2, fn: 1 } });
    const sens50 = operatingPoint(val, testSplit, { kind: 'sensitivity', target: 0.5 });
    assert.ok(sens50.threshold! < 0.9 && sens50.threshold! > 0.9 - 1e-15, `just below 0.9: ${sens50.threshold}`);
    assert.deepEqual([sens50.val!.sensitivity, sens50.val!.specificity], [0.5, 1]);
    assert.deepEqual(sens50.test, { sensitivity: 0, specificity: 1, ppv: null, confusion: { tp: 0, fp: 0, tn: 4, fn: 2 } });
  });

  test('a target that is a whole number of images is reached exactly (0.9 of 10 is 9, 0.28 of 25 is 7)', () => {
    const benign = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1];
    const s = split(benign, [0.5]);
    assert.equal(chooseThreshold(s, { kind: 'specificity', target: 0.9 }).threshold, 0.09);
    assert.equal(chooseThreshold(s, { kind: 'specificity', target: 0.8 }).threshold, 0.08);
    assert.equal(chooseThreshold(s, { kind: 'specificity', target: 0.95 }).threshold, 0.1);
    assert.equal(chooseThreshold(s, { kind: 'specificity', target: 0.7 }).threshold, 0.07);
    // 0.28 · 25 is 7.000000000000001 in doubles: still 7 of 25 images.
    const scores = Array.from({ length: 25 }, (_, i) => (i + 1) / 100);
    assert.equal(chooseThreshold(split(scores, [0.9]), { kind: 'specificity', target: 0.28 }).threshold, 0.07);
    assert.ok(chooseThreshold(split([0.1], scores), { kind: 'sensitivity', target: 0.28 }).threshold! > 0.18, 'the 7th highest of 25 is 0.19');
  });

  test('a split without the counted class has no threshold, with the reason; a missing test class gives null rates', () => {
    const noBenign = split([], [0.3, 0.8]);
    const p = operatingPoint(noBenign, testSplit, { kind: 'specificity', target: 0.9 });
    assert.equal(p.threshold, null);
    assert.match(p.reason!, /no benign image/);
    assert.equal(p.test, null);
    const q = operatingPoint(noBenign, split([0.2, 0.6], []), { kind: 'sensitivity', target: 0.9 });
    assert.ok(q.threshold! < 0.3, `below 0.3: ${q.threshold}`);
    assert.equal(q.test!.sensitivity, null);
    assert.equal(q.test!.specificity, 0.5); // t just below 0.3: benign 0.6 is called malignant, 0.2 is not
    assert.throws(() => chooseThreshold(val, { kind: 'specificity', target: 0 }), /not in \(0, 1\]/);
    assert.throws(() => chooseThreshold(val, { kind: 'specificity', target: 1.2 }), /not in \(0, 1\]/);
    assert.throws(() => confusionAt({ labels: [0, 1], probabilities: [0.5] }, 0.5), /pair up/);
  });

  test('per model: mean ± sample std over runs of the test rates and thresholds', () => {
    // Run 1 is the worked case; run 2 swaps val and test. Sensitivity at specificity 0.80:
    //   run 2 chooses t = 0.75 (4th lowest test-as-val benign) and measures on the worked val: sens 1/2 (0.9 > 0.75),
    //   spec 1. Over the two runs: sens (0 + 0.5) / 2 = 0.25, std sqrt(((0.25)² + (0.25)²) / 1) = 0.353553...;
    //   spec (0.75 + 1) / 2 = 0.875, std = 0.176776...; threshold (0.7 + 0.75) / 2 = 0.725, std 0.035355...
    const runs = [
      { model: 'baseline', points: operatingPoints(val, testSplit) },
      { model: 'baseline', points: operatingPoints(testSplit, val) },
      { model: 'xception', points: operatingPoints(val, testSplit) },
    ];
    const [baseline, xception] = summarizeOperatingPoints(runs);
    assert.ok(baseline && xception);
    assert.equal(baseline.runs, 2);
    const p = baseline.points[0]!;
    assert.deepEqual([p.kind, p.target, p.unreached], ['specificity', 0.8, 0]);
    assert.equal(p.sensitivity.mean, 0.25);
    near(p.sensitivity.std!, Math.SQRT1_2 / 2);
    assert.equal(p.specificity.mean, 0.875);
    near(p.specificity.std!, 0.25 * Math.SQRT1_2);
    near(p.threshold.mean!, 0.725);
    near(p.threshold.std!, 0.05 * Math.SQRT1_2);
    assert.deepEqual(xception.points[0]!.sensitivity, { n: 1, mean: 0, std: null });
    assert.deepEqual(meanStd([null, 2, 4, NaN]), { n: 2, mean: 3, std: Math.SQRT2 });
  });

  test('every model at a chosen threshold: mean ± std over runs of the counts and rates', () => {
    // At t = 0.4 on 'test'. Run 1 (worked test): TP 1, FP 2, TN 2, FN 1 → sens 1/2, spec 1/2, PPV 1/3.
    // Run 2 (the worked val as its test): benign 0.7 > 0.4 → FP 1, TN 3; malignant 0.9 → TP 1, FN 1 → sens 1/2,
    // spec 3/4, PPV 1/2. A run without test predictions is left out.
    const runs = [
      { runId: 1, model: 'baseline', runIndex: 0, splits: { val, test: testSplit } },
      { runId: 2, model: 'baseline', runIndex: 1, splits: { val: testSplit, test: val } },
      { runId: 3, model: 'baseline', runIndex: 2, splits: { val } },
    ];
    const m = first(modelsAtThreshold(runs, 'test', 0.4));
    assert.equal(m.runs, 2);
    assert.deepEqual(m.confusion.tp, { n: 2, mean: 1, std: 0 });
    assert.equal(m.confusion.fp.mean, 1.5);
    near(m.confusion.fp.std, Math.SQRT1_2);
    assert.deepEqual(m.sensitivity, { n: 2, mean: 0.5, std: 0 });
    assert.equal(m.specificity.mean, 0.625);
    near(m.specificity.std, 0.25 * Math.SQRT1_2);
    near(m.ppv.mean, 5 / 12);

    const report = operatingPointsReport(runs);
    assert.deepEqual(
      report.runs.map((r) => r.runId),
      [1, 2],
      'run 3 has no test predictions',
    );
    assert.deepEqual(report.runs[0]!.points, operatingPoints(val, testSplit));
    assert.equal(report.models[0]!.runs, 2);
    assert.equal(report.models[0]!.points[0]!.sensitivity.mean, 0.25);
    assert.match(report.rule, /p > t/);
  });

  test('the chosen threshold is the best one that reaches the target, by brute force over every candidate', () => {
    const rng = seedrandom('operating points');
    for (let round = 0; round < 200; round++) {
      const n = 3 + Math.floor(rng() * 30);
      // Coarse probabilities, so that ties within and across classes are common.
      const s = { labels: Array.from({ length: n }, () => (rng() < 0.4 ? 1 : 0)), probabilities: Array.from({ length: n }, () => Math.round(rng() * 10) / 10) };
      const benign = s.probabilities.filter((_, i) => s.labels[i] === 0);
      const malignant = s.probabilities.filter((_, i) => s.labels[i] === 1);
      const t: { kind: 'specificity' | 'sensitivity'; target: number } = {
        kind: rng() < 0.5 ? 'specificity' : 'sensitivity',
        target: [0.5, 0.8, 0.9, 0.95, 1][Math.floor(rng() * 5)]!,
      };
      const choice = chooseThreshold(s, t);
      if ((t.kind === 'specificity' ? benign : malignant).length === 0) {
        assert.equal(choice.threshold, null);
        continue;
      }
      // Candidates: every probability and a point just below each; the decisions only change there.
      const candidates = [...new Set(s.probabilities.flatMap((p) => [p, p - 1e-6]))];
      const rate = (th: number) => {
        const r = ratesOf(confusionAt(s, th));
        return t.kind === 'specificity' ? r.specificity! : r.sensitivity!;
      };
      const reaching = candidates.filter((th) => rate(th) >= t.target - 1e-9);
      const best = t.kind === 'specificity' ? Math.min(...reaching) : Math.max(...reaching);
      assert.deepEqual(confusionAt(s, choice.threshold!), confusionAt(s, best), `round ${round}: ${JSON.stringify({ s, t })}`);
      if (t.kind === 'specificity') assert.equal(choice.threshold, best);
    }
  });
});
