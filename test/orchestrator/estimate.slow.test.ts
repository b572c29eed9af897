/** The experiment's time estimate: the slot arithmetic, costs from measured speeds, costs from stored history. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase, recordEvent, type Database } from '../../db/index.ts';
import { resolveProtocol } from '../../study/protocol.ts';
import { METRIC_NAMES, type Metrics } from '../../study/run.ts';
import { costFromSpeed, experimentCosts, type runCalibration } from '../../orchestrator/calibration.ts';
import { estimateLine, estimateSeconds, ExperimentClock, type ModelCost } from '../../orchestrator/estimate.ts';
import { openStore } from '../../orchestrator/store.ts';
import { specFor } from '../web/run-events.ts';

const cost = (secondsPerEpoch: number, epochs: number, setupSeconds = 0): ModelCost => ({
  secondsPerEpoch,
  epochs,
  maxEpochs: epochs,
  setupSeconds,
  source: 'calibration',
  upperBound: true,
});

test('runs fill the slots in claim order; a -ft run waits for its base', () => {
  // 3 baseline runs of 10 s on 2 slots: 0 and 1 at once, then 2: 20 s.
  const three = [0, 1, 2].map((runIndex) => ({ model: 'baseline' as const, runIndex, state: 'pending' as const }));
  assert.equal(estimateSeconds(three, { baseline: cost(1, 10) }, 2), 20);
  assert.equal(estimateSeconds(three, { baseline: cost(1, 10) }, 1), 30);
  // mobilenet runs of 100 s and mobilenet-ft of 10 s, 2 runs each, 2 slots: both bases end at 100, then the -ft
  // runs side by side: 110. Setup time counts once per run.
  const pair = [0, 1].flatMap((runIndex) => [
    { model: 'mobilenet' as const, runIndex, state: 'pending' as const },
    { model: 'mobilenet-ft' as const, runIndex, state: 'pending' as const },
  ]);
  assert.equal(estimateSeconds(pair, { mobilenet: cost(9, 10, 10), 'mobilenet-ft': cost(1, 10) }, 2), 110);
  // On 3 slots the third one idles: a -ft run cannot start before its base ends.
  assert.equal(estimateSeconds(pair, { mobilenet: cost(9, 10, 10), 'mobilenet-ft': cost(1, 10) }, 3), 110);
  // A completed run takes no time; a running one only its epochs left.
  const resumed = [
    { model: 'baseline' as const, runIndex: 0, state: 'done' as const },
    { model: 'baseline' as const, runIndex: 1, state: 'running' as const, epochsDone: 7 },
    { model: 'baseline' as const, runIndex: 2, state: 'pending' as const },
  ];
  assert.equal(estimateSeconds(resumed, { baseline: cost(1, 10) }, 1), 13);
  // Each slot first starts its backend and decodes the dataset: 5 s before the first run of each.
  assert.equal(estimateSeconds(three, { baseline: cost(1, 10) }, 2, 5), 25);
});

test("the clock replaces a model's prior cost by its measured epochs and counts down", () => {
  const runs = [0, 1].map((runIndex) => ({ model: 'baseline' as const, runIndex, state: 'pending' as const }));
  const clock = new ExperimentClock(runs, { baseline: cost(1, 10) }, 1);
  assert.equal(clock.secondsLeft(), 20);
  clock.runStarted('baseline', 0);
  clock.epochEnded('baseline', 0, 1, 3); // epochs take 3 s, not 1
  assert.equal(clock.secondsLeft(), 9 * 3 + 10 * 3);
  clock.runEnded('baseline', 0, true);
  assert.equal(clock.secondsLeft(), 30);
  assert.equal(clock.upperBound(), true);
  // The slots' start-up counts until the first epoch ends.
  const starting = new ExperimentClock(runs, { baseline: cost(1, 10) }, 1, 7);
  assert.equal(starting.secondsLeft(), 27);
  starting.runStarted('baseline', 0);
  starting.epochEnded('baseline', 0, 1, 1);
  assert.equal(starting.secondsLeft(), 19);
});

test('a calibrated cost: train split at the training pace, val at the predicting pace; transfer models from activations', () => {
  const images = { train: 2000, val: 500, test: 600 };
  const plain = costFromSpeed(
    { model: 'baseline', trainImages: 100, predictImages: 500, trunk: null, trainAboveTrunk: null, predictAboveTrunk: null },
    images,
    { maxEpochs: 50, augment: false },
  );
  assert.equal(plain.secondsPerEpoch, 2000 / 100 + 500 / 500);
  assert.equal(plain.setupSeconds, 3100 / 500);
  assert.deepEqual([plain.epochs, plain.upperBound], [50, true]);
  const speed = { model: 'mobilenet' as const, trainImages: 20, predictImages: 40, trunk: 50, trainAboveTrunk: 1000, predictAboveTrunk: 5000 };
  // Without augmentation a transfer model trains on the cached activations; with it, on images through the trunk.
  assert.equal(costFromSpeed(speed, images, { maxEpochs: 100, augment: false }).secondsPerEpoch, 2000 / 1000 + 500 / 5000);
  assert.equal(costFromSpeed(speed, images, { maxEpochs: 100, augment: true }).secondsPerEpoch, 2000 / 20 + 500 / 5000);
  assert.equal(costFromSpeed(speed, images, { maxEpochs: 100, augment: true }).setupSeconds, 3100 / 50 + 3100 / 5000);
});

test('the printed line names runs, time, slots and the bound', () => {
  const line = estimateLine({
    runs: 31,
    seconds: 41 * 3600,
    upperBound: true,
    slots: [{ gpu: null }, { gpu: null }],
    basis: ['baseline 62.0 s/epoch calibrated'],
  });
  assert.match(line, /^estimate: 31 runs ≈ 41h00m on 2 CPU slots \(upper bound: .*baseline 62\.0 s\/epoch calibrated\)$/);
});

async function completedRun(
  db: Database,
  experiment: string,
  epochs: number[],
  over: Parameters<typeof specFor>[2] = {},
  run: { duration?: number; attempts?: number } = {},
) {
  const spec = specFor('baseline', 1, { backend: 'wasm', imageSize: 64, batchSize: 32, epochs: 20, patience: 5, ...over });
  const store = await openStore(db, {
    experiment,
    config: {},
    datasetDir: '/d',
    datasetFingerprint: 'f'.repeat(64),
    retries: 0,
    runs: [{ model: 'baseline', runIndex: 0, seed: 1, spec }],
  });
  const claim = (await store.claimNextRun('cpu0'))!;
  const metrics = Object.fromEntries(METRIC_NAMES.map((m) => [m, m === 'loss' ? 0.5 : 0.8])) as Metrics;
  for (const [i, seconds] of epochs.entries()) {
    await recordEvent(
      db,
      claim.runId,
      { type: 'epoch', record: { epoch: i + 1, train: metrics, val: metrics, seconds, learningRate: 1e-3 }, best: i === 0 },
      store.owner,
    );
  }
  await db.query(`update runs set status = 'completed', duration_seconds = $2, attempts = $3 where id = $1`, [
    claim.runId,
    run.duration ?? epochs.reduce((a, b) => a + b, 0),
    run.attempts ?? 1,
  ]);
  store.close();
}

test('stored history: mean seconds per epoch over alike runs, mean epochs of runs with the same max epochs and patience', async () => {
  const db = await openDatabase('memory://');
  try {
    await completedRun(db, 'a', [10, 20, 30], {}, { duration: 70 }); // 3 epochs, 20 s each on average; 10 s outside
    await completedRun(db, 'b', [40, 40, 40, 40, 40], {}, { duration: 230 }); // 5 epochs of 40 s; 30 s outside
    await completedRun(db, 'c', [1000], { imageSize: 128 }, { duration: 2000 }); // another image size: not counted
    // Other max epochs: its time counts, not its epoch count; resumed (2 attempts): its duration is not the whole run.
    await completedRun(db, 'd', [100, 100], { epochs: 2 }, { duration: 150, attempts: 2 });
    const protocol = resolveProtocol('seed', { epochs: 20, imageSize: 64, batchSize: 32 });
    protocol.models.baseline.patience.value = 5;
    const never: typeof runCalibration = async () => assert.fail('no calibration when history exists');
    const { costs, basis } = await experimentCosts(
      { models: ['baseline'], protocol, backend: 'wasm', images: { train: 1, val: 1, test: 1 }, database: db },
      never,
    );
    // (10+20+30 + 5*40 + 2*100) / 10 epochs = 46 s; (3 + 5) / 2 = 4 epochs.
    assert.equal(costs.baseline!.secondsPerEpoch, 46);
    assert.equal(costs.baseline!.epochs, 4);
    assert.equal(costs.baseline!.upperBound, false);
    assert.equal(costs.baseline!.setupSeconds, 20);
    assert.match(basis[0]!, /baseline 46\.0 s\/epoch measured over 3 run\(s\), 4\.0 epochs on average, 20 s a run outside its epochs/);
    // Another backend has no history: calibrated, to the max epochs.
    const calibrated: typeof runCalibration = async (r) => ({
      backend: 'cpu',
      backendDetail: 'test',
      seconds: 0,
      backendSeconds: 2,
      decodeImages: 10,
      speeds: r.models.map((model) => ({ model, trainImages: 10, predictImages: 20, trunk: null, trainAboveTrunk: null, predictAboveTrunk: null })),
    });
    const other = await experimentCosts(
      { models: ['baseline'], protocol, backend: 'cpu', images: { train: 100, val: 40, test: 0 }, database: db, slots: 2 },
      calibrated,
    );
    assert.equal(other.costs.baseline!.secondsPerEpoch, 100 / 10 + 40 / 20);
    assert.deepEqual([other.costs.baseline!.epochs, other.costs.baseline!.upperBound], [20, true]);
    // Each slot starts its backend (2 s); the 2 slots decode the 140 images each at once, 10 images/s on all cores.
    assert.equal(other.slotSetupSeconds, 2 + (2 * 140) / 10);
    assert.ok(
      other.basis.some((b) => /decoding 10 images\/s, 28 s before the slots' first epochs/.test(b)),
      other.basis.join('; '),
    );
  } finally {
    await db.close();
  }
});
