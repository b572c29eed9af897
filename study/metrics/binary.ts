/**
 * The study's binary metrics over a whole split, in plain TypeScript: the training loop collects every predicted
 * probability (of malignant) and label of a split and calls `evaluateBinary` once per split per epoch.
 *
 * Thresholded metrics follow Keras (predicted positive iff p > 0.5); ranking metrics follow scikit-learn
 * (roc_auc_score, average_precision_score, roc_curve, precision_recall_curve), computed exactly from one sort —
 * never from the thinned curves that are kept for storage. The metrics are those of study/metrics/definitions.ts.
 */
import type { ConfusionMatrix, Curve } from '../run.ts';
import { confusionUnchecked } from './confusion.ts';
import { METRICS, type Metrics } from './definitions.ts';
import { prCurveFromCounts } from './precision-recall.ts';
import { rankCounts } from './ranking.ts';
import { DEFAULT_MAX_CURVE_POINTS, rocCurveFromCounts } from './roc.ts';
import { checkBinaryInputs, checkMaxPoints, checkThreshold } from './validate.ts';

export { binaryCrossEntropy } from './loss.ts';
export { accuracy, confusionAt, precision, rates, recall } from './confusion.ts';
export { METRICS, METRIC_NAMES, isMetricName, metricDefinition, type MetricDefinition, type MetricName, type Metrics } from './definitions.ts';
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
 * Every metric, the confusion matrix at `threshold` (default 0.5) and both curves (at most `maxCurvePoints` points
 * each, default 200). roc_auc is NaN when the split lacks a class, pr_auc when it has no positive; the matching
 * curves are then empty.
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

  const scored = { yTrue, yProb, confusion: confusionUnchecked(yTrue, yProb, threshold), ranks: rankCounts(yTrue, yProb) };
  return {
    metrics: Object.fromEntries(METRICS.map((m) => [m.name, m.compute(scored)])) as Metrics,
    confusion: scored.confusion,
    roc: rocCurveFromCounts(scored.ranks, maxPoints),
    pr: prCurveFromCounts(scored.ranks, maxPoints),
  };
}
