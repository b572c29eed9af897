/**
 * Two orchestrators' run stores on one PostgreSQL database (skipped loudly without MELANOMA_TEST_PG_URL): the live
 * heartbeat of one keeps the other from taking its run back; once it falls silent past the lease the other takes
 * the run, and the stalled one's outcome is refused and dropped. A store that joins an experiment only claims runs.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { UserError } from '../../common/errors.ts';
import { type Database, getRun, openDatabase, runEvaluations } from '../../db/index.ts';
import { LostRunLeaseError } from '../../db/run-leases.ts';
import { openStore, type RunStore } from '../../orchestrator/store.ts';
import type { RunResult } from '../../study/run.ts';
import { pgUrlOrSkip, runEvents, scratchPgDatabase, specFor } from '../db/fixtures.ts';

const storeOptions = {
  experiment: 'leases',
  config: { seed: 1 },
  datasetDir: '/data',
  datasetFingerprint: 'fp',
  retries: 2,
  runs: [{ model: 'baseline' as const, runIndex: 0, seed: 1, spec: specFor('baseline', 1) }],
  heartbeatMs: 100,
  staleAfterSeconds: 1,
};

const resultOf = (events: ReturnType<typeof runEvents>) => events.flatMap((e) => (e.type === 'final' ? [e.result] : []))[0] as RunResult;

test('a live heartbeat keeps a peer from taking the run; a silent holder loses it and its outcome is dropped', async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const scratch = await scratchPgDatabase(server);
  const databases: Database[] = [];
  const stores: RunStore[] = [];
  const warnings: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (String(chunk).startsWith('warning:')) warnings.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    const open = async () => {
      const database = await openDatabase(scratch.url);
      databases.push(database);
      const store = await openStore(database, storeOptions);
      stores.push(store);
      return store;
    };
    const a = await open();
    const claim = (await a.claimNextRun('gpu0'))!;
    assert.equal(claim.attempt, 1);
    const b = await open();
    assert.notEqual(a.owner, b.owner);
    assert.equal(await b.claimNextRun('gpu1'), null, 'the run is taken');

    // A beats every 100 ms: two lease lengths later, B still leaves its run alone.
    await sleep(2200);
    assert.equal(await b.hasUnfinishedRuns(), true);
    assert.equal(await b.claimNextRun('gpu1'), null);
    const events = runEvents(claim.spec, 0.6);
    for (const e of events.slice(0, 2)) await a.recordEvent(claim, e);

    // A stalls (no heartbeat) past the lease: B takes the run back and runs it.
    a.close();
    await sleep(1500);
    assert.equal(await b.hasUnfinishedRuns(), true);
    const again = (await b.claimNextRun('gpu1'))!;
    assert.deepEqual([again.runId, again.attempt], [claim.runId, 2]);
    for (const e of events.slice(0, 3)) await b.recordEvent(again, e);

    // A wakes up: its writes are refused, its failure is reported and dropped, B's run is untouched.
    await assert.rejects(a.recordEvent(claim, events[2]!), LostRunLeaseError);
    await assert.rejects(a.completeRun(claim, resultOf(runEvents(claim.spec, 0.1))), LostRunLeaseError);
    assert.deepEqual(await a.failRun(claim, 'stalled'), { willRetry: false });
    await a.markInterrupted(claim);
    assert.equal(warnings.length, 2, warnings.join(''));
    assert.match(warnings[0]!, new RegExp(`run ${claim.runId} is no longer held by ${a.owner} \\(it is running, held by ${b.owner}\\)`));
    assert.match(warnings[1]!, new RegExp(`run ${claim.runId} was taken back by another orchestrator`));
    const mid = (await getRun(databases[1]!, claim.runId))!;
    assert.deepEqual([mid.status, mid.owner, mid.error, mid.slot], ['running', b.owner, null, 'gpu1']);

    await b.completeRun(again, resultOf(events));
    const done = (await getRun(databases[1]!, claim.runId))!;
    assert.deepEqual([done.status, done.owner, done.attempts], ['completed', null, 2]);
    assert.equal((await runEvaluations(databases[1]!, claim.runId)).find((e) => e.split === 'test')?.metrics.roc_auc, 0.6);
    assert.equal(await b.hasUnfinishedRuns(), false);
  } finally {
    process.stderr.write = write;
    for (const s of stores) s.close();
    for (const d of databases) await d.close();
    await scratch.drop();
  }
});

test('a joining store needs the experiment, adds no run, leaves a failed run failed, and records its Slurm job', async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const scratch = await scratchPgDatabase(server);
  const database = await openDatabase(scratch.url);
  const stores: RunStore[] = [];
  try {
    await assert.rejects(
      openStore(database, { ...storeOptions, join: true }),
      (err: Error) => err instanceof UserError && /experiment 'leases' is not in the database, and joining one \(--join\) never creates it/.test(err.message),
    );
    const first = await openStore(database, storeOptions);
    stores.push(first);
    const run = (await first.claimNextRun('cpu0'))!;
    assert.deepEqual(await first.failRun(run, 'out of memory', { retryable: false }), { willRetry: false });

    const planned = [...storeOptions.runs, { model: 'augmented' as const, runIndex: 0, seed: 1, spec: specFor('augmented', 1) }];
    const joined = await openStore(database, { ...storeOptions, runs: planned, join: true, slurmJob: '812_1' });
    stores.push(joined);
    assert.equal(joined.experimentId, first.experimentId);
    assert.equal(await joined.claimNextRun('cpu0'), null, 'the failed run stays failed, the augmented run was not added');
    assert.deepEqual((await getRun(database, run.runId))!.status, 'failed');

    const again = await openStore(database, { ...storeOptions, runs: planned, slurmJob: '812_2' });
    stores.push(again);
    const retried = (await again.claimNextRun('gpu0'))!;
    assert.equal(retried.runId, run.runId, 'the same command again, not joining, retries it');
    const held = (await getRun(database, retried.runId))!;
    assert.deepEqual([held.slurmJob, held.host, held.slot], ['812_2', hostname(), 'gpu0']);
  } finally {
    for (const s of stores) s.close();
    await database.close();
    await scratch.drop();
  }
});
