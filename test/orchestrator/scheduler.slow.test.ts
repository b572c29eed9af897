import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listRuns, openDatabase, runEpochs } from '../../db/index.ts';
import { planRuns } from '../../orchestrator/plan.ts';
import type { Progress } from '../../orchestrator/progress.ts';
import { runScheduler } from '../../orchestrator/scheduler.ts';
import { createSlotRunner } from '../../orchestrator/slot-runner.ts';
import { openStore } from '../../orchestrator/store.ts';
import type { ModelName, RunSpec } from '../../study/run.ts';
import { runSpec } from '../helpers/run-spec.ts';
import { FAKE_THREAD, tempDir } from './helpers.ts';

const EPOCHS = 3;

function specOf(out: string, model: ModelName, seed: number, runIndex: number): RunSpec {
  return runSpec({ model, dataDir: out, outDir: join(out, `${model}-run${runIndex}`), seed, epochs: EPOCHS });
}

/** Records which runs each slot executes, and fails when a slot starts a run before its previous one ended. */
function recordingProgress() {
  const busy = new Map<string, string>();
  const overlaps: string[] = [];
  const ran: { slot: string; run: string }[] = [];
  const progress: Progress = {
    runStarted(slot, run) {
      if (busy.has(slot)) overlaps.push(`${slot}: ${run.model}#${run.runIndex} while ${busy.get(slot)}`);
      busy.set(slot, `${run.model}#${run.runIndex}`);
      ran.push({ slot, run: `${run.model}#${run.runIndex}` });
    },
    phase() {},
    estimate() {},
    epoch() {},
    runEnded(slot) {
      busy.delete(slot);
    },
    log() {},
    stop() {},
  };
  return { progress, overlaps, ran };
}

async function study(models: ModelName[], runs: number, slots: number, faults: object[], retries = 1) {
  const out = tempDir('sched');
  const state = join(out, 'faults');
  mkdirSync(state);
  Object.assign(process.env, { FAKE_THREAD_FAULTS: JSON.stringify(faults), FAKE_THREAD_STATE: state, FAKE_THREAD_SEED0: '1', FAKE_THREAD_DELAY_MS: '2' });
  const database = await openDatabase('memory://');
  const plan = planRuns(models, runs, 1).map((r) => ({ ...r, spec: specOf(out, r.model, r.seed, r.runIndex) }));
  const store = await openStore(database, { experiment: 'sched', config: {}, datasetDir: out, datasetFingerprint: 'fp', retries, runs: plan });
  const runners = Array.from({ length: slots }, (_, k) => createSlotRunner({ name: `cpu${k}`, gpu: null }, { mode: 'thread', threadFile: FAKE_THREAD }));
  const rec = recordingProgress();
  try {
    const report = await runScheduler({
      store,
      runners,
      progress: rec.progress,
      signal: new AbortController().signal,
      pollMs: 50,
      specFor: (claim, runner) => ({ ...claim.spec, gpu: runner.slot.gpu, initFrom: claim.initFrom }),
    });
    const rows = await listRuns(database, store.experimentId);
    const epochs = new Map(await Promise.all(rows.map(async (r) => [`${r.model}#${r.runIndex}`, (await runEpochs(database, r.runId)).length] as const)));
    return { report, rows, epochs, rec, outcome: await store.outcome() };
  } finally {
    store.close();
    await Promise.all(runners.map((r) => r.close()));
    await database.close();
  }
}

test('a failing run does not stop the others; failures are retried and attempts counted; crashed threads are replaced', async () => {
  const { report, rows, epochs, rec, outcome } = await study(['baseline', 'augmented'], 3, 2, [
    { model: 'baseline', runIndex: 1, kind: 'throw', times: 1 }, // fails once, then succeeds
    { model: 'baseline', runIndex: 2, kind: 'exit' }, // kills its thread on every attempt
    { model: 'augmented', runIndex: 0, kind: 'timer', times: 1 }, // uncaught exception in its thread, once
  ]);
  const byKey = new Map(rows.map((r) => [`${r.model}#${r.runIndex}`, r]));
  assert.deepEqual(
    [...byKey].map(([k, r]) => `${k} ${r.status} ${r.attempts}`),
    [
      'baseline#0 completed 1',
      'baseline#1 completed 2',
      'baseline#2 failed 2',
      'augmented#0 completed 2',
      'augmented#1 completed 1',
      'augmented#2 completed 1',
    ],
  );
  assert.match(byKey.get('baseline#2')!.error ?? '', /exited with code: 3/);
  assert.equal(byKey.get('baseline#1')!.error, null);
  assert.deepEqual(report, { completed: 5, failedAttempts: 4, interrupted: 0 });
  // Every failed attempt keeps its error, also those of runs that completed on a later attempt; these failures are
  // not the user's, so each is retried while retries are left.
  assert.deepEqual(
    outcome.failedAttempts.map((f) => `${f.model}#${f.runIndex} ${f.attempt} ${f.retried ? 'retried' : 'final'}`),
    ['augmented#0 1 retried', 'baseline#1 1 retried', 'baseline#2 1 retried', 'baseline#2 2 final'],
  );
  const failure = (key: string, attempt: number) => outcome.failedAttempts.find((f) => `${f.model}#${f.runIndex}` === key && f.attempt === attempt)!.error;
  assert.equal(failure('baseline#1', 1), 'fake: injected failure in baseline seed 2');
  assert.match(failure('augmented#0', 1), /fake: uncaught error in a timer/);
  assert.match(failure('baseline#2', 2), /exited with code: 3/);
  // Completed runs have all their epochs, the failed run none (its partial rows are gone).
  assert.deepEqual([...epochs.values()], [EPOCHS, EPOCHS, 0, EPOCHS, EPOCHS, EPOCHS]);
  assert.deepEqual(rec.overlaps, []);
  assert.deepEqual(new Set(rows.map((r) => r.slot)), new Set(['cpu0', 'cpu1']));
  assert.equal(outcome.counts.failed, 1);
  assert.deepEqual(
    outcome.summary.map((s) => `${s.model} ${s.split} ${s.n}`),
    ['baseline train 2', 'baseline val 2', 'baseline test 2', 'augmented train 3', 'augmented val 3', 'augmented test 3'],
  );
});

test("a -ft run starts from its base run's checkpoint once it is done; a failed base blocks it without hanging", async () => {
  const { rows, rec } = await study(['mobilenet', 'mobilenet-ft'], 2, 2, [{ model: 'mobilenet', runIndex: 1, kind: 'throw' }], 0);
  const byKey = new Map(rows.map((r) => [`${r.model}#${r.runIndex}`, r]));
  assert.equal(byKey.get('mobilenet#0')!.status, 'completed');
  // The fake thread refuses a -ft run whose initFrom holds no model.json.
  assert.equal(byKey.get('mobilenet-ft#0')!.status, 'completed');
  assert.equal(byKey.get('mobilenet#1')!.status, 'failed');
  assert.equal(byKey.get('mobilenet#1')!.attempts, 1);
  assert.equal(byKey.get('mobilenet-ft#1')!.status, 'pending');
  const order = rec.ran.map((r) => r.run);
  assert.ok(order.indexOf('mobilenet-ft#0') > order.indexOf('mobilenet#0'));
  assert.deepEqual(rec.overlaps, []);
});
