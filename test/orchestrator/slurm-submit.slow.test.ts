/**
 * `orchestrate --slurm` with a stand-in sbatch on the PATH (fixtures/fake-slurm/), on a PostgreSQL server: the
 * experiment stored before submission (nothing when sbatch refuses the script), then two array tasks run from the
 * written script, each joining it, every run done once. scripts/slurm-test-cluster.sh runs the same on a real Slurm
 * cluster (slurm-cluster.slow.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../db/index.ts';
import { pgUrlOrSkip, scratchPgDatabase } from '../db/fixtures.ts';
import { orchestrateArgv, runCli, startProcess, tempDir, tinyDataset, waitForStderr } from './helpers.ts';

const FAKE_SLURM = join(import.meta.dirname, 'fixtures', 'fake-slurm');

test("submitted through sbatch, the job's tasks join the stored experiment and do every run once, retrying no failed one", async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const scratch = await scratchPgDatabase(server);
  try {
    const submitted = tempDir('sbatch');
    const url = new URL(scratch.url);
    url.password = 'not-written'; // the test server trusts 127.0.0.1: a password passes unused
    const env = { PATH: `${FAKE_SLURM}:${process.env.PATH}`, FAKE_SBATCH_DIR: submitted };
    const data = await tinyDataset();
    const study = orchestrateArgv({ data, db: url.href, models: ['baseline', 'augmented'], runs: 2, epochs: 2, experiment: 'array', pollMs: 50 });
    const argv = [...study, '--slurm', '2', '--lease', '5'];
    const refused = await runCli([...argv, '--', '--partition=nope'], { ...env, FAKE_SBATCH_REFUSE: 'invalid partition specified: nope' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /orchestrate: --slurm: sbatch refused \S+job\.sbatch: sbatch: error: invalid partition specified: nope/);

    const done = await runCli([...argv, '--', '--time=0:10:00'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^Slurm job 900: 2 array task\(s\) 900_0 \.\. 900_1, script \S+\/array\/slurm\/job\.sbatch/);
    assert.match(
      done.stdout,
      /results: `npx melanoma serve --db postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+` serves them at http:\/\/127\.0\.0\.1:8080\/experiments\/\d+/,
    );
    const script = readFileSync(join(submitted, 'submitted.sbatch'), 'utf8');
    assert.ok(!script.includes('not-written'), 'the password is not in the script');
    assert.equal(readFileSync(join(submitted, 'pgpassword'), 'utf8'), 'not-written', 'sbatch passes it on as $PGPASSWORD');
    assert.match(script, /#SBATCH --time=0:10:00/);

    const database = await openDatabase(scratch.url);
    try {
      const runs = () =>
        database.query<{ model: string; run_index: number; status: string; attempts: number; slurm_job: string | null }>(
          'select model, run_index, status, attempts, slurm_job from runs order by model, run_index',
        );
      assert.deepEqual(
        (await runs()).map((r) => r.status),
        Array(4).fill('pending'),
        'stored before submission, the refused one included',
      );
      // A run that failed for good before these tasks start: joining tasks leave it failed.
      await database.query(`update runs set status = 'failed', attempts = 2, error = 'out of memory' where model = 'augmented' and run_index = 1`);
      // The array's tasks, as Slurm starts them: the script under bash in each task's environment.
      const arrayTask = (i: number) =>
        startProcess('bash', [join(submitted, 'submitted.sbatch')], {
          SLURM_JOB_ID: String(901 + i),
          SLURM_ARRAY_JOB_ID: '900',
          SLURM_ARRAY_TASK_ID: String(i),
          SLURM_CPUS_ON_NODE: '1',
          FAKE_THREAD_DELAY_MS: '1000',
        });
      const first = arrayTask(0);
      await waitForStderr(first, (s) => /started/.test(s));
      const second = arrayTask(1);
      const [a, b] = await Promise.all([first.done, second.done]);
      assert.equal(a.code, 1, `the study is incomplete: ${a.stderr}`);
      assert.equal(b.code, 1, b.stderr);
      assert.match(a.stderr, /experiment 'array' \(id \d+\).*slots: cpu0;.*; Slurm job 900_0 on /);
      const rows = await runs();
      assert.deepEqual(
        rows.map((r) => `${r.model} ${r.run_index} ${r.status} ${r.attempts}`),
        ['augmented 0 completed 1', 'augmented 1 failed 2', 'baseline 0 completed 1', 'baseline 1 completed 1'],
      );
      assert.deepEqual([...new Set(rows.filter((r) => r.status === 'completed').map((r) => r.slurm_job))].sort(), ['900_0', '900_1'], 'both tasks did runs');
    } finally {
      await database.close();
    }
  } finally {
    await scratch.drop();
  }
});
