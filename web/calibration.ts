/**
 * The calibration views of the JSON API (study/probability-calibration.ts over the stored val and test
 * predictions): an experiment's runs, their mean ± std per model and each model's ensemble, and one run, each with
 * the reliability diagram's bins. The per-run numbers equal the run_calibrations rows (db/calibration.ts), which
 * come from the same function on the same predictions.
 */
import { experimentCalibrationInput, runCalibrationInput, type Database } from '../db/index.ts';
import { CALIBRATION_BIN_COUNT, CALIBRATION_DEFINITION, calibrate, calibrationReport } from '../study/probability-calibration.ts';
import type { ExperimentCalibration, RunCalibration } from './api-types.ts';
import { experimentExists } from '../db/index.ts';

/** Null for an unknown experiment. */
export async function experimentCalibration(d: Database, experimentId: number): Promise<ExperimentCalibration | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  return { experimentId, ...calibrationReport(await experimentCalibrationInput(d, experimentId)) };
}

/** Null for an unknown run. */
export async function runCalibration(d: Database, runId: number): Promise<RunCalibration | null> {
  const run = await runCalibrationInput(d, runId);
  if (!run) return null;
  const ready = run.val?.images.length && run.test?.images.length;
  return { runId, definition: CALIBRATION_DEFINITION, bins: CALIBRATION_BIN_COUNT, calibration: ready ? calibrate(run.val!, run.test!) : null };
}
