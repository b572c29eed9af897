/**
 * claimNextRun under concurrency on PostgreSQL: FOR UPDATE SKIP LOCKED, two processes with several connections each.
 * (Concurrent claims on every backend, PGlite included, are in store.slow.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { claimNextRun, createOrResumeExperiment, type Database, ensureRuns, openDatabase } from '../../db/index.ts';
import { PROJECT_ROOT } from '../helpers/real-data.ts';
import { FINE_TUNES, MODEL_NAMES } from '../../study/models.ts';
import { pgUrlOrSkip, scratchPgDatabase, specFor } from './fixtures.ts';
import { first } from '../../common/indexing.ts';

const run = promisify(execFile);

/** An experiment with `perModel` runs of each model that fine-tunes none (every run is claimable at once). */
async function queue(database: Database, name: string, perModel: number): Promise<number> {
  const x = await createOrResumeExperiment(database, { name, config: {}, datasetFingerprint: null, datasetDir: null, codeVersion: null });
  const models = MODEL_NAMES.filter((m) => !FINE_TUNES[m]);
  await ensureRuns(
    database,
    x.id,
    models.flatMap((model) => Array.from({ length: perModel }, (_, i) => ({ model, runIndex: i, seed: i, spec: specFor(model, i) }))),
  );
  return x.id;
}

async function attemptsById(database: Database, experimentId: number): Promise<Map<number, number>> {
  const rows = await database.query<{ id: number; attempts: number }>('select id, attempts from runs where experiment_id = $1', [experimentId]);
  return new Map(rows.map((r) => [r.id, r.attempts]));
}

test('PostgreSQL: a run locked by another transaction is skipped, not waited for', async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const scratch = await scratchPgDatabase(server);
  const database = await openDatabase(scratch.url);
  const other = postgres(scratch.url, { max: 1, onnotice: () => {} });
  try {
    const experimentId = await queue(database, 'skip-locked', 2);
    const claimedWhileLocked = await other.begin(async (tx) => {
      const locked = first(await tx`select id from runs where experiment_id = ${experimentId} order by run_index, id limit 1 for update`);
      const claim = claimNextRun(database, experimentId, 'gpu:1');
      const timeout = new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5000).unref());
      const claimed = await Promise.race([claim, timeout]);
      assert.notEqual(claimed, 'blocked', 'the claim waited for the locked run instead of skipping it');
      assert.ok(claimed && claimed !== 'blocked');
      assert.notEqual(claimed.id, locked.id);
      return { locked: locked.id as number, claimed: claimed.id };
    });
    // Once the lock is gone, the skipped run is the next one claimed.
    assert.equal((await claimNextRun(database, experimentId, 'gpu:0'))?.id, claimedWhileLocked.locked);
  } finally {
    await other.end();
    await database.close();
    await scratch.drop();
  }
});

test('PostgreSQL: two processes claiming at once never get the same run', async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const scratch = await scratchPgDatabase(server);
  const database = await openDatabase(scratch.url);
  try {
    const experimentId = await queue(database, 'two-processes', 20); // 80 runs
    const child = (slot: string) =>
      run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/db/fixtures/claim-loop.ts'), scratch.url, String(experimentId), slot, '4'], {
        cwd: PROJECT_ROOT,
      }).then(({ stdout }) => JSON.parse(stdout) as number[]);
    const [a, b] = await Promise.all([child('hostA'), child('hostB')]);
    const all = [...a, ...b];
    const attempts = await attemptsById(database, experimentId);
    assert.equal(new Set(all).size, all.length, 'a run was handed out twice');
    assert.deepEqual(
      [...all].sort((x, y) => x - y),
      [...attempts.keys()].sort((x, y) => x - y),
    );
    assert.ok([...attempts.values()].every((n) => n === 1));
    t.diagnostic(`process A claimed ${a.length}, process B ${b.length}`);
  } finally {
    await database.close();
    await scratch.drop();
  }
});
