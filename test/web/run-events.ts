/**
 * Realistic RunEvent streams for the web tests: training histories that improve and then overfit (so early
 * stopping and the best epoch mean something), and final evaluations computed by the project's metric code from
 * seeded synthetic scores, so confusion matrices, curves and AUCs agree with each other.
 */
import { DEFAULT_BATCH_SIZE, DEFAULT_IMAGE_SIZE } from '../../study/protocol.ts';
import { runSpec } from '../helpers/run-spec.ts';
import seedrandom from 'seedrandom';
import { evaluateBinary } from '../../study/metrics/index.ts';
import {
  METRIC_NAMES,
  SPLITS,
  type EpochRecord,
  type Metrics,
  type ModelName,
  type RunEvent,
  type RunResult,
  type RunSpec,
  type Split,
  type SplitEvaluation,
} from '../../study/run.ts';

/** The real dataset's split sizes (benign, malignant). */
export const COUNTS: Record<Split, { benign: number; malignant: number }> = {
  train: { benign: 1152, malignant: 958 },
  val: { benign: 288, malignant: 239 },
  test: { benign: 360, malignant: 300 },
};

/** How well each model separates the classes (d' of the score distributions), roughly the study's ordering. */
const SKILL: Record<ModelName, number> = {
  baseline: 1.7,
  augmented: 1.9,
  xception: 2.3,
  'xception-ft': 2.6,
  mobilenet: 2.2,
  'mobilenet-ft': 2.5,
  'mobilenet-ft2': 2.55,
};

export function specFor(model: ModelName, seed: number, over: Partial<RunSpec> = {}): RunSpec {
  return runSpec({
    model,
    dataDir: '/data/melanoma',
    outDir: `/runs/exp/${model}-${seed}`,
    seed,
    epochs: 30,
    imageSize: DEFAULT_IMAGE_SIZE,
    batchSize: DEFAULT_BATCH_SIZE,
    patience: 5,
    ...over,
  });
}

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Synthetic predictions for `n` images: malignant scores shifted by `skill` on the logit scale. */
function scores(split: Split, counts: { benign: number; malignant: number }, skill: number, rng: () => number, dataset?: FixtureDataset) {
  const images: string[] = [];
  const labels: (0 | 1)[] = [];
  const probs: number[] = [];
  for (const [label, n] of [
    [0, counts.benign],
    [1, counts.malignant],
  ] as const) {
    const names = dataset?.images[split].filter((r) => r.label === label).map((r) => r.id);
    for (let i = 0; i < n; i++) {
      const logit = (label ? skill / 2 : -skill / 2) + gaussian(rng);
      images.push(names?.[i] ?? `${split === 'val' ? 'train' : split}/${label ? 'malignant' : 'benign'}/${split}-${i}.jpg`);
      labels.push(label);
      probs.push(Math.fround(1 / (1 + Math.exp(-logit)))); // float32, as a model's output and the stored column are
    }
  }
  return { images, labels, probs };
}

function evaluation(split: Split, counts: { benign: number; malignant: number }, skill: number, rng: () => number, dataset?: FixtureDataset): SplitEvaluation {
  const { images, labels, probs } = scores(split, counts, skill, rng, dataset);
  const e = evaluateBinary(labels, probs);
  const predictions = { images, labels, probabilities: probs };
  return { split, n: labels.length, metrics: e.metrics, confusion: e.confusion, roc: e.roc, pr: e.pr, predictions };
}

/** Epoch metrics when the model separates the classes with skill `d`; a rate like precision for any other metric. */
function epochMetrics(d: number, loss: number, rng: () => number): Metrics {
  const jitter = () => (rng() - 0.5) * 0.02;
  const clamp = (x: number) => Math.min(0.999, Math.max(0.001, x));
  const auc = clamp(0.5 + 0.48 * Math.tanh(d / 2.2) + jitter());
  const named: Partial<Metrics> = {
    loss,
    accuracy: clamp(0.5 + 0.42 * Math.tanh(d / 2.4) + jitter()),
    precision: clamp(0.5 + 0.4 * Math.tanh(d / 2.4) + jitter()),
    recall: clamp(0.45 + 0.45 * Math.tanh(d / 2.4) + jitter()),
    roc_auc: auc,
    pr_auc: clamp(auc - 0.02 + jitter()),
  };
  return Object.fromEntries(METRIC_NAMES.map((m) => [m, named[m] ?? clamp(0.5 + 0.4 * Math.tanh(d / 2.4) + jitter())])) as Metrics;
}

/** A real dataset's listing, for runs whose predictions name its images (and so show them on the page). */
export interface FixtureDataset {
  fingerprint: string;
  images: Record<Split, { id: string; label: 0 | 1 }[]>;
}

export interface RunPlan {
  model: ModelName;
  seed: number;
  /** Epochs the run trains before stopping; with `spec.epochs` larger than this, it stopped early. */
  epochs: number;
  /** Epoch after which validation stops improving (the recorded best epoch is the highest val ROC AUC, near it). */
  bestEpoch: number;
  /** Only the first `upTo` epochs happened so far (a running run): no final event. */
  upTo?: number;
  /** The run fails after this many epochs (no final event). */
  failAfter?: number;
  /** Evaluation counts override, e.g. a split without malignant images (its AUCs are NaN). */
  counts?: Partial<Record<Split, { benign: number; malignant: number }>>;
  spec?: Partial<RunSpec>;
  /** Evaluate on this dataset's images (its counts, names and fingerprint) instead of the real dataset's sizes. */
  dataset?: FixtureDataset;
}

/** The events of one run, in the order a worker posts them. */
export function runEvents(plan: RunPlan): RunEvent[] {
  const rng = seedrandom(`web-fixture:${plan.model}:${plan.seed}`);
  const skill = SKILL[plan.model] * (0.92 + 0.16 * rng());
  const spec = specFor(plan.model, plan.seed, plan.spec);
  const events: RunEvent[] = [];
  const params = { total: 1_000_000 + Math.round(SKILL[plan.model] * 1e6), trainable: 500_000 };
  const backend = spec.backend === 'auto' ? 'cpu' : spec.backend;
  const backendDetail = backend === 'webgpu' ? 'Dawn, NVIDIA H100 80GB HBM3 (fixture)' : `tfjs-backend-${backend} 4.22.0 (fixture)`;
  const fingerprint = plan.dataset?.fingerprint ?? 'f'.repeat(64);
  events.push({ type: 'started', backend, backendDetail, datasetFingerprint: fingerprint, params });

  const history: EpochRecord[] = [];
  let bestAuc = -Infinity;
  let bestEpoch = 0;
  const last = Math.min(plan.epochs, plan.upTo ?? Infinity, plan.failAfter ?? Infinity);
  for (let epoch = 1; epoch <= last; epoch++) {
    const progress = 1 - Math.exp(-epoch / (plan.bestEpoch / 2.2));
    const d = skill * progress;
    const trainLoss = 0.69 - 0.45 * progress - 0.006 * Math.max(0, epoch - plan.bestEpoch) + (rng() - 0.5) * 0.01;
    const valLoss = 0.69 - 0.38 * progress + 0.012 * Math.max(0, epoch - plan.bestEpoch) + (rng() - 0.5) * 0.008;
    const record: EpochRecord = {
      epoch,
      train: epochMetrics(d * 1.1, trainLoss, rng),
      val: epochMetrics(d - 0.06 * Math.max(0, epoch - plan.bestEpoch), valLoss, rng),
      seconds: 40 + rng() * 8,
      learningRate: spec.learningRate,
    };
    // Like the training loop: the best epoch is the one with the highest val ROC AUC so far.
    const best = record.val.roc_auc > bestAuc;
    if (best) [bestAuc, bestEpoch] = [record.val.roc_auc, epoch];
    history.push(record);
    events.push({ type: 'epoch', record, best });
    if (best) events.push({ type: 'checkpoint', epoch, dir: `${spec.outDir}/best` });
    if (epoch % 10 === 0) events.push({ type: 'log', message: `epoch ${epoch}: val loss ${valLoss.toFixed(4)}` });
  }
  if (plan.upTo !== undefined && plan.upTo < plan.epochs) return events;
  if (plan.failAfter !== undefined) return events;

  const fromDataset = (split: Split) => {
    const images = plan.dataset!.images[split];
    return { benign: images.filter((r) => r.label === 0).length, malignant: images.filter((r) => r.label === 1).length };
  };
  const counts = plan.dataset ? { train: fromDataset('train'), val: fromDataset('val'), test: fromDataset('test') } : { ...COUNTS, ...plan.counts };
  const final = SPLITS.map((split) => evaluation(split, counts[split], split === 'train' ? skill * 1.15 : skill, rng, plan.dataset));
  const result: RunResult = {
    spec,
    backend,
    backendDetail,
    datasetFingerprint: fingerprint,
    counts,
    params,
    history,
    bestEpoch,
    stoppedEarly: plan.epochs < spec.epochs,
    checkpointDir: `${spec.outDir}/best`,
    final,
    seconds: history.reduce((a, e) => a + e.seconds, 0) + 12,
  };
  events.push({ type: 'final', result });
  return events;
}
