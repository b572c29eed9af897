/**
 * The significance tests the reproduction report uses, pure functions:
 * - Welch's two-sample t-test over repeated runs (stdlib's `ttest2`, unequal variances), for the difference of two
 *   models' mean test metrics;
 * - Crawford and Howell's (1998) test of a single run against a model's runs, where a protocol gives one run;
 * - DeLong's test for two correlated ROC AUCs (DeLong, DeLong & Clarke-Pearson 1988), for two classifiers scored on
 *   the same images: the AUC as a Mann-Whitney statistic, its variance and covariance from the placement values
 *   (the structural components V10 of the positives and V01 of the negatives), a z statistic on the difference.
 *   pROC's `roc.test(method = 'delong', paired = TRUE)` computes the same numbers.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import ttest2 from '@stdlib/stats-ttest2';

/** The middle value (the upper of the two middle ones for an even count), as the benchmarks report times. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('the median of no values');
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n - 1); NaN below two values. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

export interface Spread {
  n: number;
  mean: number;
  /** Sample std; NaN for a single value. */
  std: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { n: xs.length, mean: mean(xs), std: sampleStd(xs), min: xs.length ? Math.min(...xs) : NaN, max: xs.length ? Math.max(...xs) : NaN };
}

export interface TTestResult {
  /** mean(a) - mean(b). */
  diff: number;
  /** Confidence interval of the difference (level `confidence`). */
  ci: [number, number];
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
}

/**
 * Welch's t-test of mean(a) = mean(b), two-sided. Null when it is undefined: fewer than two values in a group, or
 * no variance in either group (the t statistic is then infinite or 0/0).
 */
export function welch(a: readonly number[], b: readonly number[], confidence = 0.95): TTestResult | null {
  if (a.length < 2 || b.length < 2) return null;
  if (sampleStd(a) === 0 && sampleStd(b) === 0) return null;
  const r = ttest2([...a], [...b], { alpha: 1 - confidence, variance: 'unequal' });
  return { diff: mean(a) - mean(b), ci: [r.ci[0]!, r.ci[1]!], t: r.statistic, df: r.df, p: r.pValue };
}

/**
 * Crawford and Howell's (1998) modified t-test of one value `x` against a small sample `a`, two-sided:
 * t = (mean(a) - x) / (s * sqrt((n + 1) / n)) on n - 1 degrees of freedom. It is Student's pooled two-sample t-test
 * with `x` as a group of one (stdlib's `ttest2` gives NaN for a group of one, so the statistic is written out here
 * and its distribution is stdlib's). The interval is for the difference between the mean of `a`'s population and
 * that of `x`'s, taking their variances as equal. Null below two values in `a` or with no variance in it.
 */
export function singleCase(a: readonly number[], x: number, confidence = 0.95): TTestResult | null {
  const s = sampleStd(a);
  if (a.length < 2 || !(s > 0)) return null;
  const df = a.length - 1;
  const diff = mean(a) - x;
  const se = s * Math.sqrt((a.length + 1) / a.length);
  const t = diff / se;
  const half = tQuantile(1 - (1 - confidence) / 2, df) * se;
  return { diff, ci: [diff - half, diff + half], t, df, p: 2 * tCdf(-Math.abs(t), df) };
}

export type MeansTest = 'Welch' | 'Crawford-Howell';

/**
 * mean(a) - mean(b) tested by Welch's t-test, or by Crawford and Howell's where one side is a single value (that
 * value against the other side's sample). Null where neither is defined.
 */
export function compareMeans(a: readonly number[], b: readonly number[], confidence = 0.95): { method: MeansTest; test: TTestResult | null } {
  if (b.length === 1 && a.length >= 2) return { method: 'Crawford-Howell', test: singleCase(a, b[0]!, confidence) };
  if (a.length === 1 && b.length >= 2) {
    const r = singleCase(b, a[0]!, confidence);
    return { method: 'Crawford-Howell', test: r && { diff: -r.diff, ci: [-r.ci[1], -r.ci[0]], t: -r.t, df: r.df, p: r.p } };
  }
  return { method: 'Welch', test: welch(a, b, confidence) };
}

/** Two-sided p-value of a standard normal z. */
export function normalTwoSidedP(z: number): number {
  return 2 * normalCdf(-Math.abs(z), 0, 1);
}

export interface RocAucPlacements {
  auc: number;
  /** V10: for each positive, the share of negatives it outranks (ties count half). */
  positives: number[];
  /** V01: for each negative, the share of positives that outrank it (ties count half). */
  negatives: number[];
}

/** Sorted copy for the placement counts. */
const sorted = (xs: readonly number[]) => Float64Array.from(xs).sort();

/** Number of values in the sorted array below x, and equal to x (two binary searches). */
function countBelowAndEqual(s: Float64Array, x: number): [number, number] {
  const bound = (strict: boolean) => {
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (strict ? s[mid]! < x : s[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const below = bound(true);
  return [below, bound(false) - below];
}

/**
 * The structural components of the ROC AUC of `scores` against `labels` (1 = positive; higher score = more
 * positive). Throws when a class is missing (the AUC is undefined).
 */
export function rocAucPlacements(labels: ArrayLike<number>, scores: ArrayLike<number>): RocAucPlacements {
  if (labels.length !== scores.length) throw new Error(`labels (${labels.length}) and scores (${scores.length}) differ in length`);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const score = scores[i]!;
    if (!Number.isFinite(score)) throw new Error(`score ${i} is not a finite number: ${score}`);
    (labels[i] === 1 ? pos : neg).push(score);
  }
  if (pos.length === 0 || neg.length === 0) throw new Error('the ROC AUC needs both classes');
  const sPos = sorted(pos);
  const sNeg = sorted(neg);
  const positives = pos.map((x) => {
    const [below, equal] = countBelowAndEqual(sNeg, x);
    return (below + equal / 2) / neg.length;
  });
  const negatives = neg.map((y) => {
    const [below, equal] = countBelowAndEqual(sPos, y);
    return (pos.length - below - equal + equal / 2) / pos.length;
  });
  return { auc: mean(positives), positives, negatives };
}

/** Sample covariance (n - 1) of two equally long series. */
function covariance(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (a.length - 1);
}

/** DeLong's variance of one ROC AUC: var(V10) / positives + var(V01) / negatives. */
export function delongVariance(p: RocAucPlacements): number {
  return covariance(p.positives, p.positives) / p.positives.length + covariance(p.negatives, p.negatives) / p.negatives.length;
}

export interface DelongResult {
  positives: number;
  negatives: number;
  aucA: number;
  aucB: number;
  /** aucA - aucB. */
  diff: number;
  varA: number;
  varB: number;
  covariance: number;
  /** Confidence interval of the difference (normal approximation, level `confidence`). */
  ci: [number, number];
  z: number;
  /** Two-sided p-value; 1 when the two classifiers rank every pair alike (zero variance of the difference). */
  p: number;
}

/**
 * DeLong's test of AUC(a) = AUC(b) for two classifiers scored on the same cases (`labels[i]` is case i's class for
 * both score arrays).
 */
export function delongTest(labels: ArrayLike<number>, scoresA: ArrayLike<number>, scoresB: ArrayLike<number>, confidence = 0.95): DelongResult {
  if (scoresA.length !== scoresB.length) throw new Error(`the two classifiers score different numbers of cases (${scoresA.length}, ${scoresB.length})`);
  const a = rocAucPlacements(labels, scoresA);
  const b = rocAucPlacements(labels, scoresB);
  const m = a.positives.length;
  const n = a.negatives.length;
  const varA = delongVariance(a);
  const varB = delongVariance(b);
  const cov = covariance(a.positives, b.positives) / m + covariance(a.negatives, b.negatives) / n;
  const diff = a.auc - b.auc;
  const varDiff = Math.max(0, varA + varB - 2 * cov);
  const se = Math.sqrt(varDiff);
  const z = se === 0 ? (diff === 0 ? 0 : Math.sign(diff) * Infinity) : diff / se;
  const half = normalQuantile(1 - (1 - confidence) / 2, 0, 1) * se;
  return { positives: m, negatives: n, aucA: a.auc, aucB: b.auc, diff, varA, varB, covariance: cov, ci: [diff - half, diff + half], z, p: normalTwoSidedP(z) };
}
