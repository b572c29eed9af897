/**
 * What a run keeps at the end of each epoch to continue exactly where it stopped (after Ctrl-C, kill -9 or a
 * crash): OUT/resume/epoch-<n>/ holds state.json (the run's identity, the epochs' history, the best epoch and
 * metric, the epochs without a gain, the RNG states) and tensors.bin (the weights training changes, the best
 * weights so far, Adam's step count and moments). A new epoch's folder is written as epoch-<n>.partial, synced,
 * then renamed: a kill at any moment leaves the last complete epoch's folder intact, and the highest complete one
 * is the state.
 *
 * The RNGs: the data order and each image's augmentation are functions of (seed, epoch, position)
 * (data/loader.ts), so nothing is stored for them; each seeded Dropout layer's mask is a function of (seed, its
 * call count), and the counts are stored; Math.random (tfjs' unseeded draws, seeded per run in run.ts) is stored
 * as seedrandom's state.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { UserError } from '../../common/errors.ts';
import { at, last } from '../../common/indexing.ts';
import { dropoutCalls, setDropoutCalls } from '../models/dropout.ts';
import type { StudyModel } from '../models/index.ts';
import type { EpochRecord, RunSpec } from '../../study/run.ts';

/** Where fit() stands after its last completed epoch. */
export interface FitProgress {
  /** Epochs completed. */
  epoch: number;
  history: EpochRecord[];
  /** The epochs that were a new best when they ended. */
  improved: number[];
  /** The best val ROC AUC so far (-Infinity before the first). */
  best: number;
  bestEpoch: number;
  /** Epochs since the best one (early stopping's counter). */
  sinceBest: number;
}

type Group = 'weights' | 'best' | 'optimizer';

interface StoredTensor {
  group: Group;
  shape: number[];
  dtype: 'float32' | 'int32';
  /** Byte offset in tensors.bin. */
  offset: number;
}

interface StateFile {
  identity: Record<string, unknown>;
  progress: FitProgress;
  dropoutCalls: number[];
  /** seedrandom's state of Math.random; null when it was not seeded with one. */
  random: object | null;
  tensors: StoredTensor[];
}

/** A run's saved state, read back from its folder. */
export interface ResumeState {
  dir: string;
  progress: FitProgress;
  dropoutCalls: number[];
  random: object | null;
  tensors: (StoredTensor & { values: Float32Array | Int32Array })[];
}

/** Spec fields that say where or how a run works, not what it computes: a resume may change them. */
const NOT_IDENTITY = new Set(['outDir', 'gpu', 'cacheImages', 'checkImages', 'featureCacheDir', 'saveAugmented', 'failAtEpoch']);

/** What a run's numbers depend on: a state saved under another identity cannot continue this run. */
export function runIdentity(spec: RunSpec, datasetFingerprint: string, backend: string): Record<string, unknown> {
  const settings = Object.fromEntries(Object.entries(spec).filter(([k, v]) => !NOT_IDENTITY.has(k) && v !== undefined));
  return { ...settings, datasetFingerprint, backendUsed: backend };
}

/** The weights training can change: the head's (it trains in training mode: its batch-norm statistics move too) and the base's trainable ones. */
function trainedVariables(m: StudyModel): { variable: tf.Variable; index: number }[] {
  const moving = new Set([...m.model.trainableWeights, ...(m.base ? m.head.weights : [])]);
  return m.model.weights.flatMap((w, index) => (m.base === null || moving.has(w) ? [{ variable: w.read() as tf.Variable, index }] : []));
}

// JSON has no NaN or Infinity (a one-class val split's AUC is NaN; the best metric starts at -Infinity).
const toJson = (_: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v);
const fromJson = (_: string, v: unknown) =>
  v !== null && typeof v === 'object' && Object.keys(v).length === 1 && typeof (v as { nonFinite?: unknown }).nonFinite === 'string'
    ? Number((v as { nonFinite: string }).nonFinite)
    : v;

function writeSynced(path: string, chunks: Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of chunks) writeSync(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const epochFolder = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}`;

/** Saves the state after `progress.epoch`; `bestWeights` are the whole model's best weights (checkpoints.ts keeps them). */
export async function saveResumeState(
  dir: string,
  identity: Record<string, unknown>,
  s: { progress: FitProgress; model: StudyModel; optimizer: tf.Optimizer; bestWeights: tf.Tensor[] },
): Promise<void> {
  const trained = trainedVariables(s.model);
  const optimizerWeights = (await s.optimizer.getWeights()).map((w) => w.tensor);
  const items: [Group, tf.Tensor][] = [
    ...trained.map(({ variable }): [Group, tf.Tensor] => ['weights', variable]),
    ...trained.map(({ index }): [Group, tf.Tensor] => ['best', at(s.bestWeights, index, 'best weight')]),
    ...optimizerWeights.map((t): [Group, tf.Tensor] => ['optimizer', t]),
  ];
  const chunks: Uint8Array[] = [];
  const tensors: StoredTensor[] = [];
  let offset = 0;
  for (const [group, t] of items) {
    const values = await t.data();
    const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
    const typed = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    chunks.push(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
    tensors.push({ group, shape: t.shape, dtype, offset });
    offset += typed.byteLength;
  }
  // The optimizer's moments are its own variables (tfjs' update); the flat ones (kernels/adam.ts) are copies.
  tf.dispose(optimizerWeights.filter((t) => !(t instanceof tf.Variable)));
  const random = (Math.random as { state?: () => object }).state?.() ?? null;
  const state: StateFile = { identity, progress: s.progress, dropoutCalls: dropoutCalls(s.model.model), random, tensors };

  const name = epochFolder(s.progress.epoch);
  const partial = join(dir, `${name}.partial`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeSynced(join(partial, 'tensors.bin'), chunks);
  writeSynced(join(partial, 'state.json'), [Buffer.from(JSON.stringify(state, toJson))]);
  syncDir(partial);
  rmSync(join(dir, name), { recursive: true, force: true });
  renameSync(partial, join(dir, name));
  syncDir(dir);
  for (const entry of readdirSync(dir)) if (entry !== name) rmSync(join(dir, entry), { recursive: true, force: true });
}

/**
 * The state in `dir` (its highest complete epoch), or null when there is none. Throws a UserError when it was
 * saved by a run with another identity: continuing it would mix two runs.
 */
export function loadResumeState(dir: string, identity: Record<string, unknown>): ResumeState | null {
  if (!existsSync(dir)) return null;
  const epochs = readdirSync(dir)
    .flatMap((e) => (/^epoch-\d+$/.test(e) ? [e] : []))
    .sort();
  if (epochs.length === 0) return null;
  const folder = join(dir, last(epochs, 'epoch folder'));
  const state = JSON.parse(readFileSync(join(folder, 'state.json'), 'utf8'), fromJson) as StateFile;
  const keys = [...new Set([...Object.keys(state.identity), ...Object.keys(identity)])];
  const differs = keys.find((k) => !isDeepStrictEqual(state.identity[k], identity[k]));
  if (differs !== undefined) {
    const show = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));
    throw new UserError(
      `${dir} holds epoch ${state.progress.epoch} of a run with ${differs} ${show(state.identity[differs])}, not ${show(identity[differs])}: ` +
        `run with the same settings to continue it, or delete that folder to start over.`,
    );
  }
  const bytes = readFileSync(join(folder, 'tensors.bin'));
  const tensors = state.tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const copy = bytes.buffer.slice(bytes.byteOffset + t.offset, bytes.byteOffset + t.offset + n * 4);
    return { ...t, values: t.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy) };
  });
  return { dir: folder, progress: state.progress, dropoutCalls: state.dropoutCalls, random: state.random, tensors };
}

const tensorsOf = (state: ResumeState, group: Group) => state.tensors.filter((t) => t.group === group).map((t) => tf.tensor(t.values, t.shape, t.dtype));

function checkShapes(what: string, saved: tf.Tensor[], expected: { shape: readonly (number | null)[] }[]): void {
  if (saved.length !== expected.length || saved.some((t, i) => !isDeepStrictEqual(t.shape, expected[i]!.shape)) /* as many, checked first */) {
    tf.dispose(saved);
    throw new Error(`the saved ${what} do not fit this model (${saved.length} tensors for ${expected.length})`);
  }
}

/** Puts the model, the optimizer and the RNGs where they were after the saved epoch; returns fit()'s progress. */
export async function restoreTraining(state: ResumeState, m: StudyModel, optimizer: tf.Optimizer): Promise<FitProgress> {
  const trained = trainedVariables(m);
  const weights = tensorsOf(state, 'weights');
  checkShapes(
    'weights',
    weights,
    trained.map((t) => t.variable),
  );
  for (const [i, { variable }] of trained.entries()) variable.assign(weights[i]!); // as many, checked above
  tf.dispose(weights);

  const moments = tensorsOf(state, 'optimizer');
  const variables = m.model.trainableWeights;
  checkShapes('optimizer moments', moments.slice(1), [...variables, ...variables]);
  const names = ['iter', ...variables.map((v) => `${v.name}/m`), ...variables.map((v) => `${v.name}/v`)];
  await optimizer.setWeights(moments.map((tensor, i) => ({ name: names[i]!, tensor }))); // as many, checked above
  tf.dispose(moments);

  setDropoutCalls(m.model, state.dropoutCalls);
  if (state.random !== null) seedrandom('', { global: true, state: state.random as seedrandom.State.Arc4 });
  return state.progress;
}

/** The whole model's best weights so far (those training does not change are the model's own). */
export function restoredBestWeights(state: ResumeState, m: StudyModel): tf.Tensor[] {
  const trained = trainedVariables(m);
  const best = tensorsOf(state, 'best');
  checkShapes(
    'best weights',
    best,
    trained.map((t) => t.variable),
  );
  const byIndex = new Map(trained.map(({ index }, i) => [index, best[i]]));
  return m.model.weights.map((w, index) => byIndex.get(index) ?? tf.clone(w.read()));
}

/** Removes the state once the run has finished: it is only needed to continue an unfinished one. */
export function clearResumeState(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
