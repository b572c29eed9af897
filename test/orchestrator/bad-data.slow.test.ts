/**
 * The orchestrator on hostile data (see test/fixtures/hostile/README.md): a truncated image stops the study before
 * anything is stored; a run that fails on the user's input inside its worker (thread or process) is not retried,
 * and its error is kept in failed_attempts.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listRuns, openDatabase, runFailedAttempts } from '../../db/index.ts';
import type { Progress } from '../../orchestrator/progress.ts';
import { runScheduler } from '../../orchestrator/scheduler.ts';
import { createSlotRunner, DEFAULT_THREAD_FILE } from '../../orchestrator/slot-runner.ts';
import { openStore } from '../../orchestrator/store.ts';
import { hostileDataset } from '../helpers/hostile-data.ts';
import { runSpec } from '../helpers/run-spec.ts';
import { orchestrateArgv, runCli, tempDir } from './helpers.ts';
import { first } from '../../common/indexing.ts';

const REASON = 'VipsJpeg: premature end of JPEG image';

test('orchestrate: truncated images stop the study before anything is stored, every one named with its reason', async () => {
  const data = await hostileDataset({ truncated: ['train/malignant/2.jpg', 'test/benign/6.jpg'] });
  const db = join(tempDir('db'), 'db');
  const out = join(tempDir('out'), 'runs');
  try {
    const r = await runCli(orchestrateArgv({ data, db, out, runs: 1, models: ['baseline'], epochs: 1, imageSize: 64 }));
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`orchestrate: 2 images of ${data} cannot be decoded; fix or remove them before training:\n`), r.stderr);
    assert.ok(r.stderr.includes(`  ${join(data, 'train', 'malignant', '2.jpg')}: ${REASON}\n`), r.stderr);
    assert.ok(r.stderr.includes(`  ${join(data, 'test', 'benign', '6.jpg')}: ${REASON}\n`), r.stderr);
    assert.doesNotMatch(r.stderr, /experiment '|started/);
    assert.equal(existsSync(db), false, 'no database was opened, so no run is stored as started');
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

const quiet: Progress = { runStarted() {}, phase() {}, epoch() {}, estimate() {}, runEnded() {}, log() {}, stop() {} };

for (const mode of ['thread', 'process'] as const) {
  test(`a bad image found by the run itself (${mode}) fails it once, not retried; the error is kept in failed_attempts`, async () => {
    const data = await hostileDataset({ truncated: ['test/malignant/3.jpg'] });
    const out = tempDir('out');
    const spec = runSpec({ dataDir: data, outDir: join(out, 'baseline-run0'), epochs: 1, cacheImages: true, checkImages: true });
    const database = await openDatabase('memory://');
    const store = await openStore(database, {
      experiment: 'bad',
      config: {},
      datasetDir: data,
      datasetFingerprint: 'fp',
      retries: 3,
      runs: [{ model: 'baseline', runIndex: 0, seed: 1, spec }],
    });
    const runner = createSlotRunner({ name: 'cpu0', gpu: null }, { mode, threadFile: DEFAULT_THREAD_FILE });
    try {
      const report = await runScheduler({
        store,
        runners: [runner],
        progress: quiet,
        signal: new AbortController().signal,
        pollMs: 50,
        specFor: (claim) => claim.spec,
      });
      assert.deepEqual(report, { completed: 0, failedAttempts: 1, interrupted: 0 });
      const run = first(await listRuns(database, store.experimentId));
      assert.equal(run.status, 'failed');
      assert.equal(run.attempts, 1, "a failure on the user's data is not retried");
      const expected = `1 image of ${data} cannot be decoded; fix or remove it before training:\n  ${join(data, 'test', 'malignant', '3.jpg')}: ${REASON}`;
      assert.equal(run.error, expected);
      const failures = await runFailedAttempts(database, run.runId);
      assert.deepEqual(
        failures.map((f) => ({ attempt: f.attempt, slot: f.slot, retried: f.retried, error: f.error })),
        [{ attempt: 1, slot: 'cpu0', retried: false, error: expected }],
      );
      assert.equal(existsSync(join(out, 'baseline-run0')), false, 'the run stopped before writing anything');
    } finally {
      store.close();
      await runner.close();
      await database.close();
      rmSync(data, { recursive: true, force: true });
    }
  });
}
