/**
 * A model that gives every image the same probability: its output no longer depends on the image (e.g. every
 * ReLU unit before the output is dead, and only the output bias is left). Its ROC AUC ranks only float noise (0.5 for an exact constant) and
 * it calls every image one class at 0.5.
 */

/** Probabilities further apart than this are different predictions, not float noise of one. */
export const CONSTANT_TOLERANCE = 1e-6;

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
  return `epoch ${epoch}: every val image gets p = ${p.toFixed(4)}, so the output no longer depends on the image (dead ReLU units leave only the output bias); early stopping ends the run unless it recovers`;
}
