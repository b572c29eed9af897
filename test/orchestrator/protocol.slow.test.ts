/**
 * `orchestrate` and its protocols, as a user runs it: the dry run (no database, no weights), the protocol and its
 * overrides recorded with the experiment and its runs, and an experiment recorded before protocols resuming as
 * the legacy protocol.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { createOrResumeExperiment, listRuns, type Database } from '../../db/index.ts';
import type { DryRunPlan } from '../../orchestrator/dry-run.ts';
import type { RunSpec } from '../../study/run.ts';
import { orchestrateArgv, runCli, tempDir, tinyDataset } from './helpers.ts';
import { first } from '../../common/indexing.ts';
import { withDatabase } from '../helpers/database.ts';

const data = await tinyDataset();
const db = join(tempDir('db'), 'db');

async function experiment(d: Database, name: string) {
  // biome-ignore lint/suspicious/noExplicitAny: the stored config is loose JSON, read field by field
  const row = first(await d.query<{ id: number; config: Record<string, any> }>('select id, config from experiments where name = $1', [name]));
  const runs = await d.query<{ model: string; run_index: number; spec: RunSpec }>(
    'select model, run_index, spec from runs where experiment_id = $1 order by id',
    [row.id],
  );
  return { ...row, runs };
}

test('--dry-run --json with no other flags: the seed protocol, each setting with its source; no database, no weights needed', async () => {
  const noDb = join(tempDir('nodb'), 'db');
  // --no-estimate: the estimate's calibration is tested in estimate.slow.test.ts.
  const r = await runCli(['--dry-run', '--no-estimate', '--json', '--data', data, '--db', noDb], { MELANOMA_WEIGHTS: tempDir('weights') });
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as DryRunPlan;
  assert.equal(existsSync(noDb), false, 'the dry run opens no database');
  assert.equal(plan.protocol.name, 'seed');
  const byModel = (m: string) => plan.runs.filter((x) => x.model === m);
  assert.deepEqual(
    ['baseline', 'augmented', 'xception', 'xception-ft'].map((m) => byModel(m).length),
    [10, 10, 10, 1],
  );
  assert.deepEqual(
    ['baseline', 'augmented', 'xception', 'xception-ft'].map((m) => byModel(m)[0]!.settings.epochs.value),
    [50, 25, 100, 100],
  );
  for (const run of plan.runs) {
    const s = run.settings;
    assert.equal(s.augment.value, run.model !== 'baseline', `${run.model} augmentation`);
    assert.deepEqual(s.validation.value, { fraction: 0.2, take: 'first' });
    assert.equal(s.inputScaling.value, '[0, 1]');
    for (const key of [
      'epochs',
      'patience',
      'learningRate',
      'batchSize',
      'imageSize',
      'augment',
      'inputScaling',
      'validation',
      'outputBias',
      'architecture',
    ] as const) {
      assert.ok('article' in s[key].source || 'choice' in s[key].source, `${run.model} ${key} has a source`);
    }
  }
  assert.match(byModel('xception')[0]!.settings.augment.source && JSON.stringify(byModel('xception')[0]!.settings.augment.source), /279/);
  assert.ok(
    plan.notes.some((n) => /weights: .*xception/.test(n)),
    `notes: ${plan.notes.join(' | ')}`,
  );
  assert.deepEqual(plan.data?.images, { train: 8, val: 2, test: 10 });
  assert.equal(plan.estimate, null);
});

test("a real start records the protocol, its overrides and each run's settings; a resume keeps them", async () => {
  const argv = orchestrateArgv({
    data,
    db,
    pollMs: 50,
    workers: 1,
    models: ['baseline', 'augmented', 'mobilenet', 'mobilenet-ft'],
    experiment: 'seeded',
    epochs: 2,
    imageSize: 64,
  });
  const r = await runCli(argv);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /protocol seed: baseline x 10, augmented x 10, mobilenet x 10, mobilenet-ft x 1 = 31 runs/);
  await withDatabase(db, async (d) => {
    const x = await experiment(d, 'seeded');
    assert.equal(x.config.protocol.name, 'seed');
    assert.deepEqual(x.config.protocol.overrides, { epochs: 2, imageSize: 64 });
    assert.deepEqual(x.config.protocol.models.baseline.epochs, { value: 2, source: { override: '--epochs 2' } });
    assert.deepEqual(x.config.protocol.models.augmented.batchSize.value, 32);
    assert.equal(x.runs.length, 31);
    const ft = x.runs.filter((run) => run.model === 'mobilenet-ft');
    assert.deepEqual(
      ft.map((run) => run.run_index),
      [0],
    );
    const mobilenet = x.runs.find((run) => run.model === 'mobilenet')!.spec;
    assert.deepEqual([mobilenet.protocol, mobilenet.epochs, mobilenet.imageSize, mobilenet.inputScaling], ['seed', 2, 64, '[0, 1]']);
    assert.deepEqual(mobilenet.validation, { fraction: 0.2, take: 'first' });
    assert.equal(mobilenet.augment?.rotationRange, 30);
    assert.equal(x.runs.find((run) => run.model === 'baseline')!.spec.augment, null);
  });
  // Without --protocol the same command resumes with the recorded protocol; another protocol is refused by name.
  const again = await runCli(argv);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /31 already completed/);
  const other = await runCli([...argv, '--protocol', 'extended']);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /protocol\.name \(stored "seed", now "extended"\)/);
});

test('an experiment recorded before protocols resumes as extended, as before, and gets its protocol recorded', async () => {
  const out = tempDir('out');
  await withDatabase(db, async (d) => {
    // The config the orchestrator recorded before protocols existed.
    await createOrResumeExperiment(d, {
      name: 'legacy',
      config: { seed: 1, epochs: 2, imageSize: 64, batchSize: 32, backend: 'cpu', weights: null, out: resolve(out, 'legacy') },
      datasetFingerprint: null,
      datasetDir: data,
      codeVersion: 'old',
    });
  });
  const argv = orchestrateArgv({ data, db, out, pollMs: 50, workers: 1, models: ['baseline'], runs: 2, experiment: 'legacy', epochs: 2, imageSize: 64 });
  const seed = await runCli([...argv, '--protocol', 'seed']);
  assert.equal(seed.code, 1);
  assert.match(seed.stderr, /recorded before protocols and continues as --protocol extended/);
  const r = await runCli(argv);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /protocol extended \(recorded before protocols\)/);
  await withDatabase(db, async (d) => {
    const x = await experiment(d, 'legacy');
    assert.equal(x.config.protocol.name, 'extended');
    assert.equal(x.config.epochs, 2);
    assert.deepEqual(
      x.runs.map((run) => [run.spec.protocol, run.spec.validation?.take]),
      [
        ['extended', 'last'],
        ['extended', 'last'],
      ],
    );
    assert.equal((await listRuns(d, x.id)).filter((run) => run.status === 'completed').length, 2);
  });
});
