/**
 * run_calibrations and calibration_summary on every backend: written with a run's final evaluations from its stored
 * predictions, equal to study/probability-calibration.ts on them; backfilled for runs stored without; deleted with
 * a reset run's results.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  backfillCalibrations,
  claimNextRun,
  createOrResumeExperiment,
  type Database,
  ensureRuns,
  finishRun,
  openDatabase,
  recordEvent,
  resetUnfinishedRuns,
  storedRunCalibration,
} from '../../db/index.ts';
import { calibrate } from '../../study/probability-calibration.ts';
import type { RunEvent } from '../../study/run.ts';
import { backends, describeEachBackend, predictionsFor, runEvents, specFor, tempDir } from './fixtures.ts';
import { first } from '../../common/indexing.ts';

/** Runs one baseline run of a new experiment through all its events; finished as completed unless `finish` is false. */
async function oneRun(database: Database, name: string, testRocAuc: number, o: { finish?: boolean; events?: (e: RunEvent[]) => RunEvent[] } = {}) {
  const x = await createOrResumeExperiment(database, { name, config: { runs: 2 }, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });
  await ensureRuns(
    database,
    x.id,
    [0, 1].map((i) => ({ model: 'baseline' as const, runIndex: i, seed: i, spec: specFor('baseline', i) })),
  );
  const run = (await claimNextRun(database, x.id, 'cpu:0', { models: ['baseline'] }))!;
  const events = runEvents(run.spec, testRocAuc);
  for (const event of o.events ? o.events(events) : events) await recordEvent(database, run.id, event);
  if (o.finish !== false) await finishRun(database, run.id, { status: 'completed', error: null });
  return { experimentId: x.id, runId: run.id };
}

/** What the fixtures' predictions give (float32, as stored). */
function expected(v: number) {
  const f32 = (p: ReturnType<typeof predictionsFor>) => ({ labels: p.labels, probabilities: p.probabilities.map(Math.fround) });
  return calibrate(f32(predictionsFor('val', v + 0.01)), f32(predictionsFor('test', v)));
}

describeEachBackend(backends(), (suite) => {
  const { it } = suite;

  it('a finished run has val and test rows equal to the calibration of its stored predictions', async () => {
    const { runId } = await oneRun(suite.database, 'calibrated', 0.8);
    const rows = await storedRunCalibration(suite.database, runId);
    const c = expected(0.8);
    assert.deepEqual(
      rows.map((r) => r.split),
      ['val', 'test'],
    );
    for (const r of rows) {
      const s = c[r.split];
      assert.equal(r.n, 4);
      assert.equal(r.brier, s.before.brier);
      assert.equal(r.ece, s.before.ece);
      assert.equal(r.temperature, c.temperature);
      assert.equal(r.brierScaled, s.after!.brier);
      assert.equal(r.eceScaled, s.after!.ece);
    }
    assert.ok(c.temperature !== null && c.temperature !== 1);
    const summary = first(
      await suite.database.query<{ n: number; ece_mean: number; ece_std: number | null; temperature_mean: number }>(
        `select n, ece_mean, ece_std, temperature_mean from calibration_summary where experiment = 'calibrated' and split = 'test'`,
      ),
    );
    assert.equal(summary.n, 1);
    assert.ok(Math.abs(summary.ece_mean - c.test.before.ece) < 1e-12);
    assert.equal(summary.ece_std, null);
  });

  it('runs stored without calibration get it from their predictions; a reset run loses it', async () => {
    const { runId } = await oneRun(suite.database, 'backfilled', 0.7);
    await suite.database.query('delete from run_calibrations where run_id = $1', [runId]);
    assert.ok((await backfillCalibrations(suite.database)) >= 1);
    assert.equal((await storedRunCalibration(suite.database, runId))[1]!.ece, expected(0.7).test.before.ece);
    assert.equal(await backfillCalibrations(suite.database), 0, 'nothing left to do');

    const unfinished = await oneRun(suite.database, 'reset', 0.7, { finish: false });
    assert.equal((await storedRunCalibration(suite.database, unfinished.runId)).length, 2);
    await resetUnfinishedRuns(suite.database, unfinished.experimentId);
    assert.equal((await storedRunCalibration(suite.database, unfinished.runId)).length, 0);
  });

  it('a run whose probabilities are not numbers is stored without calibration', async () => {
    const { runId } = await oneRun(suite.database, 'diverged', 0.7, {
      events: (events) =>
        events.map((e) => {
          if (e.type !== 'final') return e;
          const final = e.result.final.map((s) => ({
            ...s,
            predictions: { ...s.predictions, probabilities: s.predictions.probabilities.map(() => Number.NaN) },
          }));
          return { ...e, result: { ...e.result, final } };
        }),
    });
    assert.deepEqual(await storedRunCalibration(suite.database, runId), []);
    const run = first(await suite.database.query<{ status: string }>('select status from runs where id = $1', [runId]));
    assert.equal(run.status, 'completed');
  });
});

test('opening a database calibrates the completed runs stored before the table', async () => {
  const dir = join(tempDir('calibration'), 'db');
  let database = await openDatabase(dir);
  const { runId } = await oneRun(database, 'old', 0.9);
  await database.query('delete from run_calibrations');
  await database.close();
  database = await openDatabase(dir);
  try {
    assert.equal((await storedRunCalibration(database, runId)).length, 2);
  } finally {
    await database.close();
  }
});
