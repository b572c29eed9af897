/**
 * The article's AUPRC: Keras' `AUC(curve='PR')` with its defaults (200 thresholds, summation_method
 * 'interpolation'), as Keras computes it from confusion counts at fixed thresholds. Beside scikit-learn's average
 * precision (the project's `pr_auc`), which is a step sum over every distinct probability, it gives a slightly
 * different number.
 *
 * Keras' algorithm: thresholds 0 - 1e-7, i / (n - 1) for i = 1 .. n - 2, 1 + 1e-7; at each threshold the counts of
 * predictions above it (TP, FP) and of positives not above it (FN); between successive thresholds A (lower) and B,
 * precision is integrated over recall with TP and P = TP + FP varying linearly (Davis & Goadrich 2006, section 4,
 * in Keras' closed form `interpolate_pr_auc`):
 *   slope = (TP_A - TP_B) / (P_A - P_B), intercept = TP_B - slope * P_B,
 *   area += slope * (TP_A - TP_B + intercept * ln(P_A / P_B)) / (TP_B + FN_B),
 * with 0 for a 0/0 and ln(...) = 0 where P_A or P_B is 0.
 */

/** Keras' `backend.epsilon()`, added beyond both ends so that probabilities 0 and 1 fall inside. */
const KERAS_EPSILON = 1e-7;

export const KERAS_NUM_THRESHOLDS = 200;

/** Keras' default thresholds of `AUC(num_thresholds)`. */
export function kerasThresholds(numThresholds = KERAS_NUM_THRESHOLDS): number[] {
  if (!Number.isInteger(numThresholds) || numThresholds < 2) throw new Error(`num_thresholds must be an integer > 1, got ${numThresholds}`);
  const inner = Array.from({ length: numThresholds - 2 }, (_, i) => (i + 1) / (numThresholds - 1));
  return [-KERAS_EPSILON, ...inner, 1 + KERAS_EPSILON];
}

export interface ThresholdCounts {
  thresholds: number[];
  tp: number[];
  fp: number[];
  fn: number[];
}

/** TP, FP and FN at each threshold: predicted positive iff probability > threshold (Keras' rule). */
export function countsAtThresholds(labels: ArrayLike<number>, probabilities: ArrayLike<number>, thresholds: number[]): ThresholdCounts {
  if (labels.length !== probabilities.length) throw new Error(`labels (${labels.length}) and probabilities (${probabilities.length}) differ in length`);
  const tp = thresholds.map(() => 0);
  const fp = thresholds.map(() => 0);
  const fn = thresholds.map(() => 0);
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    if (!(p >= 0 && p <= 1)) throw new Error(`probability ${i} is not in [0, 1]: ${p}`);
    const positive = labels[i] === 1;
    for (let t = 0; t < thresholds.length; t++) {
      if (p > thresholds[t]!) {
        if (positive) tp[t]!++;
        else fp[t]!++;
      } else if (positive) fn[t]!++;
    }
  }
  return { thresholds, tp, fp, fn };
}

const divideNoNan = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Keras' `interpolate_pr_auc` over confusion counts at ascending thresholds. */
export function interpolatePrAuc({ tp, fp, fn }: ThresholdCounts): number {
  let area = 0;
  for (let i = 0; i + 1 < tp.length; i++) {
    const dtp = tp[i]! - tp[i + 1]!;
    const pA = tp[i]! + fp[i]!;
    const pB = tp[i + 1]! + fp[i + 1]!;
    const slope = divideNoNan(dtp, Math.max(pA - pB, 0));
    const intercept = tp[i + 1]! - slope * pB;
    const ratio = pA > 0 && pB > 0 ? divideNoNan(pA, pB) : 1;
    area += divideNoNan(slope * (dtp + intercept * Math.log(ratio)), Math.max(tp[i + 1]! + fn[i + 1]!, 0));
  }
  return area;
}

/**
 * Keras' `AUC(curve='PR', num_thresholds)` of one split's predictions. NaN without a positive (Keras returns 0
 * there; the project's metrics mark an undefined PR AUC as NaN).
 */
export function kerasPrAuc(labels: ArrayLike<number>, probabilities: ArrayLike<number>, numThresholds = KERAS_NUM_THRESHOLDS): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  if (positives === 0) return NaN;
  return interpolatePrAuc(countsAtThresholds(labels, probabilities, kerasThresholds(numThresholds)));
}
