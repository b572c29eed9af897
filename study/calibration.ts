/** What a calibration (workers/calibrate.ts) reports to the orchestrator's estimate: measured speeds per model. */
import type { ModelName } from './models.ts';

/** Images per second of each path of one model; a path the model never takes is null. */
export interface ModelSpeed {
  model: ModelName;
  /** Training on images through the whole model (models without a base; transfer models on augmented images). */
  trainImages: number | null;
  /** Predicting images through the whole model (models without a base). */
  predictImages: number | null;
  /** A frozen trunk's activations per second (inference), and training/predicting above them. */
  trunk: number | null;
  trainAboveTrunk: number | null;
  predictAboveTrunk: number | null;
}

export interface CalibrationReport {
  backend: string;
  backendDetail: string;
  speeds: ModelSpeed[];
  seconds: number;
  /** Seconds the backend took to start on this thread: once per slot. */
  backendSeconds: number;
  /** Images decoded (and resized to the run's size) per second: a slot's first run decodes every image once. */
  decodeImages: number | null;
}
