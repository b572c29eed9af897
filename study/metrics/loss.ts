import { checkBinaryInputs } from './validate.ts';

// Keras' epsilon (1e-7) and its clip bounds as the float32 tensors of Keras and tfjs-layers hold them:
// 1 - 1e-7 rounds to 1 - 2^-23 in float32, so a wrong p = 1 costs 23 ln 2 = 15.94, a wrong p = 0 costs 16.12.
const LOW = Math.fround(1e-7);
const HIGH = Math.fround(1 - LOW);

/**
 * Mean binary cross-entropy of probabilities, as Keras' `binary_crossentropy` (and tfjs-layers') computes it:
 * p clipped to [1e-7, 1 - 1e-7], then -(y ln p + (1 - y) ln(1 - p)), averaged. Computed in float64.
 */
export function binaryCrossEntropy(yTrue: ArrayLike<number>, yProb: ArrayLike<number>): number {
  checkBinaryInputs(yTrue, yProb);
  return binaryCrossEntropyUnchecked(yTrue, yProb);
}

export function binaryCrossEntropyUnchecked(yTrue: ArrayLike<number>, yProb: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(HIGH, Math.max(LOW, yProb[i]!));
    sum -= yTrue[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / yTrue.length;
}
