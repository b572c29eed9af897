/** `melanoma summary`: the study table of metric_summary, the operating points and the calibration of the stored predictions. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { openDatabase } from '../../../db/index.ts';
import { operatingPoints } from '../../../study/operating-points.ts';
import { calibrationStats, fitTemperature } from '../../../study/probability-calibration.ts';
import { tempDir } from '../../db/fixtures.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';
import { buildExperiment, oneClassStudy, smallStudy, type BuiltExperiment } from '../../web/fixtures.ts';

const exec = promisify(execFile);

async function summary(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), 'summary', ...args], {
      cwd: PROJECT_ROOT,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let folder = '';
let study: BuiltExperiment;
type Stored = { labels: number[]; probabilities: number[] };
const stored: Record<number, { val: Stored; test: Stored }> = {};
let sql: { model: string; metric: string; n: number; mean: number; stddev: number | null }[] = [];

before(async () => {
  folder = join(tempDir('summary'), 'db');
  const database = await openDatabase(folder);
  study = await buildExperiment(database, smallStudy('study-224'));
  await buildExperiment(database, oneClassStudy('newest'));
  sql = await database.query("select model, metric, n, mean, stddev from metric_summary where experiment_id = $1 and split = 'test'", [study.experimentId]);
  for (const id of study.runIds) {
    const split = async (s: string) => {
      const rows = await database.query<{ label: number; probability: number }>(
        'select label, probability from predictions where run_id = $1 and split = $2 order by image',
        [id, s],
      );
      return { labels: rows.map((r) => r.label), probabilities: rows.map((r) => Math.fround(r.probability)) };
    };
    stored[id] = { val: await split('val'), test: await split('test') };
  }
  await database.close();
});

after(() => rmSync(dirname(folder), { recursive: true, force: true }));

test("--json: the test rows of metric_summary, and each completed run's operating points from its stored predictions", async () => {
  const r = await summary('--experiment', 'study-224', '--db', folder, '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.experiment, { id: study.experimentId, name: 'study-224' });
  assert.deepEqual(
    doc.summary.map((s: { model: string; split: string; n: number }) => [s.model, s.split, s.n]),
    [
      ['baseline', 'test', 2],
      ['xception', 'test', 2],
    ],
  );
  for (const row of sql) {
    const s = doc.summary.find((x: { model: string }) => x.model === row.model);
    // The same aggregate, read twice: equal to the last bits of the database's floating-point summation order.
    assert.ok(Math.abs(s.mean[row.metric] - row.mean) < 1e-12, `${row.model} ${row.metric} mean`);
    assert.ok(Math.abs(s.std[row.metric] - row.stddev!) < 1e-12, `${row.model} ${row.metric} std`);
  }
  const completed = [0, 1, 3, 4].map((i) => study.runIds[i]);
  assert.deepEqual(
    doc.operatingPoints.runs.map((x: { runId: number }) => x.runId),
    completed,
  );
  for (const run of doc.operatingPoints.runs) assert.deepEqual(run.points, operatingPoints(stored[run.runId]!.val, stored[run.runId]!.test));
  assert.match(doc.operatingPoints.rule, /p > t/);
});

test("the tables: 4 places, the page's mean ± std, the operating points per model; the newest experiment by default", async () => {
  const r = await summary('--experiment', 'study-224', '--db', folder);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse((await summary('--experiment', 'study-224', '--db', folder, '--json')).stdout);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], "Experiment 'study-224': test split, mean ± sample std over completed runs (n = runs)");
  const auc = sql.find((s) => s.model === 'xception' && s.metric === 'roc_auc')!;
  const xceptionRow = lines.find((l) => l.startsWith('xception  test'))!;
  assert.ok(xceptionRow.includes(`${auc.mean.toFixed(4)} ± ${auc.stddev!.toFixed(4)}`), xceptionRow);
  const p = doc.operatingPoints.models[0].points[1];
  const row = lines.find((l) => l.startsWith('baseline') && l.includes('sensitivity at specificity ≥ 0.90'))!;
  assert.ok(row, r.stdout);
  assert.deepEqual(row.split(/ {2,}/).slice(1), [
    '2',
    'sensitivity at specificity ≥ 0.90',
    `${p.threshold.mean.toFixed(4)} ± ${p.threshold.std.toFixed(4)}`,
    `${p.sensitivity.mean.toFixed(4)} ± ${p.sensitivity.std.toFixed(4)}`,
    `${p.specificity.mean.toFixed(4)} ± ${p.specificity.std.toFixed(4)}`,
    `${p.ppv.mean.toFixed(4)} ± ${p.ppv.std.toFixed(4)}`,
  ]);
  assert.equal(lines.filter((l) => /^(baseline|xception) +2 +(sensitivity|specificity) at/.test(l)).length, 10, 'five operating points per model');

  // Without --experiment: the newest experiment; its one run has no val malignant image, so no sensitivity target.
  const newest = await summary('--db', folder);
  assert.equal(newest.code, 0, newest.stderr);
  assert.match(newest.stdout, /^Experiment 'newest'/);
  assert.match(newest.stdout, /mobilenet: 1 run\(s\) have no threshold for specificity at sensitivity ≥ 0\.90 \(their val split lacks the class\)\./);
});

test('an unknown experiment or database is a one-line error, exit 1', async () => {
  const r = await summary('--experiment', 'nope', '--db', folder);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `melanoma: no experiment named 'nope' in ${folder}.\n`);
  const missing = await summary('--db', join(dirname(folder), 'absent'));
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  const help = await summary('--help');
  assert.match(help.stdout, /Examples:\n {2}melanoma summary\n/);
});

test("calibration: each run's numbers from its stored predictions, the test table per model and ensemble", async () => {
  const doc = JSON.parse((await summary('--experiment', 'study-224', '--db', folder, '--json')).stdout);
  const completed = [0, 1, 3, 4].map((i) => study.runIds[i]);
  assert.deepEqual(
    doc.calibration.runs.map((x: { runId: number }) => x.runId),
    completed,
  );
  for (const run of doc.calibration.runs) {
    const { val, test } = stored[run.runId]!;
    assert.equal(run.test.before.brier, calibrationStats(test).brier);
    assert.equal(run.val.before.ece, calibrationStats(val).ece);
    assert.equal(run.temperature, fitTemperature(val));
  }
  const lines = (await summary('--experiment', 'study-224', '--db', folder)).stdout.split('\n');
  const text = lines.slice(lines.findIndex((l) => l.startsWith('Calibration of the probabilities')));
  const m = doc.calibration.models[1];
  const row = text.find((l) => l.startsWith('xception  '))!;
  assert.deepEqual(row.split(/ {2,}/).slice(1), [
    '2',
    `${m.temperature.mean.toFixed(4)} ± ${m.temperature.std.toFixed(4)}`,
    ...['brier', 'brierScaled', 'ece', 'eceScaled'].map((k) => `${m.test[k].mean.toFixed(4)} ± ${m.test[k].std.toFixed(4)}`),
  ]);
  const ensemble = text.find((l) => l.startsWith('xception ensemble'))!;
  assert.equal(ensemble.split(/ {2,}/)[4], m.ensemble.test.after.brier.toFixed(4));
});
