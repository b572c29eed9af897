/**
 * Whether a predicted probability of melanoma means what it says ("of the lesions called 0.7, are 70% melanomas?"),
 * per run and per model ensemble, on val and test; and temperature scaling, fitted on val, applied to test.
 *
 * - Brier score: the mean of (p − y)² over the split's images (y = 1 for melanoma); 0 is perfect.
 * - Expected calibration error (ECE): the images are put in 10 equal-width bins of their probability of melanoma,
 *   [0, 0.1), [0.1, 0.2), …, [0.9, 1.0] (the last one closed), and ECE = Σ_b (n_b / n) · |ȳ_b − p̄_b|: the
 *   bins' gap between the fraction of melanomas and the mean probability, weighted by the bin's share of images.
 *   This is Guo et al. (2017, "On Calibration of Modern Neural Networks", eq. 3) applied to the probability of
 *   the positive class instead of the top-label confidence max(p, 1 − p): the binary form of Naeini et al. (2015),
 *   the same bins as scikit-learn's calibration_curve(n_bins=10) and the reliability diagram the pages draw. The
 *   top-label form would put every image in the upper five bins and hide on which side of 0.5 a gap lies.
 * - Temperature scaling (Guo et al. 2017, §4.2): p' = σ(z / T) with z = logit(p). T > 0 minimises the negative
 *   log-likelihood (binary cross-entropy) of the val split; the same T is then applied to test. The stored
 *   probabilities are float32 sigmoids, so z is recovered as ln(p / (1 − p)) with p clipped to [1e-7, 1 − 1e-7]
 *   (Keras' epsilon, as the stored loss); T leaves the ranking, and so the ROC AUC, unchanged.
 */
import { at } from '../common/indexing.ts';
import { meanStd, type MeanStd, type Scored } from './operating-points.ts';

export const CALIBRATION_BIN_COUNT = 10;
export const CALIBRATION_DEFINITION =
  'Brier = mean (p − y)²; ECE = Σ over 10 equal-width bins of p ([0, 0.1), …, [0.9, 1.0]) of (n_b / n)·|fraction of ' +
  'melanomas − mean p| (Guo et al. 2017 on the probability of melanoma); temperature T fitted on val by minimising ' +
  'the negative log-likelihood of σ(logit(p) / T), then applied to test.';

/** Keras' epsilon: the clip of p before its logit is taken. */
const EPSILON = 1e-7;
/** The temperatures searched: T outside is reported at the bound (a split a model separates almost perfectly). */
export const TEMPERATURE_RANGE: readonly [number, number] = [1e-3, 1e3];

export interface ReliabilityBin {
  lower: number;
  upper: number;
  n: number;
  /** Null for an empty bin. */
  meanProbability: number | null;
  /** The fraction of melanomas in the bin; null for an empty bin. */
  observedFraction: number | null;
}

export interface CalibrationStats {
  n: number;
  brier: number;
  ece: number;
  bins: ReliabilityBin[];
}

function check(s: Scored): void {
  if (s.labels.length !== s.probabilities.length)
    throw new RangeError(`${s.labels.length} labels but ${s.probabilities.length} probabilities: they must pair up`);
  for (let i = 0; i < s.labels.length; i++) {
    const p = s.probabilities[i]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} (image ${i}) is not in [0, 1]`);
    if (s.labels[i] !== 0 && s.labels[i] !== 1) throw new RangeError(`label ${s.labels[i]} (image ${i}) is neither 0 nor 1`);
  }
}

/** The bin of p: [k/10, (k+1)/10), and 1.0 in the last. */
export function binOf(p: number, bins = CALIBRATION_BIN_COUNT): number {
  return Math.min(Math.floor(p * bins), bins - 1);
}

/** Brier score, ECE and the reliability diagram's bins of one split. Throws on an empty split. */
export function calibrationStats(s: Scored, bins = CALIBRATION_BIN_COUNT): CalibrationStats {
  check(s);
  const n = s.labels.length;
  if (n === 0) throw new RangeError('no images: calibration needs at least one prediction');
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const p = s.probabilities[i]!;
    const y = s.labels[i]!;
    squares += (p - y) ** 2;
    const b = binOf(p, bins);
    count[b]!++;
    sumP[b]! += p;
    sumY[b]! += y;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) ece += Math.abs(sumY[b]! - sumP[b]!) / n; // (n_b / n)·|ȳ_b − p̄_b|
  return {
    n,
    brier: squares / n,
    ece,
    bins: count.map((c, b) => ({
      lower: b / bins,
      upper: (b + 1) / bins,
      n: c,
      meanProbability: c ? sumP[b]! / c : null,
      observedFraction: c ? sumY[b]! / c : null,
    })),
  };
}

/** ln(p / (1 − p)), p clipped to [1e-7, 1 − 1e-7]. */
export function logitOf(p: number): number {
  const q = Math.min(Math.max(p, EPSILON), 1 - EPSILON);
  return Math.log(q / (1 - q));
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** −ln σ(x), without overflow. */
const softplusNeg = (x: number) => Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** The mean negative log-likelihood of σ(z / T) against the labels. */
export function temperatureNll(logits: readonly number[], labels: ArrayLike<number>, temperature: number): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]! / temperature;
    sum += labels[i] === 1 ? softplusNeg(x) : softplusNeg(-x);
  }
  return sum / logits.length;
}

/**
 * The temperature that minimises the val NLL, or null when val lacks a class (any T would do as well as a smaller
 * one). The NLL is convex in a = 1/T, so the zero of its derivative Σ (σ(a·z) − y)·z is found by Newton's method,
 * kept inside a bracket that bisection shrinks; within TEMPERATURE_RANGE.
 */
export function fitTemperature(val: Scored): number | null {
  check(val);
  let positives = 0;
  for (let i = 0; i < val.labels.length; i++) positives += val.labels[i]!;
  if (positives === 0 || positives === val.labels.length) return null;
  const z = Array.from(val.probabilities, logitOf);
  const slope = (a: number) => {
    let g = 0;
    let h = 0;
    for (let i = 0; i < z.length; i++) {
      const s = sigmoid(a * z[i]!);
      g += (s - val.labels[i]!) * z[i]!;
      h += s * (1 - s) * z[i]! * z[i]!;
    }
    return { g, h };
  };
  let lo = 1 / TEMPERATURE_RANGE[1];
  let hi = 1 / TEMPERATURE_RANGE[0];
  if (slope(lo).g >= 0) return TEMPERATURE_RANGE[1];
  if (slope(hi).g <= 0) return TEMPERATURE_RANGE[0];
  let a = 1;
  for (let step = 0; step < 200; step++) {
    const { g, h } = slope(a);
    if (g > 0) hi = a;
    else lo = a;
    const newton = h > 0 ? a - g / h : Number.NaN;
    const next = newton > lo && newton < hi ? newton : (lo + hi) / 2;
    if (Math.abs(next - a) <= 1e-12 * a) return 1 / next;
    a = next;
  }
  return 1 / a;
}

/** σ(logit(p) / T) for every p. */
export function applyTemperature(probabilities: ArrayLike<number>, temperature: number): number[] {
  return Array.from(probabilities, (p) => sigmoid(logitOf(p) / temperature));
}

/** One split before and after temperature scaling (after is null without a temperature). */
export interface SplitCalibration {
  before: CalibrationStats;
  after: CalibrationStats | null;
}

/** A run's (or an ensemble's) calibration: T fitted on val; val and test before and after scaling by it. */
export interface Calibration {
  temperature: number | null;
  val: SplitCalibration;
  test: SplitCalibration;
}

export function calibrate(val: Scored, test: Scored): Calibration {
  const temperature = fitTemperature(val);
  const split = (s: Scored): SplitCalibration => ({
    before: calibrationStats(s),
    after: temperature === null ? null : calibrationStats({ labels: s.labels, probabilities: applyTemperature(s.probabilities, temperature) }),
  });
  return { temperature, val: split(val), test: split(test) };
}

/** One split's predictions with the image each is of (paths, ascending), to pair the runs of an ensemble. */
export interface ImagePredictions extends Scored {
  images: readonly string[];
}

/** A completed run's val and test predictions (either may be missing). */
export interface CalibrationRun {
  runId: number;
  model: string;
  runIndex: number;
  val?: ImagePredictions;
  test?: ImagePredictions;
}

/** Mean ± sample std over runs of a split's numbers before and after scaling. */
export interface SplitSummary {
  brier: MeanStd;
  ece: MeanStd;
  brierScaled: MeanStd;
  eceScaled: MeanStd;
}

export interface ModelCalibration {
  model: string;
  /** Runs with val and test predictions. */
  runs: number;
  temperature: MeanStd;
  val: SplitSummary;
  test: SplitSummary;
  /** The ensemble (each image's probability averaged over the runs), calibrated as one classifier. */
  ensemble: (Calibration & { runs: number; images: { val: number; test: number } }) | null;
}

export interface CalibrationReport {
  definition: string;
  bins: number;
  runs: ({ runId: number; model: string; runIndex: number } & Calibration)[];
  models: ModelCalibration[];
}

/** Each image's probability averaged over the runs, for the images every run has. */
export function ensembleOf(splits: readonly ImagePredictions[]): ImagePredictions {
  const sums = new Map<string, { label: number; sum: number; count: number }>();
  for (const s of splits) {
    s.images.forEach((image, i) => {
      const e = sums.get(image) ?? { label: at(s.labels, i, 'label'), sum: 0, count: 0 };
      e.sum += at(s.probabilities, i, 'probability');
      e.count++;
      sums.set(image, e);
    });
  }
  const images = [...sums.keys()].filter((k) => sums.get(k)!.count === splits.length).sort();
  return { images, labels: images.map((k) => sums.get(k)!.label), probabilities: images.map((k) => sums.get(k)!.sum / splits.length) };
}

function summarize(list: Calibration[], split: 'val' | 'test'): SplitSummary {
  return {
    brier: meanStd(list.map((c) => c[split].before.brier)),
    ece: meanStd(list.map((c) => c[split].before.ece)),
    brierScaled: meanStd(list.map((c) => c[split].after?.brier ?? null)),
    eceScaled: meanStd(list.map((c) => c[split].after?.ece ?? null)),
  };
}

/** Every run with val and test predictions, and per model (in the order the runs come) their summary and ensemble. */
export function calibrationReport(runs: readonly CalibrationRun[]): CalibrationReport {
  const scored = runs.flatMap((r) => (r.val?.images.length && r.test?.images.length ? [{ run: r, calibration: calibrate(r.val, r.test) }] : []));
  const models = [...new Set(scored.map((s) => s.run.model))].map((model): ModelCalibration => {
    const mine = scored.filter((s) => s.run.model === model);
    const list = mine.map((s) => s.calibration);
    const val = ensembleOf(mine.map((s) => s.run.val!));
    const test = ensembleOf(mine.map((s) => s.run.test!));
    return {
      model,
      runs: mine.length,
      temperature: meanStd(list.map((c) => c.temperature)),
      val: summarize(list, 'val'),
      test: summarize(list, 'test'),
      ensemble:
        val.images.length && test.images.length
          ? { runs: mine.length, images: { val: val.images.length, test: test.images.length }, ...calibrate(val, test) }
          : null,
    };
  });
  return {
    definition: CALIBRATION_DEFINITION,
    bins: CALIBRATION_BIN_COUNT,
    runs: scored.map((s) => ({ runId: s.run.runId, model: s.run.model, runIndex: s.run.runIndex, ...s.calibration })),
    models,
  };
}
