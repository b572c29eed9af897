/**
 * The ensemble of a model's runs (web/queries.ts `ensemble`): each image's probability averaged over the completed
 * runs, scored by the project's metric code, against a hand computation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimNextRun, createOrResumeExperiment, ensureRuns, finishRun, openDatabase, recordEvent } from '../../db/index.ts';
import { ensemble } from '../../web/queries.ts';
import { runEvents, specFor } from '../db/fixtures.ts';
import { first } from '../../common/indexing.ts';

test('ensemble: the mean probability per image over the completed runs, scored like one run', async () => {
  const db = await openDatabase('memory://');
  try {
    const x = await createOrResumeExperiment(db, { name: 'ensemble', config: {}, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });
    await ensureRuns(
      db,
      x.id,
      [0, 1, 2].map((i) => ({ model: 'baseline' as const, runIndex: i, seed: i, spec: specFor('baseline', i) })),
    );
    // The fixture's test predictions: a (benign) 0.25, b (benign) v, c (malignant) 0.875, d (malignant) 1 - v.
    for (const [v, status] of [
      [0.7, 'completed'],
      [0.8, 'completed'],
      [0.3, 'failed'],
    ] as const) {
      const run = (await claimNextRun(db, x.id, 'cpu:0'))!;
      for (const event of runEvents(run.spec, v)) await recordEvent(db, run.id, event);
      await finishRun(db, run.id, { status });
    }
    const view = (await ensemble(db, x.id, 'test'))!;
    assert.equal(view.models.length, 1);
    const m = first(view.models);
    assert.deepEqual([m.model, m.runs, m.n], ['baseline', 2, 4], 'the failed run is left out');
    const f = Math.fround;
    const b = (f(0.7) + f(0.8)) / 2; // 0.75 + a little: a false alarm
    const d = (f(1 - 0.7) + f(1 - 0.8)) / 2; // 0.25 + a little: a missed melanoma, ranked just above a
    assert.deepEqual(m.confusion, { tp: 1, fp: 1, tn: 1, fn: 1 });
    assert.equal(m.metrics.accuracy, 0.5);
    assert.equal(m.metrics.precision, 0.5);
    assert.equal(m.metrics.recall, 0.5);
    // Pairs (malignant, benign): (c, a) (c, b) (d, a) right, (d, b) wrong.
    assert.equal(m.metrics.roc_auc, 3 / 4);
    // By falling threshold: c (precision 1, recall 1/2), b, d (precision 2/3, recall 1), a.
    assert.ok(Math.abs(m.metrics.pr_auc! - (0.5 * 1 + 0.5 * (2 / 3))) < 1e-12, `pr_auc ${m.metrics.pr_auc}`);
    const loss = -(Math.log(1 - 0.25) + Math.log(1 - b) + Math.log(0.875) + Math.log(d)) / 4;
    assert.ok(Math.abs(m.metrics.loss! - loss) < 1e-12, `loss ${m.metrics.loss} against ${loss}`);
    assert.deepEqual(
      (await ensemble(db, x.id, 'val'))!.models.map((e) => e.n),
      [4],
    );
    assert.equal(await ensemble(db, 999, 'test'), null);
  } finally {
    await db.close();
  }
});
