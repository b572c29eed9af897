/**
 * The study's binary metrics over a whole split, in plain TypeScript: the training loop collects every predicted
 * probability (of malignant) and label of a split and calls `evaluateBinary` once per split per epoch.
 *
 * Thresholded metrics follow Keras (predicted positive iff p > 0.5); ranking metrics follow scikit-learn
 * (roc_auc_score, average_precision_score, roc_curve, precision_recall_curve), computed exactly from one sort —
 * never from the thinned curves that are kept for storage.
 */
import type { ConfusionMatrix, Curve, Metrics } from '../../study/run.ts';
import { confusionUnchecked, rates } from './confusion.ts';
import { binaryCrossEntropyUnchecked } from './loss.ts';
import { averagePrecisionFromCounts, prCurveFromCounts } from './precision-recall.ts';
import { rankCounts } from './ranking.ts';
import { DEFAULT_MAX_CURVE_POINTS, rocAucFromCounts, rocCurveFromCounts } from './roc.ts';
import { checkBinaryInputs, checkMaxPoints, checkThreshold } from './validate.ts';

export { binaryCrossEntropy } from './loss.ts';
export { confusionAt, rates } from './confusion.ts';
export { averagePrecision, prCurve } from './precision-recall.ts';
export { DEFAULT_MAX_CURVE_POINTS, rocAuc, rocCurve } from './roc.ts';
export { thinCurve } from './thin.ts';

export interface BinaryEvaluation {
  metrics: Metrics;
  confusion: ConfusionMatrix;
  roc: Curve;
  pr: Curve;
}

/**
 * All six metrics, the confusion matrix at `threshold` (default 0.5) and both curves (at most `maxCurvePoints`
 * points each, default 200). roc_auc is NaN when the split lacks a class, pr_auc when it has no positive; the
 * matching curves are then empty.
 */
export function evaluateBinary(
  yTrue: ArrayLike<number>,
  yProb: ArrayLike<number>,
  opts: { threshold?: number; maxCurvePoints?: number } = {},
): BinaryEvaluation {
  const threshold = opts.threshold ?? 0.5;
  const maxPoints = opts.maxCurvePoints ?? DEFAULT_MAX_CURVE_POINTS;
  checkBinaryInputs(yTrue, yProb);
  checkThreshold(threshold);
  checkMaxPoints(maxPoints);

  const confusion = confusionUnchecked(yTrue, yProb, threshold);
  const counts = rankCounts(yTrue, yProb);
  return {
    metrics: {
      loss: binaryCrossEntropyUnchecked(yTrue, yProb),
      ...rates(confusion),
      roc_auc: rocAucFromCounts(counts),
      pr_auc: averagePrecisionFromCounts(counts),
    },
    confusion,
    roc: rocCurveFromCounts(counts, maxPoints),
    pr: prCurveFromCounts(counts, maxPoints),
  };
}
