/**
 * A running run's progress inside its epoch, from the run's events through the scheduler and the orchestrator's
 * live feed to the API and the run page, before the run's first epoch ends; and the experiment's time left.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { openDatabase, type Database } from '../../db/index.ts';
import { ExperimentClock } from '../../orchestrator/estimate.ts';
import { liveObserver } from '../../orchestrator/live-observer.ts';
import type { Progress } from '../../orchestrator/progress.ts';
import { runScheduler } from '../../orchestrator/scheduler.ts';
import type { SlotRunner } from '../../orchestrator/slot-runner.ts';
import { openStore, type RunStore } from '../../orchestrator/store.ts';
import { LiveFeed } from '../../study/live.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import type { RunEvent, RunResult } from '../../study/run.ts';
import { hasChromium, launchBrowser, openPage, screenshot, CHROMIUM } from './browser.ts';
import { specFor } from './run-events.ts';
import { first } from '../../common/indexing.ts';

const skip = hasChromium() ? false : `SKIPPED: the page tests need Chromium at ${CHROMIUM} (.ci/system-packages.sh installs it)`;

let db: Database;
let server: RunningServer;
let browser: Browser | null = null;
let store: RunStore;
const live = new LiveFeed();

before(async () => {
  db = await openDatabase('memory://');
  server = await startServer({ db, port: 0, dataDir: null, live });
  if (!skip) browser = await launchBrowser();
});

after(async () => {
  store?.close();
  await browser?.close();
  await server?.close();
  await db?.close();
});

/** A slot whose run posts `events` and then works until aborted. */
function blockedRunner(events: RunEvent[], posted: () => void): SlotRunner {
  return {
    slot: { name: 'cpu0', gpu: null },
    run(_spec, onEvent, signal) {
      for (const e of events) onEvent(e);
      posted();
      return new Promise<RunResult>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    },
    close: async () => {},
  };
}

const quiet: Progress = { runStarted() {}, phase() {}, epoch() {}, estimate() {}, runEnded() {}, log() {}, stop() {} };

test("the run page shows a running epoch's progress and the heartbeat before the first epoch ends", async () => {
  const spec = specFor('baseline', 1, { epochs: 50 });
  store = await openStore(db, {
    experiment: 'live',
    config: {},
    datasetDir: '/d',
    datasetFingerprint: 'f'.repeat(64),
    retries: 0,
    runs: [{ model: 'baseline', runIndex: 0, seed: 1, spec }],
  });
  const clock = new ExperimentClock(
    [{ model: 'baseline', runIndex: 0, state: 'pending' }],
    { baseline: { secondsPerEpoch: 60, epochs: 50, maxEpochs: 50, setupSeconds: 0, source: 'calibration', upperBound: true } },
    1,
  );
  live.setEstimate(store.experimentId, { secondsLeft: clock.secondsLeft(), upperBound: true, basis: 'test' });
  const stop = new AbortController();
  let posted!: () => void;
  const running = new Promise<void>((r) => (posted = r));
  const events: RunEvent[] = [
    { type: 'started', backend: 'wasm', backendDetail: 'test', datasetFingerprint: 'f'.repeat(64), params: { total: 10, trainable: 10 } },
    { type: 'progress', phase: 'decoding', epoch: null, done: 3297, total: 3297, imagesPerSecond: 150 },
    { type: 'progress', phase: 'training', epoch: 1, done: 640, total: 2110, imagesPerSecond: 52 },
  ];
  const scheduled = runScheduler({
    store,
    runners: [blockedRunner(events, posted)],
    progress: quiet,
    signal: stop.signal,
    pollMs: 20,
    specFor: (claim) => claim.spec,
    observer: liveObserver({ live, experimentId: store.experimentId, clock }),
  });
  await running;
  const run = first(await db.query<{ id: number }>('select id from runs'));
  const api = await (await fetch(`${server.url}/api/runs/${run.id}`)).json();
  assert.equal(api.status, 'running');
  assert.deepEqual({ ...api.live, at: undefined }, { phase: 'training', epoch: 1, done: 640, total: 2110, imagesPerSecond: 52, at: undefined });
  assert.ok(api.heartbeatAt, 'the heartbeat of the claim');
  const experiment = await (await fetch(`${server.url}/api/experiments/${store.experimentId}`)).json();
  assert.equal(experiment.estimate.secondsLeft, 3000);
  assert.equal(experiment.estimate.upperBound, true);

  if (browser) {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}/runs/${run.id}`);
    await page.waitForSelector('#epoch-progress', { timeout: 10_000 });
    assert.equal(await page.getAttribute('#epoch-progress', 'value'), '640');
    assert.equal(await page.getAttribute('#epoch-progress', 'max'), '2110');
    assert.match((await page.textContent('#run-progress-text'))!, /^Epoch 1 of 50: Training: 640 of 2110 images, 52 images\/s, about 28s left/);
    assert.match((await page.textContent('#run-heartbeat'))!, /^Last heartbeat: \d{4}-\d\d-\d\d \d\d:\d\d/);
    assert.match((await page.textContent('#history-note'))!, /No epochs recorded yet/);
    await screenshot(page, 'run-live-progress');
    await page.goto(`${server.url}/experiments/${store.experimentId}`);
    await page.waitForSelector('#time-left', { timeout: 10_000 });
    assert.match((await page.textContent('#time-left'))!, /^at most about (49|50)m/);
    assert.deepEqual(problems, []);
  }

  stop.abort();
  await scheduled;
  const after = await (await fetch(`${server.url}/api/runs/${run.id}`)).json();
  assert.equal(after.status, 'interrupted');
  assert.equal(after.live, null, 'an ended run has no live progress');
  assert.equal(live.run(run.id), null);
});
