/**
 * The database API against every backend: PGlite in memory, a PGlite folder, and PostgreSQL (skipped loudly
 * without MELANOMA_TEST_PG_URL). Each backend gets one database; each test its own experiment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  claimNextRun,
  createOrResumeExperiment,
  type Database,
  ensureRuns,
  experimentSummary,
  experimentSummaryWide,
  failAttempt,
  finishRun,
  getRun,
  hardestImages,
  hasUnfinishedRuns,
  listExperiments,
  listRuns,
  markInterrupted,
  MIGRATIONS_DIR,
  openDatabase,
  recordEvent,
  resetUnfinishedRuns,
  runCounts,
  runCurves,
  runEpochs,
  runEvaluations,
  runFailedAttempts,
  runLogMessages,
  runPredictions,
} from '../../db/index.ts';
import { LOCK_FILE } from '../../db/folder-lock.ts';
import { LostRunLeaseError } from '../../db/run-leases.ts';
import { PROJECT_ROOT } from '../helpers/real-data.ts';
import { CHUNK_ROWS } from '../../db/events.ts';
import { METRIC_NAMES, type ModelName, type RunEvent, type RunResult } from '../../study/run.ts';
import { backends, describeEachBackend, metrics, runEvents, specFor, tableCounts } from './fixtures.ts';
import { first } from '../../common/indexing.ts';

const newExperiment = (database: Database, name: string, config: Record<string, unknown> = { runs: 3 }) =>
  createOrResumeExperiment(database, { name, config, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });

const plan = (model: ModelName, runIndex: number) => ({ model, runIndex, seed: 100 + runIndex, spec: specFor(model, 100 + runIndex) });

/** Claims the next run of `model`, records its whole event stream and finishes it as `status`. */
async function runThrough(database: Database, experimentId: number, model: ModelName, testRocAuc: number, status: 'completed' | 'failed' = 'completed') {
  const run = await claimNextRun(database, experimentId, 'cpu:0', { models: [model] });
  assert.ok(run, `a ${model} run to claim`);
  for (const event of runEvents(run.spec, testRocAuc)) await recordEvent(database, run.id, event);
  return finishRun(database, run.id, { status, error: status === 'failed' ? 'boom' : null });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

describeEachBackend(backends(), (suite) => {
  const { it } = suite;

  it('migrations create the tables and views, and are recorded', async () => {
    const rows = await suite.database.query<{ table_name: string; table_type: string }>(
      `select table_name, table_type from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    assert.deepEqual(
      rows.map((r) => `${r.table_name}:${r.table_type}`),
      [
        'calibration_summary:VIEW',
        'curve_points:BASE TABLE',
        'epoch_metrics:BASE TABLE',
        'evaluations:BASE TABLE',
        'experiments:BASE TABLE',
        'failed_attempts:BASE TABLE',
        'image_summary:VIEW',
        'metric_summary:VIEW',
        'metric_summary_wide:VIEW',
        'predictions:BASE TABLE',
        'run_calibrations:BASE TABLE',
        'run_logs:BASE TABLE',
        'run_overview:VIEW',
        'runs:BASE TABLE',
      ],
    );
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
    const applied = first(await suite.database.query<{ n: number }>('select count(*)::integer as n from drizzle.__drizzle_migrations'));
    assert.equal(applied.n, journal.entries.length);
  });

  it('an experiment is resumed by name; a different config is refused unless forced', async () => {
    const created = await newExperiment(suite.database, 'resume-me', { runs: 3, epochs: 10, nested: { lr: 1e-4 } });
    assert.equal(created.resumed, false);
    const again = await newExperiment(suite.database, 'resume-me', { nested: { lr: 0.0001 }, epochs: 10, runs: 3, dropped: undefined });
    assert.equal(again.resumed, true);
    assert.equal(again.id, created.id);
    await assert.rejects(newExperiment(suite.database, 'resume-me', { runs: 5, epochs: 10, nested: { lr: 1e-5 } }), (err: Error) => {
      assert.equal(err.name, 'UserError');
      assert.match(err.message, /resume-me/);
      assert.match(err.message, /nested\.lr \(stored 0\.0001, now 0\.00001\)/);
      assert.match(err.message, /runs \(stored 3, now 5\)/);
      assert.doesNotMatch(err.message, /epochs/);
      return true;
    });
    const forced = await createOrResumeExperiment(
      suite.database,
      { name: 'resume-me', config: { runs: 5 }, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v2' },
      { force: true },
    );
    assert.equal(forced.id, created.id);
    assert.deepEqual(forced.config, { runs: 5 });
    await assert.rejects(
      createOrResumeExperiment(suite.database, { name: 'resume-me', config: { runs: 5 }, datasetFingerprint: 'other', datasetDir: '/data', codeVersion: 'v2' }),
      /dataset fingerprint/,
    );
    const listed = (await listExperiments(suite.database)).find((x) => x.name === 'resume-me');
    assert.equal(listed?.runs, 0);
  });

  it('ensureRuns is idempotent and links each -ft run to its base', async () => {
    const x = await newExperiment(suite.database, 'ensure');
    const items = [plan('mobilenet', 0), plan('mobilenet', 1), plan('mobilenet-ft', 0), plan('mobilenet-ft', 1), plan('baseline', 0)];
    const first = await ensureRuns(suite.database, x.id, items);
    const second = await ensureRuns(suite.database, x.id, items);
    assert.deepEqual(
      second.map((r) => r.id),
      first.map((r) => r.id),
    );
    assert.equal(first[2]!.baseRunId, first[0]!.id);
    assert.equal(first[3]!.baseRunId, first[1]!.id);
    assert.equal(first[4]!.baseRunId, null);
    assert.ok(first.every((r) => r.status === 'pending' && r.attempts === 0));
    assert.equal((await runCounts(suite.database, x.id)).pending, 5);
    await assert.rejects(ensureRuns(suite.database, x.id, [plan('xception-ft', 0)]), /xception-ft run 0 fine-tunes xception run 0/);
  });

  it('claims base models first by run index; a -ft run waits for its completed base and gets its checkpoint', async () => {
    const x = await newExperiment(suite.database, 'claim-order');
    // Scrambled on purpose: the claim order must not depend on the plan order.
    await ensureRuns(suite.database, x.id, [plan('xception-ft', 0), plan('xception', 1), plan('xception', 0), plan('baseline', 1), plan('xception-ft', 1)]);
    const order: string[] = [];
    const claimed = [];
    for (let i = 0; i < 3; i++) {
      const run = await claimNextRun(suite.database, x.id, `gpu:${i}`);
      assert.ok(run);
      order.push(`${run.model}#${run.runIndex}`);
      claimed.push(run);
    }
    assert.deepEqual(order, ['xception#0', 'baseline#1', 'xception#1']);
    assert.equal(claimed[0]!.status, 'running');
    assert.equal(claimed[0]!.slot, 'gpu:0');
    assert.equal(claimed[0]!.attempts, 1);
    assert.equal(await claimNextRun(suite.database, x.id, 'gpu:3'), null, 'the -ft runs wait while their bases run');
    assert.equal(await hasUnfinishedRuns(suite.database, x.id), true);

    for (const event of runEvents(claimed[2]!.spec, 0.8)) await recordEvent(suite.database, claimed[2]!.id, event);
    await finishRun(suite.database, claimed[2]!.id, { status: 'completed' });
    const ft = await claimNextRun(suite.database, x.id, 'gpu:2');
    assert.equal(`${ft?.model}#${ft?.runIndex}`, 'xception-ft#1');
    assert.equal(ft?.initFrom, `${claimed[2]!.spec.outDir}/best`);
    assert.equal(ft?.spec.initFrom, ft?.initFrom);
    assert.equal((await getRun(suite.database, ft!.id))?.spec.initFrom, ft?.initFrom);
    assert.equal(await claimNextRun(suite.database, x.id, 'gpu:2'), null);
  });

  it('replaying events (one by one, or the whole stream) never duplicates rows', async () => {
    const x = await newExperiment(suite.database, 'replay');
    await ensureRuns(suite.database, x.id, [plan('baseline', 0)]);
    const run = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    const events = runEvents(run.spec, 0.8);
    const before = await tableCounts(suite.database);
    for (const event of events) {
      await recordEvent(suite.database, run.id, event);
      if (event.type !== 'log') await recordEvent(suite.database, run.id, event); // each event twice
    }
    const once = await tableCounts(suite.database);
    assert.equal(once.epoch_metrics - before.epoch_metrics, 3 * 2);
    assert.equal(once.evaluations - before.evaluations, 3);
    assert.equal(once.curve_points - before.curve_points, 3 * (4 + 3));
    assert.equal(once.predictions - before.predictions, 3 * 4);
    assert.equal(once.run_logs - before.run_logs, 1);
    for (const event of events.filter((e) => e.type !== 'log')) await recordEvent(suite.database, run.id, event);
    assert.deepEqual(await tableCounts(suite.database), once);

    const epochs = await runEpochs(suite.database, run.id);
    assert.deepEqual(
      epochs.map((e) => `${e.epoch}${e.improved ? '*' : ''}`),
      ['1', '2*', '3'],
    );
    assert.equal(epochs[1]!.val?.roc_auc, 0.7);
    assert.equal(epochs[1]!.learningRate, 1e-3);
    for (const e of epochs) assert.deepEqual([Object.keys(e.train!), Object.keys(e.val!)], [[...METRIC_NAMES], [...METRIC_NAMES]]);
    const evals = await runEvaluations(suite.database, run.id);
    assert.deepEqual(
      evals.map((e) => e.split),
      ['train', 'val', 'test'],
    );
    assert.deepEqual({ n: evals[2]!.n, ...evals[2]!.confusion }, { n: 100, tp: 40, fp: 10, tn: 45, fn: 5 });
    assert.equal(evals[2]!.metrics.roc_auc, 0.8);
    await finishRun(suite.database, run.id, { status: 'completed' });
    const stored = (await getRun(suite.database, run.id))!;
    assert.equal(stored.experiment, 'replay');
    assert.deepEqual(
      { best: stored.bestEpoch, early: stored.stoppedEarly, ckpt: stored.checkpointDir, s: stored.durationSeconds, p: stored.paramsTotal, b: stored.backend },
      { best: 2, early: true, ckpt: `${run.spec.outDir}/best`, s: 12.5, p: 1234, b: 'cpu' },
    );
    assert.deepEqual(
      (await runLogMessages(suite.database, run.id)).map((l) => [l.attempt, l.message]),
      [[1, 'early stop']],
    );
  });

  it('a final event larger than a transaction is replaced whole on replay; stopped between parts, the run cannot complete and a reset drops its rows', async () => {
    const x = await newExperiment(suite.database, 'split-final');
    await ensureRuns(suite.database, x.id, [plan('baseline', 0)]);
    const run = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    const events = runEvents(run.spec, 0.8);
    const final = events.find((e) => e.type === 'final')!.result;
    /** The train split with `n` predictions and an `n`-point ROC curve (several chunks), probabilities from `p`. */
    const big = (n: number, p: (i: number) => number): RunResult => {
      const train = final.final[0]!;
      const probabilities = Array.from({ length: n }, (_, i) => Math.fround(p(i)));
      const roc = { x: probabilities.map((_, i) => i / n), y: probabilities.map((_, i) => (i + 1) / n), thresholds: probabilities };
      const images = probabilities.map((_, i) => `train/benign/${i}.jpg`);
      const predictions = { images, labels: probabilities.map(() => 0 as const), probabilities };
      return { ...final, final: [{ ...train, n, roc, predictions }, ...final.final.slice(1)] };
    };
    const n1 = 2 * CHUNK_ROWS + 17;
    const n2 = CHUNK_ROWS + 3;
    for (const e of events.filter((e) => e.type !== 'final')) await recordEvent(suite.database, run.id, e);
    await recordEvent(suite.database, run.id, { type: 'final', result: big(n1, (i) => i / n1) });
    assert.equal((await runPredictions(suite.database, run.id, 'train')).length, n1);
    // A replay with other (fewer) rows leaves exactly the replayed ones.
    await recordEvent(suite.database, run.id, { type: 'final', result: big(n2, (i) => 1 - i / n2) });
    const stored = await runPredictions(suite.database, run.id, 'train');
    assert.equal(stored.length, n2);
    const byImage = new Map(stored.map((r) => [r.image, r.probability]));
    assert.equal(byImage.get(`train/benign/${n2 - 1}.jpg`), Math.fround(1 / n2));
    const roc = (await runCurves(suite.database, run.id)).find((c) => c.split === 'train' && c.kind === 'roc')!;
    assert.equal(roc.x.length, n2);
    assert.deepEqual(roc.thresholds, big(n2, (i) => 1 - i / n2).final[0]!.roc.thresholds);

    // A second run whose final event stops after its train rows (its test predictions break a constraint).
    await ensureRuns(suite.database, x.id, [plan('baseline', 1)]);
    const second = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    for (const e of events.filter((e) => e.type !== 'final')) await recordEvent(suite.database, second.id, e);
    const broken = big(n1, (i) => i / n1);
    const test = broken.final[2]!;
    broken.final[2]! = { ...test, predictions: { ...test.predictions, labels: test.predictions.labels.map(() => 7 as 0) } };
    await assert.rejects(recordEvent(suite.database, second.id, { type: 'final', result: broken }), (err: Error) =>
      /predictions_label_check/.test(`${err.message} ${(err.cause as Error | undefined)?.message}`),
    );
    assert.equal((await runPredictions(suite.database, second.id, 'train')).length, n1, 'the parts before the failure are stored');
    assert.equal((await runEvaluations(suite.database, second.id)).length, 0);
    await assert.rejects(finishRun(suite.database, second.id, { status: 'completed' }), /no final evaluation/);
    await resetUnfinishedRuns(suite.database, x.id);
    assert.equal((await runPredictions(suite.database, second.id, 'train')).length, 0);
    assert.equal((await runCurves(suite.database, second.id)).length, 0);
  });

  it('curves keep their infinite thresholds and come back as parallel arrays', async () => {
    const x = await newExperiment(suite.database, 'curves');
    await ensureRuns(suite.database, x.id, [plan('baseline', 0)]);
    const run = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    for (const event of runEvents(run.spec, 0.8)) await recordEvent(suite.database, run.id, event);
    const curves = await runCurves(suite.database, run.id);
    assert.deepEqual(
      curves.map((c) => `${c.split}/${c.kind}`),
      ['train/pr', 'train/roc', 'val/pr', 'val/roc', 'test/pr', 'test/roc'],
    );
    const roc = curves.find((c) => c.split === 'test' && c.kind === 'roc')!;
    assert.deepEqual(roc, { split: 'test', kind: 'roc', x: [0, 0.1, 0.5, 1], y: [0, 0.6, 0.9, 1], thresholds: [Infinity, 0.8, 0.4, 0] });
  });

  it('predictions come back per split, float32 as computed; image_summary counts the completed runs wrong on each image', async () => {
    const x = await newExperiment(suite.database, 'predictions');
    await ensureRuns(suite.database, x.id, [plan('baseline', 0), plan('baseline', 1), plan('baseline', 2), plan('baseline', 3)]);
    const aucs = [0.6, 0.7, 0.95];
    const runIds = [];
    for (const v of aucs) runIds.push((await runThrough(suite.database, x.id, 'baseline', v))!.id);
    await runThrough(suite.database, x.id, 'baseline', 0.3, 'failed'); // not in the summary
    assert.deepEqual(await runPredictions(suite.database, runIds[1]!, 'test'), [
      { image: 'test/benign/a.jpg', label: 0, probability: 0.25 },
      { image: 'test/benign/b.jpg', label: 0, probability: Math.fround(0.7) },
      { image: 'test/malignant/c.jpg', label: 1, probability: 0.875 },
      { image: 'test/malignant/d.jpg', label: 1, probability: Math.fround(1 - 0.7) },
    ]);
    assert.deepEqual((await runPredictions(suite.database, runIds[1]!, 'val')).map((p) => p.image)[0], 'train/benign/a.jpg');
    // b has p = v and d has p = 1 - v: both wrong in every run; a and c never.
    const hard = await hardestImages(suite.database, x.id, 'baseline', 'test', 10);
    assert.deepEqual(hard.map((h) => [h.image, h.label, h.n, h.wrong]).sort(), [
      ['test/benign/b.jpg', 0, 3, 3],
      ['test/malignant/d.jpg', 1, 3, 3],
    ]);
    const b = hard.find((h) => h.image === 'test/benign/b.jpg')!;
    const probs = aucs.map((v) => Math.fround(v));
    assert.ok(Math.abs(b.meanProbability - mean(probs)) < 1e-12, `mean ${b.meanProbability}`);
    assert.ok(Math.abs(b.stdProbability! - sampleStd(probs)) < 1e-12, `std ${b.stdProbability}`);
    assert.deepEqual(await hardestImages(suite.database, x.id, 'baseline', 'test', 1).then((r) => r.length), 1);
    assert.deepEqual(await hardestImages(suite.database, x.id, 'mobilenet', 'test', 10), []);
  });

  it('metric_summary is the mean and sample std of completed runs, like a hand computation', async () => {
    const x = await newExperiment(suite.database, 'summary');
    await ensureRuns(suite.database, x.id, [plan('baseline', 0), plan('baseline', 1), plan('baseline', 2), plan('baseline', 3), plan('mobilenet', 0)]);
    const aucs = [0.81, 0.85, 0.9];
    for (const v of aucs) await runThrough(suite.database, x.id, 'baseline', v);
    await runThrough(suite.database, x.id, 'baseline', 0.2, 'failed'); // evaluated, but failed: not in the summary
    await runThrough(suite.database, x.id, 'mobilenet', 0.88);

    const rows = await experimentSummary(suite.database, x.id);
    assert.equal(rows.length, 2 * 3 * METRIC_NAMES.length);
    assert.deepEqual([...new Set(rows.map((r) => r.model))], ['baseline', 'mobilenet']);
    const offsets = { train: 0.05, val: 0.01, test: 0 } as const;
    for (const r of rows.filter((row) => row.model === 'baseline')) {
      const values = aucs.map((v) => metrics(v + offsets[r.split])[r.metric as keyof ReturnType<typeof metrics>]);
      assert.equal(r.n, 3);
      assert.ok(Math.abs(r.mean - mean(values)) < 1e-12, `${r.split} ${r.metric} mean ${r.mean} vs ${mean(values)}`);
      assert.ok(Math.abs(r.stddev! - sampleStd(values)) < 1e-12, `${r.split} ${r.metric} std ${r.stddev} vs ${sampleStd(values)}`);
      assert.equal(r.min, Math.min(...values));
      assert.equal(r.max, Math.max(...values));
    }
    const testAuc = rows.find((r) => r.model === 'baseline' && r.split === 'test' && r.metric === 'roc_auc')!;
    assert.ok(Math.abs(testAuc.mean - 0.8533333333333334) < 1e-12);
    assert.ok(Math.abs(testAuc.stddev! - 0.04509249752822898) < 1e-12);
    const single = rows.find((r) => r.model === 'mobilenet' && r.split === 'test' && r.metric === 'roc_auc')!;
    assert.deepEqual([single.n, single.mean, single.stddev], [1, 0.88, null]);

    const wide = await experimentSummaryWide(suite.database, x.id);
    const wideTest = wide.find((w) => w.model === 'baseline' && w.split === 'test')!;
    assert.equal(wideTest.n, 3);
    assert.ok(Math.abs(wideTest.roc_auc_mean! - testAuc.mean) < 1e-12);
    assert.ok(Math.abs(wideTest.roc_auc_std! - testAuc.stddev!) < 1e-12);

    const overview = await listRuns(suite.database, x.id);
    assert.deepEqual(
      overview.map((o) => `${o.model}#${o.runIndex}:${o.status}`),
      ['baseline#0:completed', 'baseline#1:completed', 'baseline#2:completed', 'baseline#3:failed', 'mobilenet#0:completed'],
    );
    assert.equal(overview[1]!.test_roc_auc, 0.85);
    assert.equal(overview[1]!.epochs, 3);
    assert.equal(overview[3]!.error, 'boom');
  });

  it('a restart resets unfinished runs, drops their partial results but keeps their epochs until they start again; no duplicates', async () => {
    const x = await newExperiment(suite.database, 'restart');
    await ensureRuns(suite.database, x.id, [plan('baseline', 0), plan('baseline', 1), plan('baseline', 2)]);
    await runThrough(suite.database, x.id, 'baseline', 0.8);
    const running = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    const interrupted = (await claimNextRun(suite.database, x.id, 'cpu:1'))!;
    const events = runEvents(running.spec, 0.7);
    for (const e of events) await recordEvent(suite.database, running.id, e); // its final event too, but not finished
    assert.equal((await runPredictions(suite.database, running.id, 'test')).length, 4);
    for (const e of events.slice(0, 3)) await recordEvent(suite.database, interrupted.id, e);
    assert.equal(await markInterrupted(suite.database, [interrupted.id]), 1);
    assert.equal((await getRun(suite.database, interrupted.id))?.status, 'interrupted');

    const reset = await resetUnfinishedRuns(suite.database, x.id);
    assert.deepEqual(reset.map((r) => r.id).sort(), [running.id, interrupted.id].sort());
    assert.ok(reset.every((r) => r.status === 'pending' && r.slot === null && r.bestEpoch === null));
    // The epochs stay for the next attempt to continue from (its `started` event says from where).
    assert.equal((await runEpochs(suite.database, running.id)).length, 3);
    assert.ok((await runEpochs(suite.database, interrupted.id)).length > 0);
    assert.equal((await runPredictions(suite.database, running.id, 'test')).length, 0);
    assert.equal((await runEvaluations(suite.database, running.id)).length, 0);
    assert.deepEqual(await runCounts(suite.database, x.id), { pending: 2, running: 0, completed: 1, failed: 0, interrupted: 0, blocked: 0 });

    const runEpochsBefore = runEpochs(suite.database, interrupted.id).then((rows) => rows.length);
    const before = await tableCounts(suite.database);
    await runThrough(suite.database, x.id, 'baseline', 0.7);
    await runThrough(suite.database, x.id, 'baseline', 0.75);
    const after = await tableCounts(suite.database);
    // Both started from scratch: their rows are the new attempt's alone.
    assert.equal(after.epoch_metrics - before.epoch_metrics, (3 - (await runEpochsBefore)) * 2);
    for (const id of [running.id, interrupted.id]) assert.equal((await runEpochs(suite.database, id)).length, 3);
    assert.equal((await getRun(suite.database, running.id))?.attempts, 2);
    assert.equal(await hasUnfinishedRuns(suite.database, x.id), false);
    assert.equal((await experimentSummary(suite.database, x.id)).find((r) => r.split === 'test' && r.metric === 'roc_auc')?.n, 3);
  });

  it('an attempt that continues from a saved epoch keeps the rows up to it, drops those after, and adds its own once', async () => {
    const x = await newExperiment(suite.database, 'continued');
    await ensureRuns(suite.database, x.id, [plan('baseline', 0)]);
    const first = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    const events = runEvents(first.spec, 0.7);
    for (const e of events.slice(0, 5)) await recordEvent(suite.database, first.id, e); // epochs 1 to 3
    assert.equal(await markInterrupted(suite.database, [first.id]), 1);
    await resetUnfinishedRuns(suite.database, x.id);
    const again = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    const history = events.flatMap((e) => (e.type === 'epoch' ? [e.record] : []));
    const started = events[0] as Extract<RunEvent, { type: 'started' }>;
    await recordEvent(suite.database, again.id, { ...started, resumedFrom: { epoch: 2, history: history.slice(0, 2), improved: [1, 2] } });
    const rows = (await runEpochs(suite.database, again.id)).map((e) => `${e.epoch}${e.improved ? '*' : ''}`);
    assert.deepEqual(rows, ['1*', '2*'], 'epoch 3 of the earlier attempt is gone');
    assert.equal((await getRun(suite.database, again.id))?.bestEpoch, 2);
    // An attempt from scratch (no resumedFrom, e.g. on a machine without the saved state) keeps none of them.
    await recordEvent(suite.database, again.id, started);
    assert.deepEqual(await runEpochs(suite.database, again.id), []);
    for (const e of events.slice(1)) await recordEvent(suite.database, again.id, e);
    await finishRun(suite.database, again.id, { status: 'completed' });
    assert.deepEqual(
      (await runEpochs(suite.database, again.id)).map((e) => e.epoch),
      [1, 2, 3],
    );
  });

  it("failAttempt keeps every failed attempt's error: a retry requeues the run, the last one fails it; only its owner may", async () => {
    const { id } = await newExperiment(suite.database, 'failures');
    const stored = first(await ensureRuns(suite.database, id, [plan('baseline', 0)]));
    const firstClaim = await claimNextRun(suite.database, id, 'cpu:0', { owner: 'me' });
    assert.equal(firstClaim?.id, stored.id);
    for (const event of runEvents(firstClaim!.spec, 0.8).slice(0, 3)) await recordEvent(suite.database, firstClaim!.id, event, 'me');
    await assert.rejects(failAttempt(suite.database, firstClaim!.id, { error: 'not mine', retry: true }, 'someone-else'), LostRunLeaseError);
    await failAttempt(suite.database, firstClaim!.id, { error: 'out of memory', retry: true }, 'me');
    let run = await getRun(suite.database, firstClaim!.id);
    assert.equal(run?.status, 'pending');
    assert.equal(run?.error, 'out of memory');
    assert.equal((await runEpochs(suite.database, firstClaim!.id)).length, 2, 'the epochs stay until the next attempt starts');
    const second = await claimNextRun(suite.database, id, 'cpu:1', { owner: 'me' });
    await failAttempt(suite.database, second!.id, { error: 'bad image\n  /data/x.jpg: premature end', retry: false }, 'me');
    run = await getRun(suite.database, firstClaim!.id);
    assert.equal(run?.status, 'failed');
    assert.equal(run?.error, 'bad image\n  /data/x.jpg: premature end');
    assert.deepEqual(
      (await runFailedAttempts(suite.database, firstClaim!.id)).map((f) => [f.attempt, f.slot, f.retried, f.error]),
      [
        [1, 'cpu:0', true, 'out of memory'],
        [2, 'cpu:1', false, 'bad image\n  /data/x.jpg: premature end'],
      ],
    );
  });

  it('a -ft run whose base failed is blocked, not unfinished; completing needs a final evaluation', async () => {
    const x = await newExperiment(suite.database, 'blocked');
    await ensureRuns(suite.database, x.id, [plan('mobilenet', 0), plan('mobilenet-ft', 0)]);
    const base = (await claimNextRun(suite.database, x.id, 'cpu:0'))!;
    await assert.rejects(finishRun(suite.database, base.id, { status: 'completed' }), /no final evaluation/);
    await finishRun(suite.database, base.id, { status: 'failed', error: 'out of memory' });
    assert.equal(await claimNextRun(suite.database, x.id, 'cpu:0'), null);
    assert.deepEqual(await runCounts(suite.database, x.id), { pending: 1, running: 0, completed: 0, failed: 1, interrupted: 0, blocked: 1 });
    assert.equal(await hasUnfinishedRuns(suite.database, x.id), false);
    // Retrying failed runs unblocks it.
    assert.equal((await resetUnfinishedRuns(suite.database, x.id, { includeFailed: true })).length, 1);
    assert.equal(await hasUnfinishedRuns(suite.database, x.id), true);
    assert.equal((await claimNextRun(suite.database, x.id, 'cpu:0'))?.model, 'mobilenet');
  });

  it('concurrent claims (several connections on PostgreSQL) hand out each run once', async () => {
    const x = await newExperiment(suite.database, 'concurrent');
    await ensureRuns(
      suite.database,
      x.id,
      ['baseline', 'augmented', 'mobilenet'].flatMap((m) => [0, 1, 2, 3].map((i) => plan(m as ModelName, i))),
    );
    const claims = await Promise.all(Array.from({ length: 16 }, (_, i) => claimNextRun(suite.database, x.id, `cpu:${i}`)));
    const ids = claims.filter((c) => c !== null).map((c) => c.id);
    assert.equal(ids.length, 12);
    assert.equal(new Set(ids).size, 12);
    const attempts = await suite.database.query<{ attempts: number }>('select attempts from runs where experiment_id = $1', [x.id]);
    assert.deepEqual(
      attempts.map((r) => r.attempts),
      Array(12).fill(1),
    );
  });

  it('readOnlyQuery answers in column order and refuses writes and several statements', async () => {
    const out = await suite.database.readOnlyQuery(`select 1 as a, 'x' as a, 2.5::float8 as b`, { timeoutMs: 5000 });
    assert.deepEqual(out, { columns: ['a', 'a', 'b'], rows: [[1, 'x', 2.5]] });
    const before = await tableCounts(suite.database);
    await assert.rejects(suite.database.readOnlyQuery('delete from runs', { timeoutMs: 5000 }), /read-only transaction/);
    await assert.rejects(suite.database.readOnlyQuery('commit; delete from runs', { timeoutMs: 5000 }), /multiple commands/);
    assert.deepEqual(await tableCounts(suite.database), before);
  });

  if (suite.name === 'PGlite folder') {
    it('a reopened folder keeps its data', async () => {
      const { target } = suite.database;
      const n = (await listExperiments(suite.database)).length;
      await suite.database.close();
      assert.equal(existsSync(join(target, LOCK_FILE)), false, 'close() removes the lock');
      suite.database = await openDatabase(target);
      assert.equal((await listExperiments(suite.database)).length, n);
      assert.ok(n > 0);
    });

    it('a folder open in another process gives a clear error; its lock is taken over once that process is gone', async () => {
      const dir = suite.database.target;
      await suite.database.close();
      const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test/db/fixtures/hold-folder.ts'), dir], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
        assert.equal(chunk.toString().trim(), 'open');
        await assert.rejects(openDatabase(dir), (err: Error) => {
          assert.equal(err.name, 'UserError');
          assert.match(err.message, new RegExp(`database folder ${dir} is in use by process ${child.pid} on `));
          assert.match(err.message, /only one process at a time/);
          assert.match(err.message, /postgres:\/\//);
          return true;
        });
      } finally {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      // The killed process left its lock file behind; it names a dead process, so it is stale.
      assert.ok(existsSync(join(dir, LOCK_FILE)));
      suite.database = await openDatabase(dir);
      assert.ok((await listExperiments(suite.database)).length > 0);
    });

    it('opening a folder twice in one process is refused; a live lock wins', async () => {
      const dir = suite.database.target;
      await assert.rejects(openDatabase(dir), /already open in this process/);
      await suite.database.close();
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: 'then' })); // pid 1 is alive
      await assert.rejects(openDatabase(dir), /in use by process 1 on .* since then/);
      rmSync(join(dir, LOCK_FILE));
      suite.database = await openDatabase(dir);
    });
  }
});
