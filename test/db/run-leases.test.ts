/**
 * Run ownership: a claim makes the caller the run's owner; only the owner records its events and outcome; a live
 * heartbeat keeps a peer's reset away, a stale one lets the peer take the run back. On PGlite in memory and on
 * PostgreSQL (skipped loudly without MELANOMA_TEST_PG_URL).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import {
  claimNextRun,
  createOrResumeExperiment,
  type Database,
  ensureRuns,
  finishRun,
  getRun,
  markInterrupted,
  recordEvent,
  runEpochs,
  runEvaluations,
  runLogMessages,
} from '../../db/index.ts';
import { heartbeat, LostRunLeaseError, newOwnerId, requeueRun, resetStaleRuns } from '../../db/run-leases.ts';
import { type Backend, backends, pgUrlOrSkip, runEvents, specFor } from './fixtures.ts';

const LEASE_SECONDS = 60;

/** Ages a run's heartbeat (and its last event) as if its owner had been silent for `seconds`. */
const silence = (database: Database, runId: number, seconds: number) =>
  database.query(
    `update runs set heartbeat_at = now() - make_interval(secs => $2), last_event_at = now() - make_interval(secs => $2) where id = $1`,
    [runId, seconds],
  );

const ownerOf = async (database: Database, runId: number) =>
  (await database.query<{ owner: string | null; status: string }>('select owner, status from runs where id = $1', [runId]))[0];

for (const b of backends().filter((x) => x.name !== 'PGlite folder')) {
  describe(b.name, () => {
    let backend: Backend | null = null;
    let database: Database;
    before(async () => {
      backend = await b.make();
      if (backend) database = await backend.open();
    });
    after(async () => {
      await database?.close();
      await backend?.cleanup();
    });
    const it = (name: string, fn: (t: TestContext) => Promise<void>) =>
      test(name, async (t) => {
        if (!backend) return void pgUrlOrSkip(t);
        await fn(t);
      });

    async function experimentWith(name: string, runs: number) {
      const x = await createOrResumeExperiment(database, { name, config: {}, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });
      await ensureRuns(database, x.id, Array.from({ length: runs }, (_, i) => ({ model: 'baseline' as const, runIndex: i, seed: i, spec: specFor('baseline', i) })));
      return x.id;
    }

    it('a claim sets the owner and the heartbeat; finishing clears the owner', async () => {
      const experimentId = await experimentWith('owned', 1);
      const a = newOwnerId();
      assert.match(a, /^[^:]+:\d+:[0-9a-f]{8}$/);
      const run = (await claimNextRun(database, experimentId, 'cpu0', { owner: a }))!;
      assert.equal(run.owner, a);
      assert.ok(run.heartbeatAt instanceof Date);
      assert.deepEqual(await heartbeat(database, a), [run.id]);
      assert.deepEqual(await heartbeat(database, newOwnerId()), []);
      for (const event of runEvents(run.spec, 0.8)) await recordEvent(database, run.id, event, a);
      const done = await finishRun(database, run.id, { status: 'completed' }, a);
      assert.deepEqual([done.status, done.owner], ['completed', null]);
      assert.deepEqual(await heartbeat(database, a), []);
    });

    it('a stale owner cannot write to or finish a run a peer has re-claimed', async () => {
      const experimentId = await experimentWith('stale-owner', 1);
      const [a, b] = [newOwnerId(), newOwnerId()];
      const first = (await claimNextRun(database, experimentId, 'gpu0', { owner: a }))!;
      const events = runEvents(first.spec, 0.6);
      for (const e of events.slice(0, 2)) await recordEvent(database, first.id, e, a);

      // A stalls past the lease; B starts, takes the run back and claims it again.
      await silence(database, first.id, LEASE_SECONDS + 5);
      assert.deepEqual(await resetStaleRuns(database, experimentId, { staleAfterSeconds: LEASE_SECONDS }), [first.id]);
      assert.deepEqual(await ownerOf(database, first.id), { owner: null, status: 'pending' });
      await assert.rejects(finishRun(database, first.id, { status: 'failed', error: 'late' }, a), LostRunLeaseError);
      const again = (await claimNextRun(database, experimentId, 'gpu1', { owner: b }))!;
      assert.deepEqual([again.id, again.owner, again.attempts], [first.id, b, 2]);
      for (const e of events.slice(0, 2)) await recordEvent(database, again.id, e, b);

      // A wakes up: every write is refused with an error naming the new holder, and nothing of B's changes.
      const lost = (err: unknown) => {
        assert.ok(err instanceof LostRunLeaseError);
        assert.equal(err.runId, first.id);
        assert.equal(err.holder, b);
        assert.match(err.message, new RegExp(`run ${first.id} is no longer held by ${a} \\(it is running, held by ${b}\\)`));
        return true;
      };
      const lateEvents = runEvents(first.spec, 0.1);
      for (const e of lateEvents) await assert.rejects(recordEvent(database, first.id, e, a), lost);
      await assert.rejects(finishRun(database, first.id, { status: 'completed' }, a), lost);
      await assert.rejects(finishRun(database, first.id, { status: 'failed', error: 'stale' }, a), lost);
      assert.equal(await requeueRun(database, first.id, 'stale', a), false);
      assert.equal(await markInterrupted(database, [first.id], a), 0);
      assert.deepEqual(await heartbeat(database, a), []);
      const stillB = (await getRun(database, first.id))!;
      assert.deepEqual([stillB.status, stillB.slot, stillB.error, stillB.finishedAt], ['running', 'gpu1', null, null]);
      assert.deepEqual(await ownerOf(database, first.id), { owner: b, status: 'running' });
      assert.equal((await runEpochs(database, first.id)).length, 2, "only B's first epoch (train and val)");

      // B finishes with its own results.
      for (const e of events.slice(2)) await recordEvent(database, again.id, e, b);
      await finishRun(database, again.id, { status: 'completed' }, b);
      assert.equal((await getRun(database, first.id))!.status, 'completed');
      assert.equal((await runEvaluations(database, first.id)).find((e) => e.split === 'test')?.rocAuc, 0.6);
      assert.deepEqual((await runLogMessages(database, first.id)).map((l) => l.attempt), [2]);
    });

    it("a live heartbeat protects a run from a second orchestrator's reset; a silent one does not", async () => {
      const experimentId = await experimentWith('live-heartbeat', 2);
      const [a, dead] = [newOwnerId(), newOwnerId()];
      const live = (await claimNextRun(database, experimentId, 'gpu0', { owner: a }))!;
      const orphan = (await claimNextRun(database, experimentId, 'gpu1', { owner: dead }))!;
      // Neither has reported an event for longer than the lease; only A still beats.
      await silence(database, live.id, LEASE_SECONDS + 5);
      await silence(database, orphan.id, LEASE_SECONDS + 5);
      assert.deepEqual(await heartbeat(database, a), [live.id]);

      assert.deepEqual(await resetStaleRuns(database, experimentId, { staleAfterSeconds: LEASE_SECONDS }), [orphan.id]);
      assert.deepEqual(await ownerOf(database, live.id), { owner: a, status: 'running' });
      assert.deepEqual(await ownerOf(database, orphan.id), { owner: null, status: 'pending' });
      // The heartbeat does not pose as an event: last_event_at keeps the (aged) time of the last event.
      const [times] = await database.query<{ quiet: boolean; beat: boolean }>(
        `select last_event_at < now() - interval '${LEASE_SECONDS} seconds' as quiet, heartbeat_at > now() - interval '10 seconds' as beat from runs where id = $1`,
        [live.id],
      );
      assert.deepEqual(times, { quiet: true, beat: true });

      // A still owns its run: its events and outcome are stored.
      for (const e of runEvents(live.spec, 0.7)) await recordEvent(database, live.id, e, a);
      assert.equal((await finishRun(database, live.id, { status: 'completed' }, a)).status, 'completed');
    });
  });
}
