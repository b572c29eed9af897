/**
 * `melanoma rescore`: a metric missing from completed runs' final evaluations (as for runs recorded before it was
 * defined) comes back from their stored predictions as the runs themselves stored it; stored values never change, and
 * a split whose predictions do not give its stored confusion matrix is left alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { openDatabase } from '../../../db/index.ts';
import { METRIC_NAMES } from '../../../study/run.ts';
import { tempDir } from '../../db/fixtures.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';
import { buildExperiment, smallStudy } from '../../web/fixtures.ts';

const exec = promisify(execFile);

async function melanoma(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await exec(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), ...args], { cwd: PROJECT_ROOT, timeout: 120_000 });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

let folder = '';
type Row = { run_id: number; split: string; metric: string; value: number };
/** Every stored metric value, one row each. */
const VALUES = `select run_id, split, m.metric, m.value from evaluations
  cross join lateral (values ${METRIC_NAMES.map((m) => `('${m}', "${m}")`).join(', ')}) as m(metric, value)
  where m.value is not null order by run_id, split, m.metric`;

before(async () => {
  folder = join(tempDir('rescore'), 'db');
  const database = await openDatabase(folder);
  await buildExperiment(database, smallStudy('study'));
  await database.close();
});

after(() => rmSync(dirname(folder), { recursive: true, force: true }));

test('the metrics the runs lack come back from their predictions as the runs stored them; the rest stays', async () => {
  let database = await openDatabase(folder);
  const stored = await database.query<Row>(VALUES);
  // Runs recorded before specificity and PR AUC existed; one run's test precision changed by hand stays changed.
  await database.query('update evaluations set specificity = null, pr_auc = null');
  await database.query("update evaluations set precision = 0.5 where split = 'test' and run_id = (select min(run_id) from evaluations)");
  await database.close();

  const r = await melanoma('rescore', '--experiment', 'study', '--db', folder);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /run \d+ \(baseline #0\): train specificity 0\.\d{4}, pr_auc 0\.\d{4}/);
  assert.match(r.stderr, /'study': 24 metric values added\./, '4 completed runs x 3 splits x 2 metrics');

  database = await openDatabase(folder, { create: false });
  const after = await database.query<Row>(VALUES);
  await database.close();
  const changed = after.filter((a) => {
    const b = stored.find((s) => s.run_id === a.run_id && s.split === a.split && s.metric === a.metric)!;
    return a.value !== b.value;
  });
  assert.deepEqual(
    changed.map((c) => [c.split, c.metric, c.value]),
    [['test', 'precision', 0.5]],
    'every other value as stored, to the bit',
  );
  assert.equal(after.length, stored.length);

  const again = await melanoma('rescore', '--experiment', 'study', '--db', folder);
  assert.match(again.stderr, /'study': 0 metric values added\./);
});

test('a split whose predictions do not give its stored confusion matrix is left alone, and the command fails', async () => {
  let database = await openDatabase(folder, { create: false });
  await database.query("update evaluations set specificity = null where split = 'val'");
  await database.query("update evaluations set tp = tp + 1 where split = 'val' and run_id = (select min(run_id) from evaluations)");
  await database.close();
  const r = await melanoma('rescore', '--experiment', 'study', '--db', folder);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /val left alone, its stored predictions do not give its stored confusion matrix/);
  assert.match(r.stderr, /'study': 3 metric values added/);
  database = await openDatabase(folder, { create: false });
  const [left] = await database.query<{ n: number }>("select count(specificity)::integer as n from evaluations where split = 'val'");
  await database.close();
  assert.equal(left!.n, 3);
  assert.match((await melanoma('rescore', '--experiment', 'nope', '--db', folder)).stderr, /no experiment named 'nope'/);
});
