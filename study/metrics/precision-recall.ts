import type { Curve } from '../run.ts';
import { aboveAllThreshold, rankCounts, type RankCounts } from './ranking.ts';
import { DEFAULT_MAX_CURVE_POINTS } from './roc.ts';
import { emptyCurve, thinCurve } from './thin.ts';
import { checkBinaryInputs, checkMaxPoints } from './validate.ts';

/**
 * Area under the precision-recall curve as `sklearn.metrics.average_precision_score` computes it:
 * AP = sum over distinct thresholds (descending) of (R_k - R_{k-1}) * P_k, with R_0 = 0 — a step function, no
 * interpolation (Keras' AUC(curve='PR') interpolates, and gives a slightly different number). NaN without positives
 * (recall is 0/0; scikit-learn 1.2 sets recall to 1 there and returns -0).
 */
export function averagePrecision(yTrue: ArrayLike<number>, yProb: ArrayLike<number>): number {
  checkBinaryInputs(yTrue, yProb);
  return averagePrecisionFromCounts(rankCounts(yTrue, yProb));
}

export function averagePrecisionFromCounts({ tps, fps, positives }: RankCounts): number {
  if (positives === 0) return NaN;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < tps.length; i++) {
    const recall = tps[i]! / positives;
    ap += (recall - prevRecall) * (tps[i]! / (tps[i]! + fps[i]!));
    prevRecall = recall;
  }
  return ap;
}

/**
 * Precision-recall curve as `sklearn.metrics.precision_recall_curve` returns it: x = recall, y = precision, one
 * point per distinct probability in ascending threshold order (predicted positive iff p >= threshold), so recall
 * falls from 1, then the final point (recall 0, precision 1), whose threshold here is max(p) + 1 (scikit-learn gives
 * that point no threshold). Then thinned to `maxPoints`. Empty without positives (recall is 0/0).
 */
export function prCurve(yTrue: ArrayLike<number>, yProb: ArrayLike<number>, maxPoints = DEFAULT_MAX_CURVE_POINTS): Curve {
  checkBinaryInputs(yTrue, yProb);
  checkMaxPoints(maxPoints);
  return prCurveFromCounts(rankCounts(yTrue, yProb), maxPoints);
}

export function prCurveFromCounts(counts: RankCounts, maxPoints: number): Curve {
  const { thresholds, tps, fps, positives } = counts;
  if (positives === 0) return emptyCurve();
  const curve: Curve = { x: [], y: [], thresholds: [] };
  for (let i = tps.length - 1; i >= 0; i--) {
    curve.x.push(tps[i]! / positives);
    curve.y.push(tps[i]! / (tps[i]! + fps[i]!));
    curve.thresholds.push(thresholds[i]!);
  }
  curve.x.push(0);
  curve.y.push(1);
  curve.thresholds.push(aboveAllThreshold(counts));
  return thinCurve(curve, maxPoints);
}
