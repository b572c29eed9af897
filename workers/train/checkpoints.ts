/**
 * A run's checkpoints in OUT: the best weights so far (kept in memory for the final evaluation, and saved as
 * OUT/best/ in TensorFlow.js format whenever an epoch is a new best) and the state at the end of every epoch
 * (OUT/resume/, resume-state.ts), from which the same spec run again continues. The resume state is read when the
 * run opens them, before any other work: one saved by another run stops this one there.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RunSpec } from '../../study/run.ts';
import { saveModel, type StudyModel } from '../models/index.ts';
import type { Resume } from './fit.ts';
import {
  clearResumeState,
  loadResumeState,
  restoredBestWeights,
  restoreTraining,
  runIdentity,
  saveResumeState,
  type FitProgress,
  type ResumeState,
} from './resume-state.ts';

export class Checkpoints {
  readonly bestDir: string;
  /** The state of an earlier attempt of this run, or null for a run that starts from its first epoch. */
  readonly saved: ResumeState | null;
  private readonly resumeDir: string;
  private readonly identity: Record<string, unknown>;
  private bestWeights: tf.Tensor[] = [];

  constructor(spec: RunSpec, datasetFingerprint: string, backend: string) {
    this.bestDir = join(spec.outDir, 'best');
    this.resumeDir = join(spec.outDir, 'resume');
    this.identity = runIdentity(spec, datasetFingerprint, backend);
    this.saved = loadResumeState(this.resumeDir, this.identity);
  }

  /** Where fit() starts on `m`: after the saved epoch (its best weights taken back too), or null from the first. */
  resume(m: StudyModel): Resume | null {
    const saved = this.saved;
    if (!saved) return null;
    tf.dispose(this.bestWeights);
    this.bestWeights = restoredBestWeights(saved, m);
    return { restore: (optimizer) => restoreTraining(saved, m, optimizer) };
  }

  /** Keeps and saves the model's weights as the best so far. */
  async saveBest(m: StudyModel): Promise<void> {
    tf.dispose(this.bestWeights);
    this.bestWeights = m.model.getWeights().map((w) => tf.clone(w));
    await saveModel(m.model, this.bestDir);
  }

  /** Saves what it takes to continue after `progress.epoch`. */
  async saveEpoch(m: StudyModel, progress: FitProgress, optimizer: tf.Optimizer): Promise<void> {
    await saveResumeState(this.resumeDir, this.identity, { progress, model: m, optimizer, bestWeights: this.bestWeights });
  }

  /** Puts the best weights back into the model, for the final evaluation. */
  restoreBest(m: StudyModel): void {
    m.model.setWeights(this.bestWeights);
    tf.dispose(this.bestWeights);
    this.bestWeights = [];
  }

  /** Removes the resume state once the run has finished: it is only needed to continue an unfinished one. */
  clear(): void {
    clearResumeState(this.resumeDir);
  }
}
