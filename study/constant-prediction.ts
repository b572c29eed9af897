/**
 * Models whose output hardly depends on the image. Early in training nearly every run of the small models is such a
 * model (its probabilities within 1e-4 of the class ratio, most Dense units dead) and most recover; a run that
 * collapsed never does, and its output is the output bias alone.
 */

/** An exact collapse: the probabilities differ by float noise only, so nothing but the output bias is left. */
export const COLLAPSE_TOLERANCE = 1e-6;

/**
 * A near-constant model: its probabilities lie within this of each other, while a trained model's span most of
 * [0, 1]. At 0.5 it calls every image one class, and its ROC AUC ranks only differences below this.
 */
export const NEAR_CONSTANT_TOLERANCE = 1e-3;

/** The one probability every image gets, to within `tolerance`, or null when they differ more (or there are none). */
export function constantProbability(probabilities: ArrayLike<number>, tolerance: number): number | null {
  if (probabilities.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p < min) min = p;
    if (p > max) max = p;
  }
  return max - min <= tolerance ? (min + max) / 2 : null;
}

/** The line a run logs for an epoch whose val images all get probability `p`. */
export function constantValMessage(epoch: number, p: number): string {
  return `epoch ${epoch}: every val image gets p = ${p.toFixed(4)}, so the output no longer depends on the image (dead ReLU units leave only the output bias); early stopping ends the run unless it recovers`;
}
