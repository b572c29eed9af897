import type { ConfusionMatrix } from '../../study/run.ts';
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

/**
 * Accuracy, precision and recall of a confusion matrix. Like Keras (`div_no_nan`): precision is 0 when nothing is
 * predicted positive, recall is 0 when there is no positive; accuracy is NaN only for an empty matrix.
 */
export function rates({ tp, fp, tn, fn }: ConfusionMatrix): { accuracy: number; precision: number; recall: number } {
  return {
    accuracy: (tp + tn) / (tp + fp + tn + fn),
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
  };
}
