/**
 * `orchestrate` with real worker threads (baseline, wasm, a tiny real subset at 48 px) killed with kill -9 at two
 * moments: once epoch 2 of the first attempt is stored, and once epoch 4 of the continued one is. Each invocation of the same
 * command continues the run from its last completed epoch: its epoch rows are 1..6 once each, and its numbers
 * equal those of the same run never stopped.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../db/index.ts';
import { realDataOrSkip, realSubset } from '../helpers/real-data.ts';
import { runCli, startCli, tempDir } from './helpers.ts';

/** Starts the command and kills it (SIGKILL) as soon as its stderr matches `moment`. */
async function killAt(argv: string[], moment: RegExp): Promise<string> {
  const started = startCli(argv);
  let stderr = '';
  started.child.stderr!.on('data', (d) => {
    stderr += d;
    if (moment.test(stderr)) started.child.kill('SIGKILL');
  });
  const done = await started.done;
  assert.equal(done.signal, 'SIGKILL', `it finished before the kill:\n${done.stderr}`);
  return done.stderr;
}

test('kill -9 once epoch 2 is stored, then once epoch 4 of the continued run is: the same command continues; rows 1..6 once; numbers = never stopped', async (t) => {
  if (!realDataOrSkip(t)) return;
  const data = realSubset({ train: 10, test: 4 });
  const db = join(tempDir('db'), 'db');
  const args = (experiment: string) => [
    '--data',
    data,
    '--db',
    db,
    '--out',
    tempDir('out'),
    '--models',
    'baseline',
    '--runs',
    '1',
    '--epochs',
    '6',
    '--image-size',
    '48',
    '--batch-size',
    '4',
    '--backend',
    'wasm',
    '--workers',
    '1',
    '--experiment',
    experiment,
  ];
  const argv = args('cut');
  // An epoch's line comes before its state is saved: once epoch 3's shows, epoch 2's state is on disk.
  const first = await killAt(argv, /epoch 3\/6/);
  assert.match(first, /epoch 2\/6/);
  const second = await killAt(argv, /epoch 5\/6/);
  assert.match(second, /continues after epoch [23], from /);
  assert.doesNotMatch(second, /epoch [12]\/6/, 'the continued run does not start again at epoch 1');
  const third = await runCli(argv);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /continues after epoch [45], from /);
  assert.doesNotMatch(third.stderr, /epoch [1-4]\/6/);

  const whole = await runCli(args('whole'));
  assert.equal(whole.code, 0, whole.stderr);

  const d = await openDatabase(db, { create: false });
  try {
    const rows = (experiment: string, sql: string) =>
      d.query<Record<string, unknown>>(
        `${sql.replace('$RUNS', `(select r.id from runs r join experiments e on e.id = r.experiment_id where e.name = '${experiment}')`)}`,
      );
    const epochs = `select epoch, split, loss, accuracy, precision, recall, roc_auc, pr_auc, improved from epoch_metrics where run_id in $RUNS order by epoch, split`;
    const finals = `select split, n, loss, accuracy, precision, recall, roc_auc, pr_auc, tp, fp, tn, fn from evaluations where run_id in $RUNS order by split`;
    const cut = await rows('cut', epochs);
    assert.deepEqual(
      cut.map((r) => `${r.epoch}${r.split}`),
      [1, 2, 3, 4, 5, 6].flatMap((e) => [`${e}train`, `${e}val`]),
    );
    assert.deepEqual(cut, await rows('whole', epochs));
    assert.deepEqual(await rows('cut', finals), await rows('whole', finals));
    const [run] = await rows('cut', `select status, attempts from runs where id in $RUNS`);
    assert.deepEqual(run, { status: 'completed', attempts: 3 });
  } finally {
    await d.close();
  }
});
