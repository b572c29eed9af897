import type { Curve } from '../run.ts';
import { aboveAllThreshold, rankCounts, type RankCounts } from './ranking.ts';
import { emptyCurve, thinCurve } from './thin.ts';
import { checkBinaryInputs, checkMaxPoints } from './validate.ts';

export const DEFAULT_MAX_CURVE_POINTS = 200;

/**
 * Area under the ROC curve = Mann-Whitney U / (positives * negatives): the share of (positive, negative) pairs
 * ranked correctly, a tie counting 1/2. NaN when either class is absent (the ratio is 0/0; scikit-learn raises,
 * Keras' AUC metric returns 0).
 */
export function rocAuc(yTrue: ArrayLike<number>, yProb: ArrayLike<number>): number {
  checkBinaryInputs(yTrue, yProb);
  return rocAucFromCounts(rankCounts(yTrue, yProb));
}

export function rocAucFromCounts({ tps, fps, positives, negatives }: RankCounts): number {
  if (positives === 0 || negatives === 0) return NaN;
  // Trapezoids over the exact (unthinned) curve in count units; a trapezoid over a tie group gives the group's
  // negatives credit for the positives above it plus half of the tied positives, which is U.
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let i = 0; i < tps.length; i++) {
    area += ((fps[i]! - prevFp) * (prevTp + tps[i]!)) / 2;
    prevTp = tps[i]!;
    prevFp = fps[i]!;
  }
  return area / (positives * negatives);
}

/**
 * ROC curve as `sklearn.metrics.roc_curve(drop_intermediate=True)` (scikit-learn 1.2) returns it: x = false-positive
 * rate, y = true-positive rate, thresholds descending (predicted positive iff p >= threshold), starting at (0, 0)
 * with threshold max(p) + 1 and ending at (1, 1). Then thinned to `maxPoints`. Empty when either class is absent
 * (one of the rates is 0/0; scikit-learn returns NaNs).
 */
export function rocCurve(yTrue: ArrayLike<number>, yProb: ArrayLike<number>, maxPoints = DEFAULT_MAX_CURVE_POINTS): Curve {
  checkBinaryInputs(yTrue, yProb);
  checkMaxPoints(maxPoints);
  return rocCurveFromCounts(rankCounts(yTrue, yProb), maxPoints);
}

export function rocCurveFromCounts(counts: RankCounts, maxPoints: number): Curve {
  const { thresholds, tps, fps, positives, negatives } = counts;
  if (positives === 0 || negatives === 0) return emptyCurve();
  const curve: Curve = { x: [0], y: [0], thresholds: [aboveAllThreshold(counts)] };
  const last = tps.length - 1;
  for (let i = 0; i <= last; i++) {
    // scikit-learn's drop_intermediate: keep a point unless both second differences vanish there (it sits in the
    // middle of two equal steps, so the curve has no corner at it).
    const corner = i === 0 || i === last || fps[i - 1]! - 2 * fps[i]! + fps[i + 1]! !== 0 || tps[i - 1]! - 2 * tps[i]! + tps[i + 1]! !== 0;
    if (!corner) continue;
    curve.x.push(fps[i]! / negatives);
    curve.y.push(tps[i]! / positives);
    curve.thresholds.push(thresholds[i]!);
  }
  return thinCurve(curve, maxPoints);
}
