import type { ConfusionMatrix } from '../run.ts';
import { checkBinaryInputs, checkThreshold } from './validate.ts';

/**
 * Counts at a decision threshold. A sample is predicted positive iff p > threshold (strictly), as Keras'
 * BinaryAccuracy, Precision and Recall (and tfjs-layers' binaryAccuracy) decide: p = 0.5 is predicted benign.
 */
export function confusionAt(yTrue: ArrayLike<number>, yProb: ArrayLike<number>, threshold = 0.5): ConfusionMatrix {
  checkBinaryInputs(yTrue, yProb);
  checkThreshold(threshold);
  return confusionUnchecked(yTrue, yProb, threshold);
}

export function confusionUnchecked(yTrue: ArrayLike<number>, yProb: ArrayLike<number>, threshold: number): ConfusionMatrix {
  const c: ConfusionMatrix = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < yTrue.length; i++) {
    const predicted = yProb[i]! > threshold;
    if (yTrue[i] === 1) {
      if (predicted) c.tp++;
      else c.fn++;
    } else if (predicted) c.fp++;
    else c.tn++;
  }
  return c;
}

// The rates of a confusion matrix divide as Keras does (`div_no_nan`): 0 where the denominator is 0 (precision
// when nothing is predicted positive, recall without a positive); accuracy is NaN only for an empty matrix.

export const accuracy = ({ tp, fp, tn, fn }: ConfusionMatrix): number => (tp + tn) / (tp + fp + tn + fn);
export const precision = ({ tp, fp }: ConfusionMatrix): number => (tp + fp === 0 ? 0 : tp / (tp + fp));
export const recall = ({ tp, fn }: ConfusionMatrix): number => (tp + fn === 0 ? 0 : tp / (tp + fn));
/** The recall of the benign class: the share of benign lesions called benign. */
export const specificity = ({ tn, fp }: ConfusionMatrix): number => (tn + fp === 0 ? 0 : tn / (tn + fp));

/** Accuracy, precision and recall of a confusion matrix. */
export function rates(c: ConfusionMatrix): { accuracy: number; precision: number; recall: number } {
  return { accuracy: accuracy(c), precision: precision(c), recall: recall(c) };
}
