/**
 * Input checks shared by every metric. Labels and probabilities come from the training loop, so a bad value is a
 * bug or a diverged model (NaN outputs), not a user mistake: a plain Error that names the index and the value.
 */

/** Throws unless both arrays have the same, non-zero length, labels are 0 or 1 and probabilities lie in [0, 1]. */
export function checkBinaryInputs(yTrue: ArrayLike<number>, yProb: ArrayLike<number>): void {
  if (yTrue.length !== yProb.length) {
    throw new Error(`yTrue has ${yTrue.length} values but yProb has ${yProb.length}`);
  }
  if (yTrue.length === 0) throw new Error('binary metrics need at least one sample (yTrue and yProb are empty)');
  for (let i = 0; i < yTrue.length; i++) {
    const y = yTrue[i];
    if (y !== 0 && y !== 1) throw new Error(`yTrue[${i}] = ${y} is not a label (0 or 1)`);
    const p = yProb[i];
    // Written so that NaN fails too.
    if (p === undefined || !(p >= 0 && p <= 1)) throw new Error(`yProb[${i}] = ${p} is not a probability in [0, 1]`);
  }
}

export function checkThreshold(threshold: number): void {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new Error(`threshold = ${threshold} is not a finite number`);
  }
}

export function checkMaxPoints(maxPoints: number): void {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new Error(`maxPoints = ${maxPoints} must be an integer >= 2 (a curve keeps both of its ends)`);
  }
}
