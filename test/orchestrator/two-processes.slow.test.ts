/** Two orchestrator processes on one PostgreSQL database split one experiment without running any run twice. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listRuns, openDatabase } from '../../db/index.ts';
import { pgUrlOrSkip, scratchPgDatabase } from '../db/fixtures.ts';
import { orchestrateArgv, startCli, tinyDataset, waitForStderr } from './helpers.ts';

test('two orchestrators on one PostgreSQL: each run is done exactly once', async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const scratch = await scratchPgDatabase(server);
  try {
    const argv = orchestrateArgv({
      data: await tinyDataset(),
      db: scratch.url,
      pollMs: 50,
      runs: 4,
      models: ['mobilenet', 'mobilenet-ft'],
      epochs: 3,
      workers: 2,
      experiment: 'shared',
    });
    const env = { FAKE_THREAD_DELAY_MS: '1000' };
    const a = startCli(argv, env);
    // The second starts while the first holds running runs: it must not take them back.
    await waitForStderr(a, (s) => /epoch 1\/3/.test(s));
    const b = startCli(argv, env);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);

    const completedBy = (out: string) => [...out.matchAll(/\] (\S+ run \d+): completed/g)].map((m) => m[1]);
    const done = [...completedBy(ra.stderr), ...completedBy(rb.stderr)].sort();
    assert.equal(done.length, 8, `completions: ${done.join(', ')}`);
    assert.equal(new Set(done).size, 8);
    assert.ok(completedBy(rb.stderr).length > 0, 'the second process did some of the work');

    const database = await openDatabase(scratch.url);
    try {
      const runs = await listRuns(database, (await database.query<{ id: number }>(`select id from experiments where name = 'shared'`))[0]!.id);
      assert.deepEqual(
        runs.map((r) => `${r.status}/${r.attempts}/${r.epochs}`),
        Array(8).fill('completed/1/3'),
      );
    } finally {
      await database.close();
    }
  } finally {
    await scratch.drop();
  }
});
