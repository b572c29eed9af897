/**
 * `melanoma predict` and `melanoma saliency` on a small finished experiment: a test image's ensemble is the mean of
 * the probabilities its runs stored for it; test-time views are seeded; bad input is one line and stores nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { openDatabase, runPredictions } from '../../../db/index.ts';
import type { ImageCall, PredictionDocument } from '../../../study/prediction.ts';
import { dumpDatabase } from '../../db/dump.ts';
import { trainedExperiment, type TrainedExperiment } from '../../helpers/trained-experiment.ts';
import { MELANOMA, runCli } from '../../orchestrator/helpers.ts';

const IMAGES = ['test/malignant/1.jpg', 'test/benign/1.jpg'] as const;

let trained: Promise<TrainedExperiment | null> | null = null;
/** The experiment both tests use, trained once (or null: the test is skipped). */
const experiment = (t: Parameters<typeof trainedExperiment>[0]) => (trained ??= trainedExperiment(t));
after(async () => (await trained)?.remove());

test("melanoma predict: each run's probability of two test images, and their ensemble, are the stored ones", async (t) => {
  const x = await experiment(t);
  if (!x) return t.skip('no real data');
  const files = IMAGES.map((image) => join(x.data, image));
  const r = await runCli(['predict', '--experiment', x.name, '--db', x.db, '--json', ...files], {}, MELANOMA);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as PredictionDocument;
  assert.equal(doc.model, 'baseline');
  assert.match(doc.chosenBy, /best mean val ROC AUC/);
  assert.equal(doc.runs.length, 2);
  assert.equal(doc.tta, 1);

  const database = await openDatabase(x.db, { create: false });
  const stored = await Promise.all(doc.runs.map((run) => runPredictions(database, run.runId, 'test')));
  await database.close();
  for (const [i, image] of IMAGES.entries()) {
    const got = doc.images[i]!;
    assert.equal(got.image, files[i]);
    const [theirs0, theirs1] = stored.map((rows) => rows.find((row) => row.image === image)!.probability) as [number, number];
    const theirs = [theirs0, theirs1];
    assert.equal(got.runs.length, 2);
    for (const [k, p] of theirs.entries()) assert.ok(Math.abs(got.runs[k]! - p) <= 1e-6, `${image} run ${k}: ${got.runs[k]}, stored ${p}`);
    const mean = (theirs0 + theirs1) / 2;
    assert.ok(Math.abs(got.probability - mean) <= 1e-6, `${image}: ensemble ${got.probability}, stored mean ${mean}`);
    assert.equal(got.min, Math.min(...got.runs));
    assert.equal(got.max, Math.max(...got.runs));
    const [at05, ...points] = got.calls as [ImageCall, ...ImageCall[]];
    assert.equal(at05.label, 'at 0.5');
    assert.equal(at05.malignant, got.probability > 0.5);
    assert.equal(at05.runsMalignant, got.runs.filter((p) => p > 0.5).length);
    assert.equal(points.length, 5, 'the five operating points');
    for (const [j, c] of points.entries()) {
      const rule = doc.thresholds[j + 1]!;
      assert.equal(c.runsMalignant, got.runs.filter((p, k) => rule.runs[k] != null && p > rule.runs[k]!).length, c.label);
    }
  }

  const text = await runCli(['predict', '--experiment', x.name, '--db', x.db, files[0]!], {}, MELANOMA);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`ensemble p ${doc.images[0]!.probability.toFixed(4)}, runs`));
  assert.match(text.stdout, /sensitivity at specificity ≥ 0\.80 +\S+ +(malignant|benign|-) +\d of 2/);
});

test('melanoma predict --tta, saliency, and bad input: one line each, nothing stored', async (t) => {
  const x = await experiment(t);
  if (!x) return t.skip('no real data');
  const file = join(x.data, IMAGES[0]);
  const database = await openDatabase(x.db, { create: false });
  const stored = await dumpDatabase(database);
  await database.close();

  const tta = [];
  for (let i = 0; i < 2; i++) tta.push(await runCli(['predict', '--experiment', x.name, '--db', x.db, '--tta', '4', '--json', file], {}, MELANOMA));
  for (const r of tta) assert.equal(r.code, 0, r.stderr);
  const [a, b] = tta.map((r) => JSON.parse(r.stdout) as PredictionDocument) as [PredictionDocument, PredictionDocument];
  assert.equal(a.tta, 4);
  assert.deepEqual(a.images, b.images, 'the views are seeded: the same numbers every time');

  const out = join(x.work, 'where.png');
  const s = await runCli(['saliency', '--run', '1', '--db', x.db, file, '--out', out], {}, MELANOMA);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /run 1 \(baseline #0 of 'tiny'\): p 0\.\d{4} for .*Grad-CAM of separable_conv2d_3 \(2x2\) written to/);
  const meta = await sharp(readFileSync(out)).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 224, 224], 'drawn over the image at its own size');

  const notImage = join(x.work, 'notes.jpg');
  writeFileSync(notImage, 'not a picture');
  const tiny = join(x.work, 'tiny.png');
  await sharp({ create: { width: 30, height: 40, channels: 3, background: '#a05050' } })
    .png()
    .toFile(tiny);
  const cases: [string[], RegExp][] = [
    [['predict', '--experiment', x.name, notImage], /notes\.jpg is not an image that can be read/],
    [['predict', '--experiment', x.name, tiny], /tiny\.png is 30x40 px: the runs take 48x48 px images/],
    [['predict', '--experiment', 'nope', file], /no experiment named 'nope'/],
    [['predict', '--experiment', x.name, '--model', 'augmented', file], /experiment 'tiny' has no completed run of augmented \(it has: baseline x 2\)/],
    [['predict', '--experiment', x.name, join(x.work, 'missing.jpg')], /no such file or folder: .*missing\.jpg/],
    [['predict', '--experiment', x.name, '--tta', '65', file], /65 views is over the 64/],
    [['saliency', '--run', '99', file, '--out', out], /no run 99 in/],
    [['saliency', '--run', '1', tiny, '--out', out], /tiny\.png is 30x40 px/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli([...args, '--db', x.db], {}, MELANOMA);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  const again = await openDatabase(x.db, { create: false });
  assert.deepEqual(await dumpDatabase(again), stored, 'the database is as it was');
  await again.close();
});
