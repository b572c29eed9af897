/**
 * `melanoma data duplicates` on a real subset with planted duplicates: the JSON document, the test metrics of an
 * experiment without the leaked image (equal to the runs' metric code on its stored predictions), the Markdown,
 * and bad input refused before any image is decoded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase } from '../../../db/index.ts';
import { METRIC_NAMES } from '../../../study/run.ts';
import { indexDataset } from '../../../study/data/dataset.ts';
import { evaluateBinary } from '../../../study/metrics/index.ts';
import { tempDir } from '../../db/fixtures.ts';
import { plantedSubset, type PlantedSubset } from '../../helpers/planted-duplicates.ts';
import { hasRealData, PROJECT_ROOT, REAL_DATA } from '../../helpers/real-data.ts';
import { buildExperiment } from '../../web/fixtures.ts';

function melanoma(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), 'data', 'duplicates', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const skip = hasRealData() ? false : `SKIPPED: needs the real dataset at ${REAL_DATA} (../shared is absent)`;
if (skip) process.stderr.write(`\n*** ${skip} ***\n`);

let subset: PlantedSubset;
let db = '';
let runIds: number[] = [];

before(async () => {
  if (skip) return;
  subset = await plantedSubset(REAL_DATA);
  db = join(tempDir('duplicates'), 'db');
  const database = await openDatabase(db);
  const index = await indexDataset(subset.dir, { warn: () => {} });
  const count = (split: 'train' | 'val' | 'test') => ({
    benign: index.splits[split].filter((r) => r.label === 0).length,
    malignant: index.splits[split].filter((r) => r.label === 1).length,
  });
  const dataset = { fingerprint: index.fingerprint, images: index.splits };
  const counts = { train: count('train'), val: count('val'), test: count('test') };
  const built = await buildExperiment(database, {
    name: 'on the subset',
    runs: [0, 1].map(() => ({ model: 'baseline' as const, epochs: 4, bestEpoch: 2, counts })),
    dataset,
  });
  runIds = built.runIds;
  await database.close();
});

after(() => {
  if (subset) rmSync(subset.dir, { recursive: true, force: true });
});

test('--json: the planted pairs, and the test metrics without the leaked image from the stored predictions', { skip }, async () => {
  const r = await melanoma('--data', subset.dir, '--experiment', 'on the subset', '--db', db, '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(
    doc.duplicates.pairs.map((p: { kind: string; a: string; b: string }) => [p.kind, p.a, p.b]),
    [
      ['exact', subset.twin, subset.twinCopy],
      ['near', subset.source, subset.planted],
    ],
  );
  assert.deepEqual(doc.duplicates.leakedTest, [subset.planted]);
  assert.equal(doc.copies.copies, doc.duplicates.images);
  assert.ok(doc.copies.maxBits < doc.duplicates.threshold);

  const [row] = doc.effect.rows;
  assert.deepEqual([row.model, row.runs, row.images.all, row.images.kept], ['baseline', 2, 17, 16]);
  const database = await openDatabase(db);
  try {
    const kept = [];
    for (const id of runIds) {
      const rows = await database.query<{ image: string; label: number; probability: number }>(
        "select image, label, probability from predictions where run_id = $1 and split = 'test' and image <> $2 order by image",
        [id, subset.planted],
      );
      kept.push(
        evaluateBinary(
          rows.map((x) => x.label),
          rows.map((x) => Math.fround(x.probability)),
        ).metrics,
      );
    }
    for (const k of METRIC_NAMES) assert.ok(Math.abs(row.metrics[k].kept.mean - (kept[0]![k] + kept[1]![k]) / 2) < 1e-12, k);
  } finally {
    await database.close();
  }
});

test('--markdown: the document of docs/duplicates.md', { skip }, async () => {
  const r = await melanoma('--data', subset.dir, '--experiment', 'on the subset', '--db', db, '--markdown');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# Duplicates within and across the splits\n/);
  assert.match(r.stdout, /\| train–test \| 0 \| 1 \|/);
  assert.match(r.stdout, /\*\*1 of the 17 test images\*\* have an exact or near duplicate in train or val/);
  assert.ok(r.stdout.includes(`| near | `) && r.stdout.includes(`\`${subset.planted}\``));
  assert.match(r.stdout, /\| baseline \| 2 \| roc_auc \| /);
  assert.ok(!r.stdout.includes(subset.dir), 'no machine path');
});

test('bad input is refused before any image is decoded', { skip }, async () => {
  const cases: [string[], RegExp][] = [
    [['--data', subset.dir, '--threshold', '300'], /--threshold.*'300' is more than the hash's 256 bits/],
    [['--data', subset.dir, '--threshold', '-1'], /--threshold/],
    [['--data', subset.dir, '--json', '--markdown'], /--json and --markdown exclude each other/],
    [['--data', subset.dir, '--db', db], /--db names the database of --experiment/],
    [['--data', subset.dir, '--experiment', 'nope', '--db', db], /no experiment named 'nope'/],
    [['--data', join(subset.dir, 'absent')], /does not exist/],
  ];
  for (const [args, message] of cases) {
    const r = await melanoma(...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '');
  }
});
