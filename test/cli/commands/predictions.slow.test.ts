/**
 * `melanoma predictions`: a completed run recorded without predictions gets them back from its checkpoint, the
 * same numbers the run stored; a checkpoint that does not give the stored evaluation stores nothing; the
 * experiment and the dataset are checked first.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase, runPredictions } from '../../../db/index.ts';
import { MELANOMA, runCli, tempDir } from '../../orchestrator/helpers.ts';
import { realDataOrSkip, realSubset } from '../../helpers/real-data.ts';

test("melanoma predictions: stores a checkpoint's predictions only when they give the stored evaluation", async (t) => {
  if (!realDataOrSkip(t)) return;
  const data = realSubset({ train: 10, test: 4 });
  const work = tempDir('predictions');
  const db = join(work, 'db');
  try {
    const args = ['--runs', '2', '--models', 'baseline', '--image-size', '48', '--epochs', '1', '--backend', 'wasm', '--workers', '1'];
    const trained = await runCli([...args, '--data', data, '--db', db, '--out', join(work, 'out'), '--experiment', 'old']);
    assert.equal(trained.code, 0, trained.stderr);

    // As if recorded before predictions were kept; run 2's stored test AUC no longer matches its checkpoint.
    let database = await openDatabase(db);
    const original = await runPredictions(database, 1, 'test');
    assert.equal(original.length, 8);
    await database.query('delete from predictions');
    await database.query("update evaluations set roc_auc = roc_auc / 2 where run_id = 2 and split = 'test'");
    await database.close();

    const missing = await runCli(['predictions', '--db', db, '--experiment', 'nope'], {}, MELANOMA);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no experiment named 'nope'/);
    const other = realSubset({ train: 9, test: 4 });
    const wrongData = await runCli(['predictions', '--db', db, '--experiment', 'old', '--data', other], {}, MELANOMA);
    rmSync(other, { recursive: true, force: true });
    assert.equal(wrongData.code, 1);
    assert.match(wrongData.stderr, /is not the dataset of 'old'/);

    const r = await runCli(['predictions', '--db', db, '--experiment', 'old'], {}, MELANOMA);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /run 1 \(baseline #0\): 16 train, 4 val, 8 test predictions stored \(the stored evaluation again/);
    assert.match(r.stderr, /run 2 \(baseline #1\): not stored, its checkpoint does not give the stored evaluation on wasm: test roc_auc/);
    assert.match(r.stderr, /1 of 2 runs were not stored/);

    database = await openDatabase(db);
    assert.deepEqual(await runPredictions(database, 1, 'test'), original, 'the numbers the run itself stored');
    assert.deepEqual(await runPredictions(database, 2, 'test'), []);
    await database.close();
    const again = await runCli(['predictions', '--db', db, '--experiment', 'old'], {}, MELANOMA);
    assert.equal(again.code, 1, 'run 2 is still refused');
    assert.doesNotMatch(again.stderr, /run 1 /, 'run 1 has its predictions: not redone');
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});
