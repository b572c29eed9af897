/**
 * The calibration of runs' probabilities (study/probability-calibration.ts) in the database: run_calibrations rows
 * computed from a run's stored val and test predictions (when its final evaluations are written, when its
 * predictions are stored afterwards or imported, and for completed runs stored before the table existed when the
 * database is opened), and the reads behind the calibration report of an experiment or a run.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { calibrate, type CalibrationRun, type ImagePredictions } from '../study/probability-calibration.ts';
import { MODEL_NAMES } from '../study/run.ts';
import type { Database } from './client.ts';
import { predictions, runCalibrations, runs } from './schema.ts';
import { type DbOrTx, onlyRow, positionIn } from './sql-helpers.ts';

type CalibrationSplit = 'val' | 'test';
type StoredSplit = ImagePredictions & { images: string[]; labels: number[]; probabilities: number[] };
const CALIBRATION_SPLITS: readonly CalibrationSplit[] = ['val', 'test'];

/** The val and test predictions of the given runs, by run, with their images in ascending order. */
async function predictionsOf(db: DbOrTx, runIds: number[]): Promise<Map<number, Partial<Record<CalibrationSplit, StoredSplit>>>> {
  const out = new Map<number, Partial<Record<CalibrationSplit, StoredSplit>>>();
  if (runIds.length === 0) return out;
  const rows = await db
    .select({ runId: predictions.runId, split: predictions.split, image: predictions.image, label: predictions.label, probability: predictions.probability })
    .from(predictions)
    .where(and(inArray(predictions.runId, runIds), inArray(predictions.split, [...CALIBRATION_SPLITS])))
    .orderBy(asc(predictions.runId), asc(predictions.split), asc(predictions.image));
  for (const r of rows) {
    const run = out.get(r.runId) ?? {};
    out.set(r.runId, run);
    const key = r.split as CalibrationSplit;
    run[key] ??= { images: [], labels: [], probabilities: [] };
    const split = run[key];
    split.images.push(r.image);
    split.labels.push(r.label);
    // PostgreSQL prints a real as the shortest decimal that identifies it; fround gives back the float32 stored.
    split.probabilities.push(Math.fround(r.probability));
  }
  return out;
}

/**
 * Computes a run's calibration from its stored val and test predictions and writes its two rows (replacing any);
 * a run without predictions of both splits, or with a probability that is no number in [0, 1] (a diverged run's
 * NaN), gets no rows: the run's results are stored all the same. Returns whether rows were written.
 */
export async function writeRunCalibration(tx: DbOrTx, runId: number): Promise<boolean> {
  await tx.delete(runCalibrations).where(eq(runCalibrations.runId, runId));
  const { val, test } = (await predictionsOf(tx, [runId])).get(runId) ?? {};
  if (!val || !test || ![val, test].every((s) => s.probabilities.every((p) => p >= 0 && p <= 1))) return false;
  const c = calibrate(val, test);
  await tx.insert(runCalibrations).values(
    CALIBRATION_SPLITS.map((split) => ({
      runId,
      split,
      n: c[split].before.n,
      brier: c[split].before.brier,
      ece: c[split].before.ece,
      temperature: c.temperature,
      brierScaled: c[split].after?.brier ?? null,
      eceScaled: c[split].after?.ece ?? null,
    })),
  );
  return true;
}

/** The ids of the completed runs with val and test predictions but no calibration rows. */
async function uncalibratedRuns(database: Database): Promise<number[]> {
  const rows = await database.db
    .select({ id: runs.id })
    .from(runs)
    .where(
      and(
        eq(runs.status, 'completed'),
        sql`not exists (select 1 from ${runCalibrations} where ${runCalibrations.runId} = ${runs.id})`,
        sql`exists (select 1 from ${predictions} where ${predictions.runId} = ${runs.id} and ${predictions.split} = 'val')`,
        sql`exists (select 1 from ${predictions} where ${predictions.runId} = ${runs.id} and ${predictions.split} = 'test')`,
      ),
    )
    .orderBy(asc(runs.id));
  return rows.map((r) => r.id);
}

/**
 * Writes the calibration of every completed run that has predictions but none yet (runs stored before
 * run_calibrations existed), one transaction per run; a run another process calibrated meanwhile is skipped.
 * Returns how many runs it calibrated.
 */
export async function backfillCalibrations(database: Database): Promise<number> {
  let done = 0;
  for (const runId of await uncalibratedRuns(database)) {
    const wrote = await database.db.transaction(async (tx) => {
      const [run] = await tx.select({ status: runs.status }).from(runs).where(eq(runs.id, runId)).for('update');
      const has = onlyRow(
        await tx.select({ n: sql<number>`count(*)::integer` }).from(runCalibrations).where(eq(runCalibrations.runId, runId)),
        'counting calibrations',
      );
      if (run?.status !== 'completed' || has.n > 0) return false;
      return writeRunCalibration(tx, runId);
    });
    if (wrote) done++;
  }
  return done;
}

/** Every completed run of an experiment with its val and test predictions, by model (the study's order) and run index. */
export async function experimentCalibrationInput(database: Database, experimentId: number): Promise<CalibrationRun[]> {
  const completed = await database.db
    .select({ runId: runs.id, model: runs.model, runIndex: runs.runIndex })
    .from(runs)
    .where(and(eq(runs.experimentId, experimentId), eq(runs.status, 'completed')))
    .orderBy(positionIn(MODEL_NAMES, runs.model), asc(runs.runIndex));
  const byRun = await predictionsOf(
    database.db,
    completed.map((r) => r.runId),
  );
  return completed.map((r) => ({ ...r, ...byRun.get(r.runId) }));
}

/** One run with its val and test predictions (whatever its status), or null for an unknown run. */
export async function runCalibrationInput(database: Database, runId: number): Promise<CalibrationRun | null> {
  const [run] = await database.db.select({ runId: runs.id, model: runs.model, runIndex: runs.runIndex }).from(runs).where(eq(runs.id, runId));
  if (!run) return null;
  return { ...run, ...(await predictionsOf(database.db, [runId])).get(runId) };
}

export type RunCalibrationRow = typeof runCalibrations.$inferSelect;

/** The stored calibration rows of a run (val, then test). */
export async function storedRunCalibration(database: Database, runId: number): Promise<RunCalibrationRow[]> {
  return database.db.select().from(runCalibrations).where(eq(runCalibrations.runId, runId)).orderBy(positionIn(CALIBRATION_SPLITS, runCalibrations.split));
}
