/**
 * The contract between one run (executed in a worker thread or by `melanoma run`) and whoever started it.
 * Types and constants only: the orchestrator, the database layer and the web page import this file without
 * pulling in tfjs.
 */

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** The numbers the study reports for every split: the metrics of study/metrics/definitions.ts. */
export { METRIC_NAMES, type MetricName, type Metrics } from './metrics/definitions.ts';
import type { Metrics } from './metrics/definitions.ts';
import type { ModelName } from './models.ts';
import type { AugmentationParams, InputScaling, ProtocolName, ValidationRule } from './protocol.ts';
import type { PhaseProgress } from './live.ts';

export { FINE_TUNES, MODEL_NAMES, type ModelName } from './models.ts';

/** Where a run stands: waiting, training in a slot, done, given up after its attempts, or stopped to be continued. */
export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const BACKEND_NAMES = ['auto', 'webgpu', 'wasm', 'tensorflow', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Everything a run needs; stored with the run so that it can be reproduced from its row. */
export interface RunSpec {
  model: ModelName;
  dataDir: string;
  outDir: string;
  seed: number;
  epochs: number;
  imageSize: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  backend: BackendName;
  /** GPU index (adapter) the run is pinned to, or null for CPU. */
  gpu: number | null;
  /** Folder with the best checkpoint of the base run, for `-ft` models. */
  initFrom: string | null;
  /** Folder with pretrained ImageNet weights (mobilenet, xception); null uses the default location. */
  weights: string | null;
  /** Cache decoded images as uint8 in memory (per worker). */
  cacheImages: boolean;
  /**
   * Folder of frozen-trunk activations shared by runs (workers/train/feature-store.ts): the runs of a transfer
   * model compute them once. Null or absent: each run computes its own, in memory only.
   */
  featureCacheDir?: string | null;
  /** Writes the augmented training images the model saw into this folder (Keras' save_to_dir). */
  saveAugmented: string | null;
  /**
   * The protocol these settings come from (study/protocol.ts). The three settings below it are that protocol's
   * for this model unless a flag changed them. All four are absent in runs recorded before protocols existed:
   * those runs follow the legacy protocol (LEGACY_PROTOCOL), which reproduces what the project then did.
   */
  protocol?: ProtocolName;
  /** Augmentation of the training images; null: none. */
  augment?: AugmentationParams | null;
  /** Pixel values the network sees ('[-1, 1]': a pretrained base gets ImageNet's scaling). */
  inputScaling?: InputScaling;
  /** Which files of each train class folder are the validation split. */
  validation?: ValidationRule;
  /**
   * Decode every image before building the model and stop, naming every file that cannot be decoded (default
   * true). The orchestrator checks the dataset once before it stores anything and turns this off for its runs.
   */
  checkImages?: boolean;
  /** Test hook: throw this message at the start of the given epoch (fault-injection tests). */
  failAtEpoch?: number | null;
}

export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** A curve as parallel arrays; `thresholds[i]` produced the point (x[i], y[i]). */
export interface Curve {
  x: number[];
  y: number[];
  thresholds: number[];
}

export interface SplitEvaluation {
  split: Split;
  n: number;
  metrics: Metrics;
  confusion: ConfusionMatrix;
  /** ROC: x = false-positive rate, y = true-positive rate. */
  roc: Curve;
  /** PR: x = recall, y = precision. */
  pr: Curve;
  /** Every image's predicted probability of melanoma, in the dataset listing's order. */
  predictions: Predictions;
}

/** Parallel arrays: image i is `images[i]` (its path in the dataset, e.g. 'test/malignant/1.jpg'), of class `labels[i]`. */
export interface Predictions {
  images: string[];
  labels: (0 | 1)[];
  probabilities: number[];
}

export interface EpochRecord {
  epoch: number; // 1-based
  train: Metrics;
  val: Metrics;
  seconds: number;
  learningRate: number;
}

/** Where a continued run picks up: the epochs already done, as they were reported. */
export interface ResumedFrom {
  epoch: number;
  history: EpochRecord[];
  improved: number[];
}

export interface RunResult {
  spec: RunSpec;
  backend: string;
  /** Framework and hardware details of the backend, e.g. the GPU adapter's name. */
  backendDetail: string;
  datasetFingerprint: string;
  counts: Record<Split, { benign: number; malignant: number }>;
  params: { total: number; trainable: number };
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  checkpointDir: string;
  final: SplitEvaluation[];
  seconds: number;
}

/**
 * Messages a run posts while it works; the orchestrator stores each in its own transaction, except `progress`
 * (a few a second, inside an epoch), which only the progress display and the live page see.
 */
export type RunEvent =
  | {
      type: 'started';
      backend: string;
      backendDetail: string;
      datasetFingerprint: string;
      params: { total: number; trainable: number };
      /**
       * The epochs an earlier attempt completed, when this one continues from its saved state (null or absent: it
       * starts from scratch). `improved`: the epochs that were a new best.
       */
      resumedFrom?: ResumedFrom | null;
    }
  | { type: 'epoch'; record: EpochRecord; best: boolean }
  | { type: 'checkpoint'; epoch: number; dir: string }
  | { type: 'final'; result: RunResult }
  | { type: 'log'; message: string }
  | ({ type: 'progress' } & PhaseProgress);
