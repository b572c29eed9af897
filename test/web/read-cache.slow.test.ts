/**
 * The page's answers kept between requests (web/read-cache.ts) on PGlite: a read after a write sees the write,
 * whether the write names its run (an event) or not (a plain statement); a write to one run leaves another run's
 * kept answers in place; on PostgreSQL nothing is kept.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { claimNextRun, createOrResumeExperiment, ensureRuns, openDatabase, recordEvent, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { runEvents, specFor } from '../db/fixtures.ts';

let db: Database;
let server: RunningServer;

before(async () => {
  db = await openDatabase('memory://');
  server = await startServer({ db, port: 0, dataDir: null });
});
after(async () => {
  await server?.close();
  await db?.close();
});

const get = async (path: string) => (await fetch(server.url + path)).json();

test('a read after a write sees the write; a write to one run keeps the answers about another', async () => {
  const x = await createOrResumeExperiment(db, { name: 'cache', config: {}, datasetFingerprint: 'fp', datasetDir: '/d', codeVersion: 'v' });
  await ensureRuns(
    db,
    x.id,
    [0, 1].map((i) => ({ model: 'baseline' as const, runIndex: i, seed: i, spec: specFor('baseline', i) })),
  );
  const a = (await claimNextRun(db, x.id, 'cpu:0'))!;
  const b = (await claimNextRun(db, x.id, 'cpu:1'))!;
  const [ea, eb] = [runEvents(a.spec, 0.8), runEvents(b.spec, 0.8)];
  const epochs = async (runId: number) => (await get(`/api/runs/${runId}/epochs`)).epochs.length;

  assert.equal(await epochs(a.id), 0);
  assert.equal(await epochs(b.id), 0);
  await recordEvent(db, a.id, ea[1]!); // epoch 1 of run a
  assert.equal(await epochs(a.id), 1, 'an event of run a is seen in run a');
  assert.equal(await epochs(b.id), 0);

  // A write that names no run (a plain statement) is seen by every kept answer.
  await db.query(
    `insert into epoch_metrics select run_id + $1, epoch, split, loss, accuracy, precision, recall, roc_auc, pr_auc, seconds, learning_rate, improved
                  from epoch_metrics where run_id = $2`,
    [b.id - a.id, a.id],
  );
  assert.equal(await epochs(b.id), 1, 'an unscoped write is seen in run b');
  assert.equal((await get(`/api/experiments/${x.id}/compare?model=baseline`)).runs.filter((r: { epochs: unknown[] }) => r.epochs.length === 1).length, 2);

  // An event of run b changes the experiment-wide answers.
  await recordEvent(db, b.id, eb[2]!); // epoch 2 of run b
  const compare = await get(`/api/experiments/${x.id}/compare?model=baseline`);
  assert.deepEqual(compare.runs.map((r: { epochs: unknown[] }) => r.epochs.length).sort(), [1, 2]);

  // Kept: a write that says it touches run b only (here, untruthfully, deleting run a's epochs) leaves run a's
  // answer as it was read.
  assert.equal(await epochs(a.id), 1);
  await db.writes!.forRuns(async (mark) => {
    mark(b.id);
    await db.query('delete from epoch_metrics where run_id = $1', [a.id]);
  });
  assert.equal(await epochs(a.id), 1, "run a's epochs come from the cache");
  assert.equal((await get(`/api/experiments/${x.id}/compare?model=baseline`)).runs.find((r: { id: number }) => r.id === a.id).epochs.length, 0);
});

test('on PostgreSQL nothing is kept (no write log: other processes write)', { skip: !process.env.MELANOMA_TEST_PG_URL }, async () => {
  const { scratchPgDatabase } = await import('../db/fixtures.ts');
  const scratch = await scratchPgDatabase(process.env.MELANOMA_TEST_PG_URL!);
  const pg = await openDatabase(scratch.url);
  try {
    assert.equal(pg.writes, null);
  } finally {
    await pg.close();
    await scratch.drop();
  }
});
