/**
 * A new image through the completed runs of one model (`melanoma predict` and the page's upload form): what the
 * runs say together. No tfjs: the probabilities come from a worker (workers/predict/), the thresholds from the
 * runs' stored val predictions (study/operating-points.ts).
 *
 * - The ensemble probability is the mean of the runs' probabilities, as the experiment page's ensemble scores it.
 * - A call at 0.5 follows the study's rule (malignant when p > 0.5), for the ensemble and for each run.
 * - A call at an operating point: each run at its own threshold, chosen on its val predictions; the ensemble at the
 *   threshold chosen the same way on its own val probabilities (each val image's mean over the runs).
 */
import { chooseThreshold, DECISION_RULE, OPERATING_POINTS, operatingPointLabel, type OperatingPointTarget, type Scored } from './operating-points.ts';
import { protocolSettings, type AugmentationParams, type InputScaling, type ProtocolName } from './protocol.ts';
import type { ModelName } from './models.ts';
import { BACKEND_NAMES, type BackendName } from './run.ts';
import { mean, sampleStd } from './statistics.ts';

/** One completed run whose best checkpoint predicts: what a worker needs to rebuild and load it. */
export interface PredictingRun {
  runId: number;
  runIndex: number;
  model: ModelName;
  seed: number;
  imageSize: number;
  inputScaling: InputScaling;
  /** The folder holding the run's best checkpoint (model.json and weights.bin). */
  checkpointDir: string;
}

/** One decision rule: 0.5 or an operating point, with the ensemble's threshold and each run's. */
export interface CallRule {
  label: string;
  /** null for the study's fixed 0.5. */
  target: OperatingPointTarget | null;
  /** The ensemble's threshold; null when its val probabilities cannot choose one (`reason` says why). */
  ensemble: number | null;
  /** Each run's threshold, in the order of the runs; null where its val predictions cannot choose one. */
  runs: (number | null)[];
  reason: string | null;
}

/** Threshold of every decision rule: 0.5 first, then the study's operating points. */
export function callRules(valByRun: readonly (Scored | null)[], targets: readonly OperatingPointTarget[] = OPERATING_POINTS): CallRule[] {
  const fixed: CallRule = { label: 'at 0.5', target: null, ensemble: 0.5, runs: valByRun.map(() => 0.5), reason: null };
  const ensembleVal = ensembleScores(valByRun);
  return [
    fixed,
    ...targets.map((target) => {
      const runs = valByRun.map((val) => (val ? chooseThreshold(val, target).threshold : null));
      if (typeof ensembleVal === 'string') return { label: operatingPointLabel(target), target, ensemble: null, runs, reason: ensembleVal };
      const choice = chooseThreshold(ensembleVal, target);
      return { label: operatingPointLabel(target), target, ensemble: choice.threshold, runs, reason: choice.reason };
    }),
  ];
}

/**
 * Each val image's mean probability over the runs, or why there is none: a run without stored val predictions, or
 * runs whose val splits differ. The runs' predictions come in the same image order (db/ sorts them by image).
 */
function ensembleScores(valByRun: readonly (Scored | null)[]): Scored | string {
  const missing = valByRun.indexOf(null);
  if (missing >= 0) return `run ${missing + 1} of ${valByRun.length} has no stored val predictions`;
  const runs = valByRun as Scored[];
  const [first] = runs;
  if (!first) return 'no runs';
  const same = runs.every((v) => v.labels.length === first.labels.length && Array.from(v.labels).every((l, i) => l === first.labels[i]));
  if (!same) return "the runs' val splits differ";
  const probabilities = Array.from(first.probabilities, (_, i) => mean(runs.map((v) => v.probabilities[i]!)));
  return { labels: first.labels, probabilities };
}

/** One call of one image under one rule. */
export interface ImageCall {
  label: string;
  threshold: number | null;
  /** The ensemble's call: p > threshold; null without a threshold. */
  malignant: boolean | null;
  /** Runs that call it malignant, each at its own threshold, of `runsWithThreshold`. */
  runsMalignant: number;
  runsWithThreshold: number;
}

export interface ImagePrediction {
  /** The file as given (a path, or the uploaded file's name). */
  image: string;
  /** The ensemble's probability of melanoma: the mean over the runs. */
  probability: number;
  /** Each run's probability, in the order of the runs. */
  runs: number[];
  /** Sample standard deviation (n − 1) over the runs; null for one run. */
  std: number | null;
  min: number;
  max: number;
  calls: ImageCall[];
}

/** What the runs say of one image, from each run's probability (in the order of `rules[i].runs`). */
export function predictionOf(image: string, probabilities: readonly number[], rules: readonly CallRule[]): ImagePrediction {
  if (probabilities.length === 0) throw new RangeError(`${image}: no run's probability`);
  const p = mean(probabilities);
  return {
    image,
    probability: p,
    runs: [...probabilities],
    std: probabilities.length > 1 ? sampleStd(probabilities) : null,
    min: Math.min(...probabilities),
    max: Math.max(...probabilities),
    calls: rules.map((rule) => {
      if (rule.runs.length !== probabilities.length) throw new RangeError(`${rule.label}: ${rule.runs.length} thresholds for ${probabilities.length} runs`);
      const withThreshold = rule.runs.flatMap((t, i) => (t === null ? [] : [{ t, p: probabilities[i]! }]));
      return {
        label: rule.label,
        threshold: rule.ensemble,
        malignant: rule.ensemble === null ? null : p > rule.ensemble,
        runsMalignant: withThreshold.filter((x) => x.p > x.t).length,
        runsWithThreshold: withThreshold.length,
      };
    }),
  };
}

/** The whole answer of `melanoma predict --json`, and of the page's upload form (one image). */
export interface PredictionDocument {
  experiment: { id: number; name: string };
  model: ModelName;
  /** Why this model: named, or the experiment's best by mean val ROC AUC. */
  chosenBy: string;
  backend: string;
  /** Views averaged per image and run: 1 is the image alone (test-time augmentation, see ttaAugmentation). */
  tta: number;
  rule: string;
  runs: { runId: number; runIndex: number; seed: number; imageSize: number; checkpointDir: string }[];
  /** Each rule's ensemble threshold and each run's (in the order of `runs`). */
  thresholds: CallRule[];
  images: ImagePrediction[];
}

export function predictionDocument(
  o: {
    experiment: { id: number; name: string };
    model: ModelName;
    chosenBy: string;
    backend: string;
    tta: number;
    runs: readonly PredictingRun[];
    rules: CallRule[];
  },
  images: readonly { image: string; probabilities: readonly number[] }[],
): PredictionDocument {
  return {
    experiment: o.experiment,
    model: o.model,
    chosenBy: o.chosenBy,
    backend: o.backend,
    tta: o.tta,
    rule: DECISION_RULE,
    runs: o.runs.map((r) => ({ runId: r.runId, runIndex: r.runIndex, seed: r.seed, imageSize: r.imageSize, checkpointDir: r.checkpointDir })),
    thresholds: o.rules,
    images: images.map((x) => predictionOf(x.image, x.probabilities, o.rules)),
  };
}

/** The most views --tta takes: each is a forward pass of every run. */
export const MAX_TTA = 64;

/**
 * The augmentation test-time views draw from: the rotation and flips of the protocol's own augmentation (the
 * augmented model's, which baseline runs lack), without its zoom, shifts and brightness. A view keeps the whole
 * lesion in sight and changes only its orientation, which a dermoscopic image does not fix.
 */
export function ttaAugmentation(o: { augment?: AugmentationParams | null; protocol?: ProtocolName }): AugmentationParams {
  const source = o.augment ?? protocolSettings('augmented', o.protocol).augment;
  if (!source) throw new Error(`the protocol ${o.protocol ?? '(legacy)'} has no augmentation for the augmented model`);
  return {
    rotationRange: source.rotationRange,
    horizontalFlip: source.horizontalFlip,
    verticalFlip: source.verticalFlip,
    zoomRange: 0,
    widthShiftRange: 0,
    heightShiftRange: 0,
    brightnessRange: [1, 1],
    fill: source.fill,
  };
}

/**
 * The backend that predicts for `runs`: the one they ran on when they share one (the same kernels give their stored
 * probabilities to the last bit), else auto.
 */
export function predictionBackend(runs: readonly { backend: string | null }[]): BackendName {
  const used = new Set(runs.map((r) => r.backend));
  const [only] = used;
  return used.size === 1 && only && (BACKEND_NAMES as readonly string[]).includes(only) ? (only as BackendName) : 'auto';
}

/** An image for a worker: a path, or the bytes of an upload, named by `name` in errors. */
export interface ImageSource {
  name: string;
  source: string | Uint8Array;
}

/** What a prediction worker thread is asked (workers/predict/thread.ts). */
export type PredictionTask =
  | { kind: 'predict'; backend: BackendName; runs: PredictingRun[]; images: ImageSource[]; tta: number; augment: AugmentationParams }
  | { kind: 'saliency'; backend: BackendName; run: PredictingRun; image: ImageSource };

/** One run's Grad-CAM of one image, drawn over it as PNG. */
export interface SaliencyResult {
  png: Uint8Array;
  /** The layer whose activations the map weighs, and its grid. */
  layer: string;
  height: number;
  width: number;
  /** The run's probability of melanoma for the image. */
  probability: number;
}
