/**
 * The training loop: Adam on binary cross-entropy, per-epoch metrics on train and val, the best weights by val
 * ROC AUC kept (Keras' ModelCheckpoint(save_best_only)), early stopping after `patience` epochs without a gain. A
 * run continued from a saved epoch (resume-state.ts) goes on from the epoch after it.
 *
 * Train metrics of an epoch are computed from the predictions made during that epoch's training steps (with
 * dropout on and the weights moving), as Keras' `fit` history reports them. Val metrics come from a separate
 * inference pass after the epoch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertDeviceHealthy } from '../backend/index.ts';
import type { EpochRecord, Predictions, Split } from '../../study/run.ts';
import type { ImageRecord } from '../../study/data/dataset.ts';
import { COLLAPSE_TOLERANCE, constantProbability, constantValMessage } from '../../study/constant-prediction.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';
import type { StudyModel } from '../models/index.ts';
import type { InputSource } from './inputs.ts';
import { LaggedReads } from './lagged-reads.ts';
import type { FitProgress } from './resume-state.ts';
import { forward, kerasAdam, makeTrainStep } from './step.ts';

export interface FitOptions {
  epochs: number;
  learningRate: number;
  patience: number;
  /** Test hook: throws at the start of this epoch. */
  failAtEpoch?: number | null;
}

export interface FitCallbacks {
  onEpoch(record: EpochRecord, isBest: boolean): Promise<void> | void;
  /** Called with the model holding the new best weights, so they can be saved. */
  onBest(epoch: number): Promise<void> | void;
  /** After each training batch (and with done = 0 as the epoch starts): images done of the epoch's total. */
  onBatch?(done: number, total: number, epoch: number): void;
  /** After each batch of the epoch's validation pass (and with done = 0 as it starts). */
  onValidate?(done: number, total: number, epoch: number): void;
  /** A line worth a reader's attention, e.g. an epoch whose val images all get the same probability. */
  onWarning?(message: string): void;
  /** Called after each epoch, once the callbacks above have run, with what it takes to continue from there. */
  onEpochEnd?(progress: FitProgress, optimizer: tf.Optimizer): Promise<void> | void;
}

/** A run continued from a saved epoch: `restore` sets the model, the optimizer and the RNGs and returns where fit() stands. */
export interface Resume {
  restore(optimizer: tf.Optimizer): Promise<FitProgress>;
}

export interface FitOutcome {
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
}

/**
 * Probabilities for every item of a source, in its order. Throws if the GPU device failed since it opened
 * (every epoch's validation and the final evaluations come here before their numbers are stored).
 */
export async function predictAll(m: StudyModel, source: InputSource, onBatch?: (done: number, total: number) => void): Promise<Float32Array> {
  const reads = new LaggedReads(new Float32Array(source.size));
  let offset = 0;
  onBatch?.(0, source.size);
  for await (const batch of source.batches({ epoch: 0, training: false })) {
    await reads.push(
      tf.tidy(() => forward(m, batch.x, false, source.base)),
      offset,
    );
    offset += batch.n;
    tf.dispose([batch.x, batch.y]);
    onBatch?.(offset, source.size);
  }
  await reads.flush();
  assertDeviceHealthy();
  return reads.into;
}

/**
 * A split's predictions as stored: each listed image with its class and probability. `labels` are the source's
 * (in its order); they must be the listing's, or the probabilities would be stored against the wrong images.
 */
export function predictionsOf(split: Split, records: ImageRecord[], labels: ArrayLike<number>, probs: Float32Array): Predictions {
  if (records.length !== probs.length || records.some((r, i) => r.label !== labels[i])) {
    throw new Error(`${split}: ${probs.length} predictions do not line up with the ${records.length} images listed`);
  }
  return { images: records.map((r) => r.id), labels: records.map((r) => r.label), probabilities: Array.from(probs) };
}

export async function fit(
  m: StudyModel,
  train: InputSource,
  val: InputSource,
  opts: FitOptions,
  cb: FitCallbacks,
  resume: Resume | null = null,
): Promise<FitOutcome> {
  const optimizer = kerasAdam(opts.learningRate);
  const trainStep = makeTrainStep(m, optimizer, train.base);
  const p: FitProgress = resume ? await resume.restore(optimizer) : { epoch: 0, history: [], improved: [], best: -Infinity, bestEpoch: 0, sinceBest: 0 };
  const finished = () => p.epoch >= opts.epochs || (p.epoch > 0 && p.sinceBest >= opts.patience);

  while (!finished()) {
    const epoch = p.epoch + 1;
    if (opts.failAtEpoch === epoch) throw new Error(`injected failure at epoch ${epoch} (test hook)`);
    const started = performance.now();
    const labels = new Float32Array(train.size);
    const probs = new LaggedReads(new Float32Array(train.size));
    let seen = 0;
    cb.onBatch?.(0, train.size, epoch);
    for await (const batch of train.batches({ epoch, training: true })) {
      await probs.push(trainStep(batch.x, batch.y), seen);
      labels.set(batch.labels, seen);
      seen += batch.n;
      tf.dispose([batch.x, batch.y]);
      cb.onBatch?.(seen, train.size, epoch);
    }
    await probs.flush();
    const valProbs = await predictAll(m, val, cb.onValidate && ((done, total) => cb.onValidate!(done, total, epoch)));
    const record: EpochRecord = {
      epoch,
      train: evaluateBinary(labels, probs.into).metrics,
      val: evaluateBinary(val.labels, valProbs).metrics,
      seconds: (performance.now() - started) / 1000,
      learningRate: opts.learningRate,
    };
    p.epoch = epoch;
    p.history.push(record);
    const constant = constantProbability(valProbs, COLLAPSE_TOLERANCE);
    if (constant !== null) cb.onWarning?.(constantValMessage(epoch, constant));

    // Strictly greater, as Keras' ModelCheckpoint and EarlyStopping compare; a NaN AUC (one-class val) never
    // improves, except that the first epoch is always kept so there is a best model to restore.
    const auc = record.val.roc_auc;
    const isBest = auc > p.best || p.bestEpoch === 0;
    if (isBest) {
      p.best = Number.isNaN(auc) ? -Infinity : auc;
      p.bestEpoch = epoch;
      p.sinceBest = 0;
      p.improved.push(epoch);
    } else {
      p.sinceBest++;
    }
    await cb.onEpoch(record, isBest);
    if (isBest) await cb.onBest(epoch);
    await cb.onEpochEnd?.(p, optimizer);
  }
  optimizer.dispose();
  return { history: p.history, bestEpoch: p.bestEpoch, stoppedEarly: p.history.length < opts.epochs };
}
