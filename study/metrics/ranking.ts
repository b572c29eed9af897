/**
 * The one sort behind the AUCs and curves: scikit-learn's `_binary_clf_curve`. Distinct scores in descending
 * order, and for each the number of positives and negatives scoring at or above it.
 */

export interface RankCounts {
  /** Distinct probabilities, descending. */
  thresholds: Float64Array;
  /** tps[i]: positives with p >= thresholds[i] (cumulative, non-decreasing). */
  tps: Float64Array;
  /** fps[i]: negatives with p >= thresholds[i]. */
  fps: Float64Array;
  positives: number;
  negatives: number;
}

/** O(n log n). Inputs must already have passed `checkBinaryInputs`. */
export function rankCounts(yTrue: ArrayLike<number>, yProb: ArrayLike<number>): RankCounts {
  const n = yTrue.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => yProb[b]! - yProb[a]!);

  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (yTrue[i] === 1) tp++;
    else fp++;
    // Close a group at the last sample of each run of tied scores.
    const score = yProb[i]!;
    if (k === n - 1 || yProb[order[k + 1]!] !== score) {
      thresholds.push(score);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return {
    thresholds: Float64Array.from(thresholds),
    tps: Float64Array.from(tps),
    fps: Float64Array.from(fps),
    positives: tp,
    negatives: fp,
  };
}

/**
 * The threshold of a curve point where nothing is predicted positive: the highest score + 1, as scikit-learn
 * 1.2 writes it (1.3+ writes Infinity, which JSON cannot hold).
 */
export function aboveAllThreshold(counts: RankCounts): number {
  return counts.thresholds[0]! + 1;
}
