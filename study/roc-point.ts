/**
 * A point of the exact ROC curve of one split's predictions: the true-positive rate at a given false-positive rate,
 * linear between the curve's vertices (one vertex per distinct probability, positive iff p >= threshold).
 */
export function tprAtFpr(labels: ArrayLike<number>, probabilities: ArrayLike<number>, fpr: number): number {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => probabilities[b]! - probabilities[a]!);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let prev: [number, number] = [0, 0];
  for (let k = 0; k < order.length; ) {
    const p = probabilities[order[k]!];
    while (k < order.length && probabilities[order[k]!] === p) {
      if (labels[order[k]!] === 1) tp++;
      else fp++;
      k++;
    }
    const point: [number, number] = [fp / negatives, tp / positives];
    // prev[0] <= fpr < point[0]: a vertical stretch at exactly fpr ends at its highest vertex.
    if (point[0] > fpr) return prev[1] + ((fpr - prev[0]) / (point[0] - prev[0])) * (point[1] - prev[1]);
    prev = point;
  }
  return prev[1];
}
