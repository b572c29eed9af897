/**
 * The operating-point, threshold and band endpoints against the database: every model at 0.5 is the stored
 * evaluation (computed by study/metrics), each run's operating points come from its own stored predictions, the
 * per-model mean ± std is that of the runs, the all-models bands are each model's compare bands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { operatingPoints } from '../../study/operating-points.ts';
import { buildExperiment, smallStudy, type BuiltExperiment } from './fixtures.ts';

let db: Database;
let server: RunningServer;
let study: BuiltExperiment;

before(async () => {
  db = await openDatabase('memory://');
  study = await buildExperiment(db, smallStudy('operating points'));
  server = await startServer({ db, port: 0, dataDir: null });
});

after(async () => {
  await server?.close();
  await db?.close();
});

/** Equal structures whose numbers agree to 1e-12, relatively. */
function assertClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof actual === 'number' && typeof expected === 'number') {
    assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${path}: ${actual} is not ${expected}`);
  } else if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    assert.deepEqual(Object.keys(actual), Object.keys(expected), path);
    for (const k of Object.keys(actual)) assertClose((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

async function get(path: string) {
  const res = await fetch(server.url + path);
  return { status: res.status, json: await res.json() };
}

/** A split of a run as stored: labels and probabilities by image, from SQL. */
async function stored(runId: number, split: string) {
  const rows = await db.query<{ label: number; probability: number }>(
    'select label, probability from predictions where run_id = $1 and split = $2 order by image',
    [runId, split],
  );
  return { labels: rows.map((r) => r.label), probabilities: rows.map((r) => Math.fround(r.probability)) };
}

describe('operating points API', () => {
  test('every model at threshold 0.5 is the stored evaluation: the same counts as study/metrics gave', async () => {
    const { status, json } = await get(`/api/experiments/${study.experimentId}/threshold?threshold=0.5&split=test`);
    assert.equal(status, 200);
    assert.match(json.rule, /p > t/);
    const evals = await db.query<{ model: string; tp: number; fp: number; tn: number; fn: number; recall: number }>(
      "select r.model, e.tp, e.fp, e.tn, e.fn, e.recall from evaluations e join runs r on r.id = e.run_id where r.experiment_id = $1 and r.status = 'completed' and e.split = 'test'",
      [study.experimentId],
    );
    assert.deepEqual(
      json.models.map((m: { model: string; runs: number }) => [m.model, m.runs]),
      [
        ['baseline', 2],
        ['xception', 2],
      ],
    );
    for (const m of json.models) {
      const runs = evals.filter((e) => e.model === m.model);
      for (const k of ['tp', 'fp', 'tn', 'fn'] as const) assert.equal(m.confusion[k].mean, (runs[0]![k] + runs[1]![k]) / 2, `${m.model} ${k}`);
      assert.ok(Math.abs(m.sensitivity.mean - (runs[0]!.recall + runs[1]!.recall) / 2) < 1e-12, `${m.model} sensitivity is the stored recall`);
      assert.ok(Math.abs(m.sensitivity.std - Math.abs(runs[0]!.recall - runs[1]!.recall) / Math.SQRT2) < 1e-12, `${m.model} sample std of two runs`);
    }
    // A lower threshold calls more images malignant.
    const low = (await get(`/api/experiments/${study.experimentId}/threshold?threshold=0.2`)).json;
    assert.equal(low.split, 'test');
    assert.ok(low.models[0].confusion.tp.mean > json.models[0].confusion.tp.mean, 'more true positives at 0.2');
  });

  test("each completed run's five operating points come from its stored val and test predictions; per model, their mean ± std", async () => {
    const { status, json } = await get(`/api/experiments/${study.experimentId}/operating-points`);
    assert.equal(status, 200);
    const completed = [study.runIds[0], study.runIds[1], study.runIds[3], study.runIds[4]];
    assert.deepEqual(
      json.runs.map((r: { runId: number }) => r.runId),
      completed,
    );
    for (const r of json.runs) {
      assert.deepEqual(r.points, operatingPoints(await stored(r.runId, 'val'), await stored(r.runId, 'test')));
      assert.deepEqual((await get(`/api/runs/${r.runId}/operating-points`)).json.points, r.points, 'the run endpoint gives the same');
    }
    const [baseline] = json.models;
    assert.equal(baseline.model, 'baseline');
    assert.deepEqual(
      baseline.points.map((p: { kind: string; target: number }) => `${p.kind} ${p.target}`),
      ['specificity 0.8', 'specificity 0.9', 'specificity 0.95', 'sensitivity 0.9', 'sensitivity 0.95'],
    );
    const [a, b] = json.runs.slice(0, 2).map((r: { points: { test: { sensitivity: number } }[] }) => r.points[1]!.test.sensitivity);
    assert.ok(Math.abs(baseline.points[1].sensitivity.mean - (a + b) / 2) < 1e-12);
    assert.ok(Math.abs(baseline.points[1].sensitivity.std - Math.abs(a - b) / Math.SQRT2) < 1e-12);
    // Chosen on val: the val specificity reaches its target, the val sensitivity its own.
    for (const r of json.runs) {
      for (const p of r.points) assert.ok(p.val[p.kind] >= p.target, `run ${r.runId}: val ${p.kind} ${p.val[p.kind]} ≥ ${p.target}`);
    }
  });

  test('a run without predictions has no operating points; unknown ids are 404, a bad threshold 400', async () => {
    const running = await get(`/api/runs/${study.runIds[5]}/operating-points`);
    assert.equal(running.status, 200);
    assert.deepEqual(running.json.points, []);
    assert.equal((await get('/api/runs/987654/operating-points')).status, 404);
    assert.equal((await get('/api/experiments/987654/operating-points')).status, 404);
    assert.equal((await get('/api/experiments/987654/threshold?threshold=0.5')).status, 404);
    for (const bad of ['1.5', '-0.1', 'abc', '', '0.5e1']) {
      const r = await get(`/api/experiments/${study.experimentId}/threshold?threshold=${bad}`);
      assert.equal(r.status, 400, bad);
      assert.match(r.json.error, /query parameter 'threshold' must be a decimal number from 0 to 1/);
    }
    assert.equal((await get(`/api/experiments/${study.experimentId}/threshold`)).status, 400, 'the threshold is required');
    assert.equal((await get(`/api/experiments/${study.experimentId}/operating-points?x=1`)).status, 400);
  });

  test("the all-models bands are each model's compare bands", async () => {
    const { status, json } = await get(`/api/experiments/${study.experimentId}/bands`);
    assert.equal(status, 200);
    assert.deepEqual(
      json.models.map((m: { model: string; runs: number }) => [m.model, m.runs]),
      [
        ['baseline', 2],
        ['xception', 3],
      ],
    );
    for (const m of json.models) {
      const compare = (await get(`/api/experiments/${study.experimentId}/compare?model=${m.model}`)).json;
      // The same aggregates, grouped differently: equal but for the last bits of floating-point summation.
      assertClose(m.bands, compare.bands);
      assert.ok(m.bands.val.roc_auc.length > 0);
    }
  });
});
