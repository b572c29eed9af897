/**
 * A model that gives every image the same probability, to within CONSTANT_TOLERANCE: a collapsed model, whose output
 * hardly depends on the image (e.g. its ReLU units before the output are dead, and little besides the output bias is
 * left). Its ROC AUC ranks only differences below the tolerance (0.5 for an exact constant), and at 0.5 it calls every
 * image one class.
 */

/**
 * How far apart the probabilities of a collapsed model may lie: a working model's span most of [0, 1], a collapsed
 * one's differ in the sixth decimal or below (a few dead-but-one units' residue), far under this.
 */
export const CONSTANT_TOLERANCE = 1e-3;

/** The one probability every image gets, or null when they differ (or there are none). */
export function constantProbability(probabilities: ArrayLike<number>): number | null {
  if (probabilities.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p < min) min = p;
    if (p > max) max = p;
  }
  return max - min <= CONSTANT_TOLERANCE ? (min + max) / 2 : null;
}

/** The line a run logs for an epoch whose val images all get probability `p`. */
export function constantValMessage(epoch: number, p: number): string {
  return `epoch ${epoch}: every val image gets p = ${p.toFixed(4)}, to within 0.001, so the output hardly depends on the image (dead ReLU units leave little besides the output bias); early stopping ends the run unless it recovers`;
}
