import type { Curve } from '../run.ts';

/**
 * Keeps at most `maxPoints` points of a curve, evenly spaced by index, always including the first and the last.
 * A subset of a monotonic curve stays monotonic. Each point of a ROC curve moves one sample's step (1/P up or
 * 1/N right), so even spacing by index is close to even spacing along the curve.
 */
export function thinCurve(curve: Curve, maxPoints: number): Curve {
  const n = curve.x.length;
  if (n <= maxPoints) return curve;
  const x: number[] = [];
  const y: number[] = [];
  const thresholds: number[] = [];
  // Steps of (n-1)/(maxPoints-1) > 1, so the rounded indices are strictly increasing and end at n-1.
  for (let k = 0; k < maxPoints; k++) {
    const i = Math.round((k * (n - 1)) / (maxPoints - 1));
    x.push(curve.x[i]!);
    y.push(curve.y[i]!);
    thresholds.push(curve.thresholds[i]!);
  }
  return { x, y, thresholds };
}

/** The curve of a split that lacks a class the curve divides by. */
export function emptyCurve(): Curve {
  return { x: [], y: [], thresholds: [] };
}
