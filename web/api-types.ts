/**
 * The answers of the JSON API (web/README.md), as types: the server's reads (queries.ts, calibration.ts,
 * dataset-images.ts) return them and the page's modules (web/public, checked by tsconfig.browser.json) read them
 * through JSDoc. Types only, importing only study/'s Node-free modules, so that the page's type check sees the
 * browser's globals and never Node's.
 */
import type { LiveEstimate, LiveRunProgress } from '../study/live.ts';
import type { ModelAtThreshold, OperatingPoint, OperatingPointsReport } from '../study/operating-points.ts';
import type { Calibration, CalibrationReport } from '../study/probability-calibration.ts';
import type { AugmentationParams, Overrides, ProtocolName, ValidationRule } from '../study/protocol.ts';
import type { ConfusionMatrix, MetricName, ModelName, Split } from '../study/run.ts';
import type { DuplicatePair, DuplicatesReport } from '../study/duplicate-pairs.ts';

/** A metric as JSON: NaN (e.g. the ROC AUC of a split with one class) and missing values become null. */
export type Num = number | null;

/** GET /api/metrics: a metric of study/metrics/definitions.ts as the page shows it (web/metrics-module.ts). */
export interface MetricInfo {
  name: MetricName;
  label: string;
  better: 'higher' | 'lower';
  /** The largest value the metric can take; null when unbounded (the loss). Every metric is at least 0. */
  max: number | null;
  /** The implementation whose numbers it reproduces. */
  reference: string;
}
export type NullableMetrics = Record<MetricName, Num>;

export interface RunCounts {
  total: number;
  /** Completed runs. */
  done: number;
  failed: number;
  running: number;
  pending: number;
  interrupted: number;
}

/** 'running' while a run runs; 'incomplete' when runs are left pending or interrupted; 'empty' without runs. */
export type ExperimentStatus = 'running' | 'incomplete' | 'completed' | 'empty';

export interface ExperimentListItem {
  id: number;
  name: string;
  status: ExperimentStatus;
  dataDir: string | null;
  datasetFingerprint: string | null;
  models: ModelName[];
  counts: RunCounts;
  createdAt: string;
  /** First run start (null before any run started). */
  startedAt: string | null;
  finishedAt: string | null;
  /** From the first run start to the experiment's end, or to now while it runs. */
  seconds: number | null;
}

export interface RunRow {
  id: number;
  model: ModelName;
  repeat: number;
  seed: number;
  status: string;
  slot: string | null;
  gpu: number | null;
  /** The machine, and the Slurm job (`<array job>_<task>`), whose orchestrator ran or runs it. */
  host: string | null;
  slurmJob: string | null;
  backend: string | null;
  attempts: number;
  epochs: number;
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  valRocAuc: Num;
  test: NullableMetrics | null;
  error: string | null;
}

export interface ExperimentDetail extends ExperimentSettings {
  runs: RunRow[];
  protocol: ExperimentProtocol;
}

/** The protocol an experiment ran, as the page shows it: one row per model of the experiment and setting. */
export interface ExperimentProtocol {
  name: ProtocolName;
  /** Recorded before protocols: its runs followed the legacy protocol, whose settings are shown. */
  legacy: boolean;
  overrides: Overrides;
  rows: { model: ModelName; setting: string; value: string; source: string; kind: 'article' | 'choice' | 'override' }[];
}

export interface SummaryRow {
  model: ModelName;
  split: Split;
  metric: MetricName;
  n: number;
  mean: Num;
  /** Sample standard deviation; null for a single run. */
  std: Num;
  min: Num;
  max: Num;
}

export interface SplitEvaluationRow {
  split: Split;
  n: number;
  metrics: NullableMetrics;
  confusion: ConfusionMatrix;
}

export interface RunDetail {
  id: number;
  experimentId: number;
  experimentName: string;
  model: ModelName;
  repeat: number;
  baseRunId: number | null;
  status: string;
  seed: number;
  spec: Record<string, unknown>;
  slot: string | null;
  gpu: number | null;
  host: string | null;
  slurmJob: string | null;
  backend: string | null;
  backendDetail: string | null;
  attempts: number;
  params: { total: number; trainable: number } | null;
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  checkpointDir: string | null;
  datasetFingerprint: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  lastEventAt: string | null;
  /** The owning process's last heartbeat (every 5 s while it holds the run). */
  heartbeatAt: string | null;
  seconds: number | null;
  error: string | null;
  evaluations: SplitEvaluationRow[];
  /** The latest log messages of the run (at most 50), oldest first. */
  logs: { at: string; attempt: number; message: string }[];
  /** Every failed attempt of the run, oldest first, with its error and whether the run was tried again. */
  failedAttempts: { attempt: number; at: string; slot: string | null; retried: boolean; error: string }[];
}

/** GET /api/runs/:id: the run with its progress inside the phase it runs (`orchestrate --serve` only, else null). */
export type RunAnswer = RunDetail & { live: LiveRunProgress | null };

export interface EpochRow {
  epoch: number;
  train: NullableMetrics | null;
  val: NullableMetrics | null;
  seconds: number;
  learningRate: number;
  /** Val ROC AUC improved: the checkpoint was saved at this epoch. */
  improved: boolean;
}

export interface RunEpochs {
  runId: number;
  status: string;
  /** The run's best epoch, or while it trains the last epoch that improved. */
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  epochs: EpochRow[];
}

export interface CurveRow {
  split: Split;
  kind: 'roc' | 'pr';
  auc: Num;
  x: number[];
  y: number[];
  thresholds: number[];
}

export interface RunCurves {
  runId: number;
  curves: CurveRow[];
}

export interface BandPoint {
  epoch: number;
  /** Runs that reached this epoch. */
  n: number;
  mean: Num;
  std: Num;
}

export interface CompareView {
  experimentId: number;
  model: ModelName;
  /** Every run of the model with its history (failed ones too, for the overlay). */
  runs: { id: number; repeat: number; status: string; bestEpoch: number | null; stoppedEarly: boolean | null; epochs: EpochRow[] }[];
  /** Mean and sample std per epoch over the completed and running runs, per split and metric. */
  bands: Record<'train' | 'val', Record<MetricName, BandPoint[]>>;
}

export interface ExperimentSettings extends ExperimentListItem {
  config: Record<string, unknown>;
  codeVersion: string | null;
}

/** GET /api/experiments/:id: the experiment with the orchestrator's estimate of its time left (null elsewhere). */
export type ExperimentAnswer = ExperimentDetail & { estimate: LiveEstimate | null };

export interface ExperimentSummary {
  experimentId: number;
  rows: SummaryRow[];
}

export interface ExperimentComparison {
  /** In the order asked for. */
  experiments: ExperimentSettings[];
  rows: (SummaryRow & { experimentId: number })[];
}

export type Bands = CompareView['bands'];

export interface ExperimentBands {
  experimentId: number;
  /** Per model (the study's order): completed and running runs with epochs, and their mean ± std per epoch. */
  models: { model: ModelName; runs: number; bands: Bands }[];
}

export interface PredictionsView {
  runId: number;
  split: Split;
  /** The fingerprint of the dataset the run was evaluated on (its experiment's; null if it was not recorded). */
  datasetFingerprint: string | null;
  predictions: { image: string; label: 0 | 1; probability: number }[];
}

/** An image of the dataset with its file id for /api/dataset/images/:fileId: null without the run's dataset. */
export type WithFileId<T> = T & { fileId: number | null };

/** GET /api/runs/:id/predictions. */
export type PredictionsAnswer = Omit<PredictionsView, 'predictions'> & { predictions: WithFileId<PredictionsView['predictions'][number]>[] };

export interface MisclassifiedView {
  experimentId: number;
  model: ModelName;
  split: Split;
  datasetFingerprint: string | null;
  /** Completed runs of the model with predictions stored for the split. */
  runs: number;
  images: { image: string; label: 0 | 1; n: number; wrong: number; meanProbability: number; stdProbability: Num }[];
}

/** GET /api/experiments/:id/misclassified. */
export type MisclassifiedAnswer = Omit<MisclassifiedView, 'images'> & { images: WithFileId<MisclassifiedView['images'][number]>[] };

export interface EnsembleView {
  experimentId: number;
  split: Split;
  /** Per model: the metrics of each image's mean probability over the model's completed runs with predictions. */
  models: { model: ModelName; runs: number; n: number; metrics: NullableMetrics; confusion: ConfusionMatrix }[];
}

export type ExperimentOperatingPoints = { experimentId: number } & OperatingPointsReport;

export interface ExperimentAtThreshold {
  experimentId: number;
  split: Split;
  threshold: number;
  rule: string;
  models: ModelAtThreshold[];
}

export interface RunOperatingPoints {
  runId: number;
  rule: string;
  definition: string;
  /** Empty while the run has no val and test predictions (not finished, or recorded before predictions were kept). */
  points: OperatingPoint[];
}

export type ExperimentCalibration = { experimentId: number } & CalibrationReport;

export interface RunCalibration {
  runId: number;
  definition: string;
  bins: number;
  /** Null while the run has no val and test predictions (not finished, or recorded before predictions were kept). */
  calibration: Calibration | null;
}

/** The dataset's class folders, in label order (0 benign, 1 malignant). */
export type ClassName = 'benign' | 'malignant';

export interface ClassCounts {
  benign: number;
  malignant: number;
  total: number;
  /** malignant / total. */
  malignantRatio: number;
}

export interface DatasetSample {
  fileId: number;
  split: Split;
  label: ClassName;
  /** File name, e.g. '123.jpg'. */
  name: string;
}

export interface DatasetSummary {
  dataDir: string;
  fingerprint: string;
  validationSplit: number;
  /** Which files of each train class folder are validation (the default protocol's rule), and in words. */
  validation: ValidationRule & { description: string };
  imageSize: number;
  counts: Record<Split, ClassCounts>;
  all: ClassCounts;
  samples: Record<ClassName, DatasetSample[]>;
  augment: AugmentationParams;
  augmentSources: DatasetSample[];
  augmentSeed: number;
  augmentEpochs: number;
}

/** The duplicates of the dataset (study/duplicates.ts), each image of a pair with its file id for its thumbnail. */
export type DatasetDuplicates = Omit<DuplicatesReport, 'pairs'> & {
  pairs: (DuplicatePair & { fileIdA: number; fileIdB: number })[];
  /** Images left out: their real path lies outside the dataset folder (a link). */
  skipped: number;
};

/** POST /api/experiments/:id/predict: `melanoma predict --json`'s document for the uploaded image. */
export type { ImageCall, ImagePrediction, PredictionDocument } from '../study/prediction.ts';
