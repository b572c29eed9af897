/**
 * Operating points: a decision threshold on the predicted probability of melanoma, chosen on one split (val) to
 * reach a target specificity or sensitivity, then measured on another (test) — the question a clinician asks of a
 * model ("if 90 % of benign lesions must be spared a biopsy, how many melanomas does it find?").
 *
 * Decision rule, the project's everywhere (Keras' binary metrics at 0.5): an image is called malignant when p > t.
 * Sensitivity = TP / (TP + FN), specificity = TN / (TN + FP), PPV = TP / (TP + FP).
 *
 * - Target specificity s: t is the smallest threshold whose val specificity is at least s. Specificity only changes
 *   at a benign image's probability, so that t is the ceil(s·N)-th lowest benign probability (N benign images); every
 *   benign image tied with it is called benign too. Of the thresholds that reach s, it has the highest sensitivity.
 * - Target sensitivity r: t is the largest threshold whose val sensitivity is at least r. With p > t that is just
 *   below the ceil(r·P)-th highest malignant probability (P malignant images): the largest double below it, so that
 *   image and every image tied with it are called malignant. Of the thresholds that reach r, it has the highest
 *   specificity.
 * A target is reached when the rate is at least target − 1e-9 (so that 0.9 of 10 images is 9 images, whatever the
 * rounding of 0.9 · 10). Every target in (0, 1] is reached on a split that has images of the class it counts; a
 * split without them has no threshold (null, with the reason). Rates of a class the split lacks are null.
 */
import { at } from '../common/indexing.ts';
import { mean, sampleStd } from './statistics.ts';

/** Counts at one threshold: malignant is the positive class. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** One split of one run: each image's true label (1 = malignant) and predicted probability, in the same order. */
export interface Scored {
  labels: ArrayLike<number>;
  probabilities: ArrayLike<number>;
}

export type OperatingPointKind = 'specificity' | 'sensitivity';

/** A target: the val specificity (or sensitivity) the threshold must reach. */
export interface OperatingPointTarget {
  kind: OperatingPointKind;
  target: number;
}

/** The study's operating points: sensitivity at specificity 0.80 / 0.90 / 0.95, specificity at sensitivity 0.90 / 0.95. */
export const OPERATING_POINTS: readonly OperatingPointTarget[] = [
  { kind: 'specificity', target: 0.8 },
  { kind: 'specificity', target: 0.9 },
  { kind: 'specificity', target: 0.95 },
  { kind: 'sensitivity', target: 0.9 },
  { kind: 'sensitivity', target: 0.95 },
];

/** The rule and the definitions in one sentence each, for tooltips, help texts and JSON documents. */
export const DECISION_RULE = "an image is called malignant when its probability p > t (as at the study's 0.5)";
export const OPERATING_POINT_DEFINITION =
  'For a target specificity s, t is the smallest threshold whose val specificity is at least s (the highest val ' +
  'sensitivity that reaches s); for a target sensitivity r, t is the largest threshold whose val sensitivity is at ' +
  'least r (the highest val specificity that reaches r); sensitivity and specificity are then measured on test at that t.';

const TOLERANCE = 1e-9;

/** "sensitivity at specificity ≥ 0.80" */
export function operatingPointLabel(t: OperatingPointTarget): string {
  const other = t.kind === 'specificity' ? 'sensitivity' : 'specificity';
  return `${other} at ${t.kind} ≥ ${t.target.toFixed(2)}`;
}

export function confusionAt(s: Scored, threshold: number): Confusion {
  checkScored(s);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < s.labels.length; i++) {
    const positive = s.probabilities[i]! > threshold;
    if (s.labels[i] === 1) positive ? c.tp++ : c.fn++;
    else positive ? c.fp++ : c.tn++;
  }
  return c;
}

export interface Rates {
  /** Null when the split has no malignant image. */
  sensitivity: number | null;
  /** Null when the split has no benign image. */
  specificity: number | null;
  /** Null when nothing is called malignant. */
  ppv: number | null;
}

export function ratesOf(c: Confusion): Rates {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  return { sensitivity: ratio(c.tp, c.tp + c.fn), specificity: ratio(c.tn, c.tn + c.fp), ppv: ratio(c.tp, c.tp + c.fp) };
}

export type ThresholdChoice = { threshold: number; reason: null } | { threshold: null; reason: string };

/** The threshold that reaches `t` on `val`, by the definitions above. */
export function chooseThreshold(val: Scored, t: OperatingPointTarget): ThresholdChoice {
  checkScored(val);
  checkTarget(t);
  const counted = t.kind === 'specificity' ? 0 : 1;
  const scores: number[] = [];
  for (let i = 0; i < val.labels.length; i++) if (val.labels[i] === counted) scores.push(val.probabilities[i]!);
  if (scores.length === 0) return { threshold: null, reason: `the split has no ${counted ? 'malignant' : 'benign'} image to measure ${t.kind} on` };
  const k = Math.max(1, Math.ceil(t.target * scores.length - TOLERANCE * scores.length));
  if (t.kind === 'specificity') {
    scores.sort((a, b) => a - b);
    return { threshold: at(scores, k - 1), reason: null };
  }
  scores.sort((a, b) => b - a);
  return { threshold: nextDown(at(scores, k - 1)), reason: null };
}

/** An operating point of one run: the threshold chosen on val, and the rates it gives on val and on test. */
export interface OperatingPoint extends OperatingPointTarget {
  threshold: number | null;
  /** Why there is no threshold (null when there is one). */
  reason: string | null;
  val: (Rates & { confusion: Confusion }) | null;
  test: (Rates & { confusion: Confusion }) | null;
}

export function operatingPoint(val: Scored, test: Scored, t: OperatingPointTarget): OperatingPoint {
  const choice = chooseThreshold(val, t);
  if (choice.threshold === null) return { ...t, threshold: null, reason: choice.reason, val: null, test: null };
  const at = (s: Scored) => {
    const confusion = confusionAt(s, choice.threshold);
    return { ...ratesOf(confusion), confusion };
  };
  return { ...t, threshold: choice.threshold, reason: null, val: at(val), test: at(test) };
}

export function operatingPoints(val: Scored, test: Scored, targets: readonly OperatingPointTarget[] = OPERATING_POINTS): OperatingPoint[] {
  return targets.map((t) => operatingPoint(val, test, t));
}

/** Mean and sample standard deviation (n − 1, like the database's stddev_samp) of the values that exist. */
export interface MeanStd {
  n: number;
  mean: number | null;
  /** Null with fewer than two values. */
  std: number | null;
}

export function meanStd(values: readonly (number | null)[]): MeanStd {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { n: 0, mean: null, std: null };
  return { n: xs.length, mean: mean(xs), std: xs.length < 2 ? null : sampleStd(xs) };
}

/** One operating point of a model over its runs: mean ± sample std of the threshold and of the test rates. */
export interface OperatingPointSummary extends OperatingPointTarget {
  threshold: MeanStd;
  sensitivity: MeanStd;
  specificity: MeanStd;
  ppv: MeanStd;
  /** Runs without a threshold (their val split lacks the class the target counts). */
  unreached: number;
}

export interface ModelOperatingPoints {
  model: string;
  runs: number;
  points: OperatingPointSummary[];
}

/** Per model (in the order the runs come), each operating point's mean ± std over the model's runs, on test. */
export function summarizeOperatingPoints(runs: readonly { model: string; points: readonly OperatingPoint[] }[]): ModelOperatingPoints[] {
  const byModel = new Map<string, (readonly OperatingPoint[])[]>();
  for (const r of runs) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r.points]);
  return [...byModel].map(([model, list]) => ({
    model,
    runs: list.length,
    points: (list[0] ?? []).map((first, i) => {
      const column = list.map((points) => points[i]).filter((p) => p !== undefined);
      if (column.length < list.length || column.some((p) => p.kind !== first.kind || p.target !== first.target))
        throw new Error(`runs of ${model} have different operating points`);
      return {
        kind: first.kind,
        target: first.target,
        threshold: meanStd(column.map((p) => p.threshold)),
        sensitivity: meanStd(column.map((p) => p.test?.sensitivity ?? null)),
        specificity: meanStd(column.map((p) => p.test?.specificity ?? null)),
        ppv: meanStd(column.map((p) => p.test?.ppv ?? null)),
        unreached: column.filter((p) => p.threshold === null).length,
      };
    }),
  }));
}

/** A run's predictions: labels and probabilities per split (those it has). */
export interface RunSplits {
  runId: number;
  model: string;
  runIndex: number;
  splits: Partial<Record<string, Scored>>;
}

/** The operating points of an experiment's runs, one by one and per model, with the rule they follow. */
export interface OperatingPointsReport {
  rule: string;
  definition: string;
  targets: readonly OperatingPointTarget[];
  /** Runs with both val and test predictions, in the order given. */
  runs: { runId: number; model: string; runIndex: number; points: OperatingPoint[] }[];
  models: ModelOperatingPoints[];
}

/** Every run's five operating points (chosen on val, measured on test) and their mean ± std per model. */
export function operatingPointsReport(runs: readonly RunSplits[], targets: readonly OperatingPointTarget[] = OPERATING_POINTS): OperatingPointsReport {
  const scored = runs.flatMap((r) => {
    const { val, test } = r.splits;
    return val && test ? [{ runId: r.runId, model: r.model, runIndex: r.runIndex, points: operatingPoints(val, test, targets) }] : [];
  });
  return { rule: DECISION_RULE, definition: OPERATING_POINT_DEFINITION, targets, runs: scored, models: summarizeOperatingPoints(scored) };
}

/** One model's runs at one threshold on one split: mean ± std over runs of the counts and the rates. */
export interface ModelAtThreshold {
  model: string;
  runs: number;
  confusion: Record<keyof Confusion, MeanStd>;
  sensitivity: MeanStd;
  specificity: MeanStd;
  ppv: MeanStd;
}

/** Every model at a threshold the user picks, on one split (runs without that split's predictions are left out). */
export function modelsAtThreshold(runs: readonly RunSplits[], split: string, threshold: number): ModelAtThreshold[] {
  const byModel = new Map<string, (Confusion & Rates)[]>();
  for (const r of runs) {
    const s = r.splits[split];
    if (!s) continue;
    const confusion = confusionAt(s, threshold);
    byModel.set(r.model, [...(byModel.get(r.model) ?? []), { ...confusion, ...ratesOf(confusion) }]);
  }
  return [...byModel].map(([model, list]) => {
    const of = (key: keyof (Confusion & Rates)) => meanStd(list.map((x) => x[key]));
    return {
      model,
      runs: list.length,
      confusion: { tp: of('tp'), fp: of('fp'), tn: of('tn'), fn: of('fn') },
      sensitivity: of('sensitivity'),
      specificity: of('specificity'),
      ppv: of('ppv'),
    };
  });
}

/** The largest double below x. */
function nextDown(x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return x;
  if (x === 0) return -Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits - 1n : bits + 1n);
  return view.getFloat64(0);
}

function checkScored(s: Scored): void {
  if (s.labels.length !== s.probabilities.length) {
    throw new RangeError(`${s.labels.length} labels but ${s.probabilities.length} probabilities: they must pair up`);
  }
}

function checkTarget(t: OperatingPointTarget): void {
  if (t.kind !== 'specificity' && t.kind !== 'sensitivity') throw new RangeError(`unknown operating point kind '${String(t.kind)}'`);
  if (!(t.target > 0 && t.target <= 1)) throw new RangeError(`target ${t.kind} ${t.target} is not in (0, 1]`);
}
