/**
 * Run ownership: a claim makes the caller the run's owner; only the owner records its events and outcome; a live
 * heartbeat keeps a peer's reset away, a stale one lets the peer take the run back. On PGlite in memory and on
 * PostgreSQL (skipped loudly without MELANOMA_TEST_PG_URL).
 */
import assert from 'node:assert/strict';
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
import { backends, describeEachBackend, runEvents, specFor } from './fixtures.ts';

const LEASE_SECONDS = 60;

/** Ages a run's heartbeat (and its last event) as if its owner had been silent for `seconds`. */
const silence = (database: Database, runId: number, seconds: number) =>
  database.query(`update runs set heartbeat_at = now() - make_interval(secs => $2), last_event_at = now() - make_interval(secs => $2) where id = $1`, [
    runId,
    seconds,
  ]);

const ownerOf = async (database: Database, runId: number) =>
  (await database.query<{ owner: string | null; status: string }>('select owner, status from runs where id = $1', [runId]))[0];

describeEachBackend(
  backends().filter((x) => x.name !== 'PGlite folder'),
  (suite) => {
    const { it } = suite;

    async function experimentWith(name: string, runs: number) {
      const x = await createOrResumeExperiment(suite.database, { name, config: {}, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });
      await ensureRuns(
        suite.database,
        x.id,
        Array.from({ length: runs }, (_, i) => ({ model: 'baseline' as const, runIndex: i, seed: i, spec: specFor('baseline', i) })),
      );
      return x.id;
    }

    it('a claim sets the owner and the heartbeat; finishing clears the owner', async () => {
      const experimentId = await experimentWith('owned', 1);
      const a = newOwnerId();
      assert.match(a, /^[^:]+:\d+:[0-9a-f]{8}$/);
      const run = (await claimNextRun(suite.database, experimentId, 'cpu0', { owner: a }))!;
      assert.equal(run.owner, a);
      assert.ok(run.heartbeatAt instanceof Date);
      assert.deepEqual(await heartbeat(suite.database, a), [run.id]);
      assert.deepEqual(await heartbeat(suite.database, newOwnerId()), []);
      for (const event of runEvents(run.spec, 0.8)) await recordEvent(suite.database, run.id, event, a);
      const done = await finishRun(suite.database, run.id, { status: 'completed' }, a);
      assert.deepEqual([done.status, done.owner], ['completed', null]);
      assert.deepEqual(await heartbeat(suite.database, a), []);
    });

    it('a stale owner cannot write to or finish a run a peer has re-claimed', async () => {
      const experimentId = await experimentWith('stale-owner', 1);
      const [a, b] = [newOwnerId(), newOwnerId()];
      const first = (await claimNextRun(suite.database, experimentId, 'gpu0', { owner: a }))!;
      const events = runEvents(first.spec, 0.6);
      for (const e of events.slice(0, 2)) await recordEvent(suite.database, first.id, e, a);

      // A stalls past the lease; B starts, takes the run back and claims it again.
      await silence(suite.database, first.id, LEASE_SECONDS + 5);
      assert.deepEqual(await resetStaleRuns(suite.database, experimentId, { staleAfterSeconds: LEASE_SECONDS }), [first.id]);
      assert.deepEqual(await ownerOf(suite.database, first.id), { owner: null, status: 'pending' });
      await assert.rejects(finishRun(suite.database, first.id, { status: 'failed', error: 'late' }, a), LostRunLeaseError);
      const again = (await claimNextRun(suite.database, experimentId, 'gpu1', { owner: b }))!;
      assert.deepEqual([again.id, again.owner, again.attempts], [first.id, b, 2]);
      for (const e of events.slice(0, 2)) await recordEvent(suite.database, again.id, e, b);

      // A wakes up: every write is refused with an error naming the new holder, and nothing of B's changes.
      const lost = (err: unknown) => {
        assert.ok(err instanceof LostRunLeaseError);
        assert.equal(err.runId, first.id);
        assert.equal(err.holder, b);
        assert.match(err.message, new RegExp(`run ${first.id} is no longer held by ${a} \\(it is running, held by ${b}\\)`));
        return true;
      };
      const lateEvents = runEvents(first.spec, 0.1);
      for (const e of lateEvents) await assert.rejects(recordEvent(suite.database, first.id, e, a), lost);
      await assert.rejects(finishRun(suite.database, first.id, { status: 'completed' }, a), lost);
      await assert.rejects(finishRun(suite.database, first.id, { status: 'failed', error: 'stale' }, a), lost);
      assert.equal(await requeueRun(suite.database, first.id, 'stale', a), false);
      assert.equal(await markInterrupted(suite.database, [first.id], a), 0);
      assert.deepEqual(await heartbeat(suite.database, a), []);
      const stillB = (await getRun(suite.database, first.id))!;
      assert.deepEqual([stillB.status, stillB.slot, stillB.error, stillB.finishedAt], ['running', 'gpu1', null, null]);
      assert.deepEqual(await ownerOf(suite.database, first.id), { owner: b, status: 'running' });
      assert.deepEqual(
        (await runEpochs(suite.database, first.id)).map((e) => e.epoch),
        [1],
        "only B's first epoch",
      );

      // B finishes with its own results.
      for (const e of events.slice(2)) await recordEvent(suite.database, again.id, e, b);
      await finishRun(suite.database, again.id, { status: 'completed' }, b);
      assert.equal((await getRun(suite.database, first.id))!.status, 'completed');
      assert.equal((await runEvaluations(suite.database, first.id)).find((e) => e.split === 'test')?.metrics.roc_auc, 0.6);
      assert.deepEqual(
        (await runLogMessages(suite.database, first.id)).map((l) => l.attempt),
        [2],
      );
    });

    it("a live heartbeat protects a run from a second orchestrator's reset; a silent one does not", async () => {
      const experimentId = await experimentWith('live-heartbeat', 2);
      const [a, dead] = [newOwnerId(), newOwnerId()];
      const live = (await claimNextRun(suite.database, experimentId, 'gpu0', { owner: a }))!;
      const orphan = (await claimNextRun(suite.database, experimentId, 'gpu1', { owner: dead }))!;
      // Neither has reported an event for longer than the lease; only A still beats.
      await silence(suite.database, live.id, LEASE_SECONDS + 5);
      await silence(suite.database, orphan.id, LEASE_SECONDS + 5);
      assert.deepEqual(await heartbeat(suite.database, a), [live.id]);

      assert.deepEqual(await resetStaleRuns(suite.database, experimentId, { staleAfterSeconds: LEASE_SECONDS }), [orphan.id]);
      assert.deepEqual(await ownerOf(suite.database, live.id), { owner: a, status: 'running' });
      assert.deepEqual(await ownerOf(suite.database, orphan.id), { owner: null, status: 'pending' });
      // The heartbeat does not pose as an event: last_event_at keeps the (aged) time of the last event.
      const [times] = await suite.database.query<{ quiet: boolean; beat: boolean }>(
        `select last_event_at < now() - interval '${LEASE_SECONDS} seconds' as quiet, heartbeat_at > now() - interval '10 seconds' as beat from runs where id = $1`,
        [live.id],
      );
      assert.deepEqual(times, { quiet: true, beat: true });

      // A still owns its run: its events and outcome are stored.
      for (const e of runEvents(live.spec, 0.7)) await recordEvent(suite.database, live.id, e, a);
      assert.equal((await finishRun(suite.database, live.id, { status: 'completed' }, a)).status, 'completed');
    });
  },
);
