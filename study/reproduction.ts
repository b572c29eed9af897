/**
 * The reproduction report of one experiment, built from its completed runs (pure: the caller reads the database):
 * the study's table (mean ± std over the runs per split and metric, Keras' PR AUC beside scikit-learn's average
 * precision), the article's numbers beside the runs' (within the range? within 2 std of the mean?), the article's
 * claims with verdicts, Welch's tests between every pair of models per test metric (Crawford and Howell's where one
 * model has a single run), DeLong's tests between the
 * models' ensembles and between each fine-tuned run and the run it starts from (paired over the same test images),
 * the ensembles' metrics, the calibration of the runs' and the
 * ensembles' probabilities (study/probability-calibration.ts) and the lesions every run gets wrong.
 * Numbers that are undefined (a single run's std, a split without a class) are NaN here and null in JSON.
 */
import { at } from '../common/indexing.ts';
import { ARTICLE_NUMBERS, ARTICLE_ROC_FPR, type ArticleNumber } from './article.ts';
import { checkClaims, type ClaimResult } from './claims.ts';
import { ARTICLE_MODELS, FINE_TUNES, isModelName } from './models.ts';
import { kerasPrAuc } from './keras-pr-auc.ts';
import { METRIC_NAMES, evaluateBinary, type Metrics } from './metrics/index.ts';
import { NEAR_CONSTANT_TOLERANCE, constantProbability } from './constant-prediction.ts';
import { calibrationReport, type CalibrationReport } from './probability-calibration.ts';
import { REPORT_METRICS, REPORT_SPLITS, modelFor, type Confusion, type ReportMetric, type ReportSplit, type RunValues } from './report-metrics.ts';
import { tprAtFpr } from './roc-point.ts';
import type { RunStatus } from './run.ts';
import { compareMeans, delongTest, spread, type MeansTest, type Spread } from './statistics.ts';

export interface SplitPredictions {
  /** Image paths, ascending; labels and probabilities in the same order. */
  images: string[];
  labels: number[];
  probabilities: number[];
}

/** A completed run as stored. */
export interface StoredRun {
  runId: number;
  model: string;
  runIndex: number;
  epochs: number;
  /** A metric added after the run was recorded is missing from its evaluations. */
  evaluations: Partial<Record<ReportSplit, { metrics: Partial<Metrics>; confusion: Confusion }>>;
  predictions: Partial<Record<ReportSplit, SplitPredictions>>;
}

/** The `model` of the AlwaysWrong row that counts the runs of every model together. */
export const EVERY_MODEL = 'every model';

export interface AlwaysWrong {
  /** A model, or EVERY_MODEL. */
  model: string;
  /** Completed runs with test predictions. */
  runs: number;
  /** Test images that every one of those runs classifies wrongly at 0.5. */
  images: number;
  malignant: number;
  benign: number;
}

/** One run of the experiment, whatever its status: where the experiment stands. */
export interface RunProgress {
  runId: number;
  model: string;
  runIndex: number;
  seed: number;
  status: RunStatus;
  /** Epochs recorded (for an unfinished run, those a continuation carries on from). */
  epochs: number;
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  valRocAuc: number | null;
  testRocAuc: number | null;
}

export interface ReproductionInput {
  experiment: { id: number; name: string; protocol: string | null };
  /** Completed runs, in the study's model order then run index. */
  runs: StoredRun[];
  /** Every run, completed or not, in the same order. */
  progress: RunProgress[];
  alwaysWrong: AlwaysWrong[];
}

export interface ArticleComparison extends ArticleNumber {
  /** The experiment's model for the article's (a stand-in for Xception), null when it has none. */
  ourModel: string | null;
  ours: Spread | null;
  withinRange: boolean | null;
  /** |article - mean| <= 2 std; null below two runs. */
  within2Std: boolean | null;
}

export interface WelchRow {
  a: string;
  b: string;
  metric: ReportMetric;
  n: [number, number];
  meanA: number;
  meanB: number;
  /** Welch's t-test, or Crawford and Howell's where one model has a single run. */
  method: MeansTest;
  /** Null when the test is undefined (a single run of each, or no variance). */
  test: { diff: number; ci: [number, number]; t: number; df: number; p: number } | null;
}

export interface DelongRow {
  a: string;
  b: string;
  /** Test images both ensembles score. */
  images: number;
  aucA: number;
  aucB: number;
  diff: number;
  ci: [number, number];
  z: number;
  p: number;
}

/** A fine-tuned run (model `b`) against the run of its base model (`a`) with the same index, which it starts from. */
export interface FineTunedRow extends DelongRow {
  runIndex: number;
}

export interface EnsembleRow {
  model: string;
  runs: number;
  /** Test images every run of the model has a prediction for. */
  images: number;
  metrics: Record<ReportMetric, number>;
  confusion: Confusion;
}

/** A completed run whose kept checkpoint gives every test image nearly one probability (study/constant-prediction.ts). */
export interface ConstantRun {
  runId: number;
  model: string;
  runIndex: number;
  probability: number;
}

/** A model's test ROC AUC over its runs that do not predict a constant, where some of its runs do. */
export interface WithoutConstant {
  model: string;
  rocAuc: Spread;
}

export interface ReproductionReport {
  experiment: { id: number; name: string; protocol: string | null };
  models: { model: string; runs: number }[];
  progress: RunProgress[];
  /** Article model -> the experiment's model that answers for it, where the experiment lacks the article's. */
  standIns: Record<string, string>;
  table: { split: ReportSplit; rows: { model: string; runs: number; metrics: Record<ReportMetric, Spread> }[] }[];
  article: ArticleComparison[];
  claims: ClaimResult[];
  welch: WelchRow[];
  delong: DelongRow[];
  fineTuned: FineTunedRow[];
  ensembles: EnsembleRow[];
  calibration: CalibrationReport;
  alwaysWrong: AlwaysWrong[];
  /** How close every test probability of a near-constant run lies (study/constant-prediction.ts). */
  constantTolerance: number;
  constantRuns: ConstantRun[];
  withoutConstant: WithoutConstant[];
  /** The claims again over the runs that are not near-constant; empty when no run is. */
  claimsWithoutConstant: ClaimResult[];
}

/** A run's values for the report: stored metrics, and from its predictions Keras' PR AUC and the ROC point. */
export function runValues(run: StoredRun, articleFpr: number): RunValues {
  const metrics: RunValues['metrics'] = {};
  for (const split of REPORT_SPLITS) {
    const e = run.evaluations[split];
    if (!e) continue;
    const p = run.predictions[split];
    const stored = Object.fromEntries(METRIC_NAMES.map((k) => [k, e.metrics[k] ?? NaN])) as Metrics;
    metrics[split] = { ...stored, keras_pr_auc: p ? kerasPrAuc(p.labels, p.probabilities) : NaN };
  }
  const test = run.predictions.test;
  return {
    runId: run.runId,
    model: run.model,
    runIndex: run.runIndex,
    epochs: run.epochs,
    metrics,
    confusion: run.evaluations.test?.confusion ?? null,
    tprAtArticleFpr: test ? tprAtFpr(test.labels, test.probabilities, articleFpr) : null,
  };
}

function quantityOf(n: ArticleNumber, r: RunValues): number | null {
  const q = n.quantity;
  switch (q.kind) {
    case 'metric': {
      const v = r.metrics.test?.[q.metric];
      return v === undefined || Number.isNaN(v) ? null : v;
    }
    case 'count':
      return r.confusion ? r.confusion[q.count] : null;
    case 'epochs':
      return r.epochs;
    case 'tpr-at-fpr':
      return r.tprAtArticleFpr;
  }
}

function compareNumber(n: ArticleNumber, byModel: ReadonlyMap<string, RunValues[]>): ArticleComparison {
  const ourModel = modelFor(n.model, [...byModel.keys()]);
  const values = ourModel
    ? byModel
        .get(ourModel)!
        .map((r) => quantityOf(n, r))
        .filter((v): v is number => v !== null)
    : [];
  if (values.length === 0) return { ...n, ourModel, ours: null, withinRange: null, within2Std: null };
  const ours = spread(values);
  return {
    ...n,
    ourModel,
    ours,
    withinRange: n.value >= ours.min && n.value <= ours.max,
    within2Std: Number.isNaN(ours.std) ? null : Math.abs(n.value - ours.mean) <= 2 * ours.std,
  };
}

/** Each image's probability averaged over the runs; only images every run has. */
function ensemblePredictions(runs: StoredRun[]): SplitPredictions | null {
  const withTest = runs.map((r) => r.predictions.test).filter((p): p is SplitPredictions => p !== undefined);
  if (withTest.length === 0) return null;
  const sums = new Map<string, { label: number; sum: number; count: number }>();
  for (const p of withTest) {
    p.images.forEach((image, i) => {
      const s = sums.get(image) ?? { label: at(p.labels, i, 'label'), sum: 0, count: 0 };
      s.sum += at(p.probabilities, i, 'probability');
      s.count += 1;
      sums.set(image, s);
    });
  }
  const images = [...sums.keys()].filter((k) => sums.get(k)!.count === withTest.length).sort();
  return { images, labels: images.map((k) => sums.get(k)!.label), probabilities: images.map((k) => sums.get(k)!.sum / withTest.length) };
}

/** Two ensembles restricted to the images both score, in the same order. */
function paired(a: SplitPredictions, b: SplitPredictions): { labels: number[]; a: number[]; b: number[] } {
  const inB = new Map(b.images.map((image, i) => [image, i]));
  const out = { labels: [] as number[], a: [] as number[], b: [] as number[] };
  a.images.forEach((image, i) => {
    const j = inB.get(image);
    if (j === undefined) return;
    out.labels.push(at(a.labels, i, 'label'));
    out.a.push(at(a.probabilities, i, 'probability'));
    out.b.push(at(b.probabilities, j, 'probability'));
  });
  return out;
}

export function buildReproduction(input: ReproductionInput): ReproductionReport {
  const models = [...new Set(input.runs.map((r) => r.model))];
  const runsOf = (m: string) => input.runs.filter((r) => r.model === m);
  const byModel = new Map(models.map((m) => [m, runsOf(m).map((r) => runValues(r, ARTICLE_ROC_FPR))]));

  const table = REPORT_SPLITS.map((split) => ({
    split,
    rows: models
      .map((model) => {
        const runs = byModel.get(model)!.filter((r) => r.metrics[split]);
        const metrics = Object.fromEntries(
          REPORT_METRICS.map((k) => [k, spread(runs.map((r) => r.metrics[split]![k]).filter((v) => !Number.isNaN(v)))]),
        ) as Record<ReportMetric, Spread>;
        return { model, runs: runs.length, metrics };
      })
      .filter((row) => row.runs > 0),
  }));

  const standIns = Object.fromEntries(
    ARTICLE_MODELS.flatMap((a) => {
      const m = modelFor(a, models);
      return m !== null && m !== a ? [[a, m]] : [];
    }),
  );

  const testValues = (m: string, k: ReportMetric) =>
    byModel
      .get(m)!
      .map((r) => r.metrics.test?.[k] ?? NaN)
      .filter((v) => !Number.isNaN(v));
  const pairs = models.flatMap((a, i) => models.slice(i + 1).map((b) => [a, b] as const));
  const welchRows: WelchRow[] = pairs.flatMap(([a, b]) =>
    REPORT_METRICS.map((metric) => {
      const xa = testValues(a, metric);
      const xb = testValues(b, metric);
      const { method, test: w } = compareMeans(xa, xb);
      return {
        a,
        b,
        metric,
        n: [xa.length, xb.length] as [number, number],
        meanA: spread(xa).mean,
        meanB: spread(xb).mean,
        method,
        test: w && { diff: w.diff, ci: w.ci, t: w.t, df: w.df, p: w.p },
      };
    }),
  );

  const ensembleOf = new Map(models.map((m) => [m, ensemblePredictions(runsOf(m))]));
  const ensembles: EnsembleRow[] = models.flatMap((model) => {
    const e = ensembleOf.get(model);
    if (!e || e.images.length === 0) return [];
    const s = evaluateBinary(e.labels, e.probabilities);
    const runs = runsOf(model).filter((r) => r.predictions.test).length;
    return [{ model, runs, images: e.images.length, metrics: { ...s.metrics, keras_pr_auc: kerasPrAuc(e.labels, e.probabilities) }, confusion: s.confusion }];
  });

  const delongOf = (a: string, b: string, pa: SplitPredictions | null | undefined, pb: SplitPredictions | null | undefined): DelongRow[] => {
    if (!pa || !pb) return [];
    const p = paired(pa, pb);
    if (!p.labels.includes(0) || !p.labels.includes(1)) return [];
    const d = delongTest(p.labels, p.a, p.b);
    return [{ a, b, images: p.labels.length, aucA: d.aucA, aucB: d.aucB, diff: d.diff, ci: d.ci, z: d.z, p: d.p }];
  };
  const delong = pairs.flatMap(([a, b]) => delongOf(a, b, ensembleOf.get(a), ensembleOf.get(b)));
  const fineTuned: FineTunedRow[] = input.runs.flatMap((run) => {
    const base = isModelName(run.model) ? FINE_TUNES[run.model] : undefined;
    const start = base && input.runs.find((r) => r.model === base && r.runIndex === run.runIndex);
    if (!base || !start) return [];
    return delongOf(base, run.model, start.predictions.test, run.predictions.test).map((d) => ({ ...d, runIndex: run.runIndex }));
  });

  const constantRuns: ConstantRun[] = input.runs.flatMap((r) => {
    const p = r.predictions.test && constantProbability(r.predictions.test.probabilities, NEAR_CONSTANT_TOLERANCE);
    return p === null || p === undefined ? [] : [{ runId: r.runId, model: r.model, runIndex: r.runIndex, probability: p }];
  });
  const isConstant = new Set(constantRuns.map((c) => c.runId));
  const withoutConstant: WithoutConstant[] = models
    .filter((m) => constantRuns.some((c) => c.model === m))
    .map((model) => ({
      model,
      rocAuc: spread(
        byModel
          .get(model)!
          .filter((r) => !isConstant.has(r.runId))
          .map((r) => r.metrics.test?.roc_auc ?? NaN)
          .filter((v) => !Number.isNaN(v)),
      ),
    }));
  const byModelWithoutConstant = new Map([...byModel].map(([model, runs]) => [model, runs.filter((r) => !isConstant.has(r.runId))]));

  return {
    experiment: input.experiment,
    models: models.map((model) => ({ model, runs: runsOf(model).length })),
    progress: input.progress,
    standIns,
    table,
    article: ARTICLE_NUMBERS.map((n) => compareNumber(n, byModel)),
    claims: checkClaims(byModel),
    welch: welchRows,
    delong,
    fineTuned,
    ensembles,
    calibration: calibrationReport(
      input.runs.map((r) => ({ runId: r.runId, model: r.model, runIndex: r.runIndex, val: r.predictions.val, test: r.predictions.test })),
    ),
    alwaysWrong: input.alwaysWrong,
    constantTolerance: NEAR_CONSTANT_TOLERANCE,
    constantRuns,
    withoutConstant,
    claimsWithoutConstant: constantRuns.length > 0 ? checkClaims(byModelWithoutConstant, 'completed runs that are not near-constant') : [],
  };
}
