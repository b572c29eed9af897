/**
 * The training loop's own rules, on a model whose validation ROC AUC each epoch is scripted: the best epoch is
 * the one with the highest val ROC AUC, only a strictly higher AUC is a gain (as Keras' ModelCheckpoint and
 * EarlyStopping compare), training stops after `patience` epochs without a gain, and a NaN AUC (a one-class val
 * split) never counts as one, but for the first epoch, kept so that there is a best model to restore. And an epoch
 * disposes whatever it makes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../workers/backend/index.ts';
import type { StudyModel } from '../../../workers/models/index.ts';
import { fit, type FitOutcome } from '../../../workers/train/fit.ts';
import type { InputSource } from '../../../workers/train/inputs.ts';
import type { FitProgress } from '../../../workers/train/resume-state.ts';

/** sigmoid(w x + b) on one input, w starting at 1: its predictions rank the rows as their inputs do while w > 0. */
function scoreModel(): StudyModel {
  const head = tfl.sequential({
    layers: [tfl.layers.dense({ units: 1, inputShape: [1], activation: 'sigmoid', kernelInitializer: 'ones', biasInitializer: 'zeros' })],
  });
  return { name: 'baseline', base: null, head, model: head, trainableParams: 2, totalParams: 2, loaded: null };
}

const LABELS = [0, 0, 1, 1];

/** Inputs of the rows labelled LABELS that give each ROC AUC: the share of (benign, malignant) pairs ranked right, ties half. */
const INPUTS_FOR_AUC = new Map<number, number[]>([
  [1, [-1, -1, 1, 1]],
  [0.75, [0, 2, 1, 3]],
  [0.5, [1, 0, 0, 1]],
  [0.25, [1, 3, 0, 2]],
]);

function source(labels: number[], inputs: () => number[]): InputSource {
  const y = Float32Array.from(labels);
  return {
    size: labels.length,
    labels: y,
    base: 'all',
    async *batches() {
      yield { x: tf.tensor2d(inputs(), [labels.length, 1]), y: tf.tensor2d(y, [labels.length, 1]), labels: y, n: labels.length };
    },
  };
}

/** A val split whose k-th validation pass (the k-th epoch fit runs) has ROC AUC aucs[k]. */
function scriptedVal(aucs: number[]): InputSource {
  let pass = 0;
  return source(LABELS, () => {
    const auc = aucs[pass++];
    const inputs = auc === undefined ? undefined : INPUTS_FOR_AUC.get(auc);
    assert.ok(inputs, `validation pass ${pass}: the script has no AUC for it (${aucs.join(', ')})`);
    return inputs;
  });
}

const TRAIN = source(LABELS, () => [0, 1, 2, 3]);

interface Observed extends FitOutcome {
  /** The val ROC AUC of each epoch, as fit recorded it. */
  aucs: number[];
  /** The epochs fit called a new best (onEpoch's flag). */
  flagged: number[];
  /** The epochs whose weights fit handed over to be saved (onBest). */
  saved: number[];
  /** The tensors tfjs held as each epoch ended. */
  held: number[];
}

async function fitScripted(aucs: number[], o: { epochs: number; patience: number; labels?: number[] }, resume: FitProgress | null = null): Promise<Observed> {
  await initBackend('cpu');
  const m = scoreModel();
  const val = o.labels ? source(o.labels, () => [0, 1, 2, 3]) : scriptedVal(aucs);
  const seen = { aucs: [] as number[], flagged: [] as number[], saved: [] as number[], held: [] as number[] };
  try {
    const outcome = await fit(
      m,
      TRAIN,
      val,
      { epochs: o.epochs, patience: o.patience, learningRate: 1e-3 },
      {
        onEpoch: (record, isBest) => {
          seen.aucs.push(record.val.roc_auc);
          if (isBest) seen.flagged.push(record.epoch);
        },
        onBest: (epoch) => void seen.saved.push(epoch),
        onEpochEnd: () => void seen.held.push(tf.memory().numTensors),
      },
      resume && { restore: async () => structuredClone(resume) },
    );
    return { ...outcome, ...seen };
  } finally {
    m.model.dispose();
  }
}

test('the scripted validation passes have the ROC AUCs they are meant to have', async () => {
  const aucs = [0.5, 1, 0.75, 0.25];
  const run = await fitScripted(aucs, { epochs: 4, patience: 10 });
  assert.deepEqual(run.aucs, aucs);
});

test('the best epoch is the one with the highest val ROC AUC, and its weights are the ones handed over to be saved', async () => {
  const run = await fitScripted([0.5, 1, 0.75, 0.25], { epochs: 4, patience: 10 });
  assert.equal(run.bestEpoch, 2);
  assert.deepEqual(run.flagged, [1, 2]);
  assert.deepEqual(run.saved, [1, 2]);
  assert.equal(run.history.length, 4);
  assert.equal(run.stoppedEarly, false);
});

test('an epoch that only equals the best val ROC AUC is no gain: the earlier epoch stays the best and the patience runs out', async () => {
  const run = await fitScripted([0.75, 0.75, 0.75, 0.75, 0.75], { epochs: 5, patience: 2 });
  assert.equal(run.bestEpoch, 1);
  assert.deepEqual(run.saved, [1]);
  assert.equal(run.history.length, 3, 'epochs 2 and 3 are no gain: stopped after epoch 3');
  assert.equal(run.stoppedEarly, true);
});

test('training stops after `patience` epochs without a gain, and a gain starts the count again', async () => {
  const run = await fitScripted([0.5, 0.25, 0.25, 0.75, 0.25, 0.5, 0.5, 1, 1, 1], { epochs: 10, patience: 3 });
  assert.deepEqual(run.saved, [1, 4]);
  assert.equal(run.bestEpoch, 4);
  assert.equal(run.history.length, 7, 'epochs 5, 6 and 7 are no gain: the gains scripted for epochs 8-10 never run');
  assert.equal(run.stoppedEarly, true);
});

test('a run that gains until its last epoch runs every epoch and has not stopped early', async () => {
  const run = await fitScripted([0.25, 0.5, 0.75], { epochs: 3, patience: 1 });
  assert.deepEqual(run.saved, [1, 2, 3]);
  assert.equal(run.history.length, 3);
  assert.equal(run.stoppedEarly, false);
});

test('a one-class val split (ROC AUC NaN): the first epoch is the best, no later one is a gain, and the patience runs out', async () => {
  const run = await fitScripted([], { epochs: 10, patience: 2, labels: [1, 1, 1, 1] });
  assert.ok(run.aucs.every(Number.isNaN));
  assert.deepEqual(run.saved, [1]);
  assert.equal(run.bestEpoch, 1);
  assert.equal(run.history.length, 3);
  assert.equal(run.stoppedEarly, true);
});

test('a continued run keeps its best AUC and its epochs without a gain: one more epoch without a gain stops it', async () => {
  const before = await fitScripted([0.5, 0.75, 0.5], { epochs: 3, patience: 10 });
  const progress: FitProgress = { epoch: 3, history: before.history, improved: [1, 2], best: 0.75, bestEpoch: 2, sinceBest: 1 };
  const run = await fitScripted([0.75, 1], { epochs: 10, patience: 2 }, progress);
  assert.deepEqual(run.aucs, [0.75], 'epoch 4 equals the best and is the second epoch without a gain');
  assert.equal(run.history.length, 4);
  assert.equal(run.bestEpoch, 2);
  assert.deepEqual(run.saved, []);
  assert.equal(run.stoppedEarly, true);
});

test('fit holds the same tensors at the end of every epoch (cpu here; every backend, whole runs: run.slow.test.ts)', async () => {
  const run = await fitScripted([0.5, 0.75, 0.25, 1], { epochs: 4, patience: 10 });
  assert.deepEqual(run.held.slice(1), run.held.slice(0, -1), run.held.join(', '));
});

test('an epoch whose val images all get one probability is named in a warning, with that probability; other epochs are not', async () => {
  await initBackend('cpu');
  const m = scoreModel();
  const passes = [
    [0, 2, 1, 3],
    [5, 5, 5, 5],
    [1, 3, 0, 2],
  ];
  let pass = 0;
  const warnings: string[] = [];
  try {
    await fit(
      m,
      TRAIN,
      source(LABELS, () => passes[pass++]!),
      { epochs: 3, patience: 10, learningRate: 1e-3 },
      { onEpoch: () => {}, onBest: () => {}, onWarning: (message) => void warnings.push(message) },
    );
    assert.equal(warnings.length, 1, warnings.join('\n'));
    const p = 1 / (1 + Math.exp(-(5 * m.head.getWeights()[0]!.dataSync()[0]! + m.head.getWeights()[1]!.dataSync()[0]!)));
    assert.match(warnings[0]!, /^epoch 2: every val image gets p = (0\.\d{4})/);
    // The weights have moved since epoch 2 by at most a few Adam steps of 1e-3: the same probability to 4 places.
    assert.ok(Math.abs(Number(/p = (0\.\d{4})/.exec(warnings[0]!)![1]) - p) < 0.002);
  } finally {
    m.model.dispose();
  }
});
