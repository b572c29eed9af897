/**
 * The significance tests against published worked examples:
 * - Welch: R's `t.test(extra ~ group, data = sleep)` (the example of R's t.test documentation), which prints
 *   "t = -1.8608, df = 17.776, p-value = 0.07939 ... 95 percent confidence interval: -3.3654832 0.2054832".
 * - DeLong: pROC's tests (tests/testthat/test-roc.test.R and test-var.R) on its aSAH data set:
 *   roc.test(r.wfns, r.s100b): Z = 2.20898359144091, p = 0.0271757822291882, 95% CI 0.0104061769564846 to
 *   0.174214419249478 (pROC's documentation prints it as "Z = -2.209, p-value = 0.02718" for s100b vs wfns);
 *   roc.test(r.wfns, r.ndka): Z = 2.79777591868904, p = 0.00514557970691098, CI 0.0634011709339876 to
 *   0.3600405634833566; roc.test(r.ndka, r.s100b): Z = -1.39077002573558, p = 0.164295175223054;
 *   var(r.wfns) = 0.00146991470882363, var(r.ndka) = 0.0031908105493913, var(r.s100b) = 0.00266868245717244.
 * - Crawford and Howell's single-case test: singcar's README (its `TD()` on the size-weight illusion data), which
 *   prints "controls (M = 0.16, SD = 0.08, N = 28) t = -1.7243, df = 27, p-value = 0.04804" (one-sided) with the
 *   standardised case score Z-CC = -1.754857, the case's distance from the controls' mean in their sds.
 * And small cases computed by hand.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareMeans, delongTest, delongVariance, mean, median, rocAucPlacements, sampleStd, singleCase, spread, welch } from '../../study/statistics.ts';
import { NDKA, OUTCOME, S100B, WFNS } from './fixtures/asah.ts';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

describe('Welch t-test', () => {
  const group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
  const group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

  test("gives R's t.test(extra ~ group, data = sleep)", () => {
    const r = welch(group1, group2)!;
    close(r.t, -1.8608, 5e-5, 't');
    close(r.df, 17.776, 5e-4, 'df');
    close(r.p, 0.07939, 5e-6, 'p');
    close(r.ci[0], -3.3654832, 5e-8, 'ci low');
    close(r.ci[1], 0.2054832, 5e-8, 'ci high');
    close(r.diff, 0.75 - 2.33, 1e-12, 'difference of means');
  });

  test('swapping the groups negates t and the interval', () => {
    const r = welch(group2, group1)!;
    close(r.t, 1.8608, 5e-5, 't');
    close(r.ci[0], -0.2054832, 5e-8, 'ci low');
  });

  test('is undefined for a single run or no variance', () => {
    assert.equal(welch([0.8], [0.7, 0.75]), null);
    assert.equal(welch([0.8, 0.8], [0.7, 0.7]), null);
  });

  test('mean and sample std by hand', () => {
    assert.equal(mean([1, 2, 3, 6]), 3);
    close(sampleStd([1, 2, 3, 6]), Math.sqrt(14 / 3), 1e-15, 'std');
    assert.deepEqual(spread([2, 4]), { n: 2, mean: 3, std: Math.SQRT2, min: 2, max: 4 });
    assert.ok(Number.isNaN(sampleStd([5])));
  });
});

describe("Crawford and Howell's single-case test", () => {
  // 28 controls with mean 0.16 and sample sd 0.08, and a case Z-CC = -1.754857 of their sds below the mean.
  const d = 0.08 * Math.sqrt(27 / 28);
  const controls = Array.from({ length: 28 }, (_, i) => 0.16 + (i % 2 === 0 ? d : -d));
  const x = 0.16 - 1.754857 * 0.08;

  test("gives singcar's TD() example: t = -1.7243, df = 27, one-sided p = 0.04804", () => {
    close(sampleStd(controls), 0.08, 1e-15, 'controls sd');
    const r = singleCase(controls, x)!;
    close(r.t, 1.7243, 5e-5, 't (mean minus case)');
    assert.equal(r.df, 27);
    close(r.p / 2, 0.04804, 5e-6, 'one-sided p');
    close(r.diff, 1.754857 * 0.08, 1e-12, 'difference');
  });

  test('is the pooled two-sample t with the case as a group of one; its interval holds 0 exactly when p >= 0.05', () => {
    const a = [0.91, 0.9, 0.92, 0.905, 0.915];
    const r = singleCase(a, 0.89)!;
    const pooledSe = sampleStd(a) * Math.sqrt(1 / a.length + 1);
    close(r.t, (mean(a) - 0.89) / pooledSe, 1e-12, 't');
    assert.equal(r.df, 4);
    assert.equal(r.ci[0] <= 0 && 0 <= r.ci[1], r.p >= 0.05);
    close((r.ci[0] + r.ci[1]) / 2, r.diff, 1e-12, 'interval centre');
    const far = singleCase(a, 0.8)!;
    assert.ok(far.p < 0.05 && far.ci[0] > 0, `p ${far.p}, interval ${far.ci}`);
  });

  test('compares two models: Welch for runs on both sides, Crawford-Howell with one run on either side (A − B kept)', () => {
    const runs = [0.91, 0.9, 0.92, 0.905, 0.915];
    assert.deepEqual(compareMeans(runs, [0.88, 0.89]), { method: 'Welch', test: welch(runs, [0.88, 0.89]) });
    const after = compareMeans(runs, [0.89]);
    assert.deepEqual(after, { method: 'Crawford-Howell', test: singleCase(runs, 0.89) });
    const before = compareMeans([0.89], runs);
    assert.equal(before.method, 'Crawford-Howell');
    close(before.test!.diff, -after.test!.diff, 1e-15, 'difference');
    close(before.test!.t, -after.test!.t, 1e-15, 't');
    assert.deepEqual(before.test!.ci, [-after.test!.ci[1], -after.test!.ci[0]]);
    assert.equal(before.test!.p, after.test!.p);
    assert.deepEqual(compareMeans([0.9], [0.8]), { method: 'Welch', test: null });
  });

  test('is undefined below two values or with no variance', () => {
    assert.equal(singleCase([0.9], 0.8), null);
    assert.equal(singleCase([0.9, 0.9], 0.8), null);
  });
});

describe('DeLong test', () => {
  test("gives pROC's roc.test(r.wfns, r.s100b)", () => {
    const r = delongTest(OUTCOME, WFNS, S100B);
    close(r.z, 2.20898359144091, 1e-9, 'Z');
    close(r.p, 0.0271757822291882, 1e-9, 'p');
    close(r.ci[0], 0.0104061769564846, 1e-9, 'ci low');
    close(r.ci[1], 0.174214419249478, 1e-9, 'ci high');
    assert.equal(r.positives, 41);
    assert.equal(r.negatives, 72);
  });

  test("gives pROC's roc.test(r.wfns, r.ndka) and roc.test(r.ndka, r.s100b)", () => {
    const a = delongTest(OUTCOME, WFNS, NDKA);
    close(a.z, 2.79777591868904, 1e-9, 'Z wfns-ndka');
    close(a.p, 0.00514557970691098, 1e-9, 'p wfns-ndka');
    close(a.ci[0], 0.0634011709339876, 1e-9, 'ci low wfns-ndka');
    close(a.ci[1], 0.3600405634833566, 1e-9, 'ci high wfns-ndka');
    const b = delongTest(OUTCOME, NDKA, S100B);
    close(b.z, -1.39077002573558, 1e-9, 'Z ndka-s100b');
    close(b.p, 0.164295175223054, 1e-9, 'p ndka-s100b');
  });

  test("gives pROC's DeLong variances var(r.wfns), var(r.ndka), var(r.s100b)", () => {
    close(delongVariance(rocAucPlacements(OUTCOME, WFNS)), 0.00146991470882363, 1e-12, 'var wfns');
    close(delongVariance(rocAucPlacements(OUTCOME, NDKA)), 0.0031908105493913, 1e-12, 'var ndka');
    close(delongVariance(rocAucPlacements(OUTCOME, S100B)), 0.00266868245717244, 1e-12, 'var s100b');
  });

  test('a classifier against itself: Z = 0, p = 1 (as pROC)', () => {
    const r = delongTest(OUTCOME, WFNS, WFNS);
    assert.equal(r.z, 0);
    assert.equal(r.p, 1);
  });

  test('placements by hand, with a tie', () => {
    // positives 0.9, 0.5; negatives 0.5, 0.1: 0.9 outranks both (1), 0.5 ties one and outranks one (0.75); the
    // negative 0.5 is outranked by 0.9 and tied by 0.5 (0.75), the negative 0.1 is outranked by both (1).
    const p = rocAucPlacements([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1]);
    assert.deepEqual(p.positives, [1, 0.75]);
    assert.deepEqual(p.negatives, [0.75, 1]);
    assert.equal(p.auc, 0.875);
  });

  test('rejects one class and mismatched lengths', () => {
    assert.throws(() => rocAucPlacements([1, 1], [0.2, 0.3]), /both classes/);
    assert.throws(() => delongTest([1, 0], [0.2, 0.3], [0.1]), /different numbers/);
  });
});

test('median: the middle value, the upper middle one for an even count, and an error for no values', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 3);
  assert.throws(() => median([]), /the median of no values/);
});
