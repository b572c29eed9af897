/**
 * The `orchestrate` command as a user runs it (a child process), with the fake thread task: output, exit codes,
 * kill -9 and Ctrl-C recovery, and the summary agreeing with `melanoma sql` over the metric_summary view.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { listRuns, type Database } from '../../db/index.ts';
import { toSummaryRows } from '../../orchestrator/store.ts';
import { formatSummary } from '../../orchestrator/summary.ts';
import {
  FAKE_THREAD,
  MELANOMA,
  type OrchestrateOptions,
  orchestrateArgv,
  runCli,
  startCli,
  tempDir,
  tinyDataset,
  waitForStderr,
} from '../orchestrator/helpers.ts';
import { first } from '../../common/indexing.ts';
import { withDatabase } from '../helpers/database.ts';

const data = await tinyDataset();
// One database folder for the whole file (a new one costs a PGlite initdb per process); each test its own experiment.
const db = join(tempDir('db'), 'db');

/** `orchestrate` on this file's data and database, polling every 50 ms. */
const args = (o: Omit<OrchestrateOptions, 'data' | 'db'>) => orchestrateArgv({ data, db, pollMs: 50, ...o });

async function experimentRuns(d: Database, name: string) {
  const { id } = first(await d.query<{ id: number }>('select id from experiments where name = $1', [name]));
  return listRuns(d, id);
}

async function tableCounts(d: Database, experiment: string): Promise<Record<string, number>> {
  const runs = `(select r.id from runs r join experiments e on e.id = r.experiment_id where e.name = $1)`;
  const row = first(
    await d.query<Record<string, number>>(
      `select (select count(*)::integer from runs where id in ${runs}) as runs,
            (select count(*)::integer from runs where id in ${runs} and status = 'completed') as completed,
            (select count(*)::integer from epoch_metrics where run_id in ${runs}) as epoch_rows,
            (select count(*)::integer from evaluations where run_id in ${runs}) as evaluations,
            (select count(*)::integer from (select 1 from epoch_metrics where run_id in ${runs} group by run_id, epoch, split having count(*) > 1) d) as duplicates`,
      [experiment],
    ),
  );
  return row;
}

test('usage and input errors exit non-zero with a message, before any run', async () => {
  const ft = await runCli(args({ models: ['baseline', 'xception-ft'] }));
  assert.equal(ft.code, 2);
  assert.match(ft.stderr, /'xception' must be in --models/);

  const noData = await runCli(['--data', join(data, 'missing'), '--db', db, '--thread-file', FAKE_THREAD]);
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, /does not exist[\s\S]*Kaggle/);
  assert.doesNotMatch(noData.stderr, /\n\s+at /); // no stack trace

  // Without --thread-file the real preflight runs: the Xception weights are in neither the cache nor ../shared, and
  // their download fails (port 9 is one fetch refuses to connect to).
  const weights = await runCli(['--data', data, '--db', db, '--models', 'baseline,xception', '--runs', '1'], {
    MELANOMA_WEIGHTS: tempDir('weights'),
    MELANOMA_WEIGHTS_URL: 'http://127.0.0.1:9',
  });
  assert.equal(weights.code, 1);
  assert.match(weights.stderr, /melanoma weights download xception/);
  assert.match(weights.stderr, /--models baseline,augmented,mobilenet,mobilenet-ft/);
});

test('kill -9 mid-study, then the same command: finished runs kept, the rest redone, no epoch row duplicated or lost', async () => {
  const argv = args({ runs: 3, models: ['baseline', 'augmented'], epochs: 4, workers: 2, experiment: 'k9' });
  const env = { FAKE_THREAD_DELAY_MS: '150' };
  const first = startCli(argv, env);
  // Kill it once one run has completed and others are half-way through their epochs.
  await waitForStderr(first, (s) => /completed in/.test(s) && /epoch 2\/4/.test(s.slice(s.indexOf('completed in'))));
  first.child.kill('SIGKILL');
  const killed = await first.done;
  assert.equal(killed.signal, 'SIGKILL');
  const before = await withDatabase(db, async (d) =>
    (await experimentRuns(d, 'k9')).filter((r) => r.status === 'completed').map((r) => [r.runId, r.finishedAt?.toISOString()]),
  );
  assert.ok(before.length >= 1 && before.length < 6, `completed before the kill: ${before.length}`);

  const second = await runCli(argv, { FAKE_THREAD_DELAY_MS: '5' });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, new RegExp(`${before.length} already completed`));
  await withDatabase(db, async (d) => {
    assert.deepEqual(await tableCounts(d, 'k9'), { runs: 6, completed: 6, epoch_rows: 6 * 4 * 2, evaluations: 6 * 3, duplicates: 0 });
    const runs = await experimentRuns(d, 'k9');
    // The runs finished before the kill were not run again.
    for (const [id, finishedAt] of before) assert.equal(runs.find((r) => r.runId === id)!.finishedAt?.toISOString(), finishedAt);
    assert.ok(runs.every((r) => r.epochs === 4));
  });
});

test('Ctrl-C: runs in flight are recorded interrupted, exit 130; the next invocation finishes them', async () => {
  const argv = args({ runs: 2, models: ['baseline'], epochs: 3, workers: 2, experiment: 'int' });
  const first = startCli(argv, { FAKE_THREAD_DELAY_MS: '2000' });
  await waitForStderr(first, (s) => (s.match(/started/g) ?? []).length >= 2);
  first.child.kill('SIGINT');
  const stopped = await first.done;
  assert.equal(stopped.code, 130, stopped.stderr);
  await withDatabase(db, async (d) =>
    assert.deepEqual(
      (await experimentRuns(d, 'int')).map((r) => r.status),
      ['interrupted', 'interrupted'],
    ),
  );

  const second = await runCli(argv, { FAKE_THREAD_DELAY_MS: '5' });
  assert.equal(second.code, 0, second.stderr);
  await withDatabase(db, async (d) =>
    assert.deepEqual(await tableCounts(d, 'int'), { runs: 2, completed: 2, epoch_rows: 2 * 3 * 2, evaluations: 2 * 3, duplicates: 0 }),
  );
});

test('the summary printed is the metric_summary view as `melanoma sql` reads it; --json prints one document; a failed run exits 1', async () => {
  const faults = JSON.stringify([{ model: 'augmented', runIndex: 1, kind: 'throw' }]);
  const argv = [...args({ runs: 3, models: ['baseline', 'augmented'], epochs: 2, workers: 2, experiment: 'sum' }), '--seed', '1'];
  const run = await runCli(argv, { FAKE_THREAD_FAULTS: faults, FAKE_THREAD_SEED0: '1' });
  assert.equal(run.code, 1, run.stderr);
  // The final table lists every failed attempt with its error, whether it was retried or not.
  assert.match(run.stdout, /Failed attempts: 2\n/);
  assert.match(run.stdout, /\naugmented\s+1\s+1\s+cpu\d\s+yes\s+fake: injected failure in augmented seed 2\n/);
  assert.match(run.stdout, /\naugmented\s+1\s+2\s+cpu\d\s+no\s+fake: injected failure in augmented seed 2\n/);
  // Both attempts' errors are in the database, for `melanoma sql`.
  const attempts = await runCli(
    [
      'sql',
      '--db',
      db,
      '--json',
      "select f.attempt, f.retried, f.error from failed_attempts f join runs r on r.id = f.run_id join experiments e on e.id = r.experiment_id where e.name = 'sum' order by f.attempt",
    ],
    {},
    MELANOMA,
  );
  assert.equal(attempts.code, 0, attempts.stderr);
  assert.deepEqual(JSON.parse(attempts.stdout), [
    { attempt: 1, retried: true, error: 'fake: injected failure in augmented seed 2' },
    { attempt: 2, retried: false, error: 'fake: injected failure in augmented seed 2' },
  ]);

  const sql = await runCli(
    [
      'sql',
      '--db',
      db,
      '--json',
      "select model, split, metric, n, mean, stddev from metric_summary where experiment = 'sum' order by model desc, array_position(array['train', 'val', 'test'], split)",
    ],
    {},
    MELANOMA,
  );
  assert.equal(sql.code, 0, sql.stderr);
  const viewRows = JSON.parse(sql.stdout);
  assert.equal(viewRows.length, 2 * 3 * 6);
  const table = formatSummary(
    toSummaryRows(
      viewRows.map((r: { mean: unknown; stddev: unknown; n: unknown }) => ({
        ...r,
        n: Number(r.n),
        mean: Number(r.mean),
        stddev: r.stddev === null ? null : Number(r.stddev),
      })),
    ),
  );
  assert.ok(run.stdout.includes(table), `printed:\n${run.stdout}\nview:\n${table}`);
  assert.match(table, /augmented {2}test {3}2 /);

  // Everything is done: rerunning retries the failed run (it fails again) and prints the same summary as JSON only.
  const json = await runCli([...argv, '--json'], { FAKE_THREAD_FAULTS: faults, FAKE_THREAD_SEED0: '1' });
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual(Object.keys(doc), ['experiment', 'counts', 'runs', 'failedAttempts', 'summary']);
  assert.deepEqual(
    doc.failedAttempts.map((f: { attempt: number; retried: boolean }) => `${f.attempt} ${f.retried}`),
    ['1 true', '2 false', '3 true', '4 false'],
  );
  assert.equal(doc.experiment.name, 'sum');
  assert.equal(doc.runs.length, 6);
  assert.equal(doc.runs.find((r: { model: string; runIndex: number }) => r.model === 'augmented' && r.runIndex === 1).attempts, 4);
  assert.equal(formatSummary(doc.summary), table);
});

test('--serve: the results page serves this database while and after the runs, until Ctrl-C (exit code of the study)', async () => {
  const argv = [...args({ runs: 1, models: ['baseline'], epochs: 2, workers: 1, experiment: 'served' }), '--serve', '--port', '0'];
  const served = startCli(argv);
  await waitForStderr(served, (s) => /Ctrl-C to stop/.test(s));
  const url = /results: (http:\/\/\S+)/.exec(served.stderrSoFar())![1];
  const experiments = (await (await fetch(`${url}/api/experiments`)).json()) as { name: string }[];
  assert.ok(experiments.some((e) => e.name === 'served'));
  served.child.kill('SIGINT');
  const finished = await served.done;
  assert.equal(finished.code, 0, finished.stderr);
  assert.match(finished.stdout, /baseline +test +1 /);
});
