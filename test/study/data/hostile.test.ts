/**
 * Hostile dataset entries (see test/fixtures/hostile/README.md): JPEGs cut short are found by decoding every image,
 * each named with the decoder's reason; hidden files, .DS_Store and sub-folders in a class folder are skipped with a
 * warning naming each, and `melanoma data inspect --json` counts them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findBadImages } from '../../../study/data/check.ts';
import { indexDataset } from '../../../study/data/dataset.ts';
import { ImageCache } from '../../../study/data/image-cache.ts';
import { formatReport, inspectDataset } from '../../../study/data/inspect.ts';
import { hostileDataset } from '../../helpers/hostile-data.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';

const MELANOMA = join(PROJECT_ROOT, 'bin', 'melanoma.mjs');
const REASON = 'VipsJpeg: premature end of JPEG image';

test('a hidden image, a .DS_Store and a sub-folder in class folders: each skipped with a warning naming it', async () => {
  const root = await hostileDataset({ hiddenImage: true, dsStore: true, subfolder: true });
  try {
    const warnings: string[] = [];
    const index = await indexDataset(root, { warn: (m) => warnings.push(m) });
    const hidden = join(root, 'train', 'benign', '.hidden.jpg');
    const dsStore = join(root, 'train', 'malignant', '.DS_Store');
    const sub = join(root, 'test', 'benign', 'extra');
    assert.deepEqual(warnings, [
      `skipping ${hidden}: hidden file.`,
      `skipping ${dsStore}: hidden file.`,
      `skipping ${sub}: a sub-folder (class folders are not read recursively).`,
    ]);
    assert.deepEqual(
      index.skipped.map((s) => s.path),
      [hidden, dsStore, sub],
    );
    const ids = Object.values(index.splits)
      .flat()
      .map((r) => r.id);
    assert.equal(ids.length, 24, 'only the 6 images of each class folder are listed');
    assert.ok(!ids.some((id) => id.includes('hidden') || id.includes('extra') || id.includes('DS_Store')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('every truncated JPEG is found, in listing order, with the decoder reason; a clean one is cached', async () => {
  const root = await hostileDataset({ truncated: ['test/benign/2.jpg', 'train/malignant/3.jpg', 'train/benign/6.jpg'] });
  try {
    const index = await indexDataset(root);
    const records = [...index.splits.train, ...index.splits.val, ...index.splits.test];
    const cache = new ImageCache(64, 2 ** 30);
    const seen: number[] = [];
    const bad = await findBadImages(records, { imageSize: 64, cache, concurrency: 3, onProgress: (done) => seen.push(done) });
    // Both bad training images are training images (the seed protocol's validation is the first of each folder of
    // six): benign's listing comes before malignant's, then test's.
    assert.deepEqual(
      bad.map((b) => `${b.id}: ${b.reason}`),
      [`train/benign/6.jpg: ${REASON}`, `train/malignant/3.jpg: ${REASON}`, `test/benign/2.jpg: ${REASON}`],
    );
    assert.equal(bad[1]!.path, join(root, 'train', 'malignant', '3.jpg'));
    assert.deepEqual(
      seen,
      Array.from({ length: 24 }, (_, i) => i + 1),
    );
    assert.equal(cache.size, 21, 'the check keeps the pixels of every good image for the run');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('melanoma data inspect: unreadable images listed with their reason (exit 1); --json counts skipped entries', async () => {
  const root = await hostileDataset({ truncated: ['train/benign/2.jpg', 'test/malignant/5.jpg'], hiddenImage: true, dsStore: true, subfolder: true });
  try {
    const report = await inspectDataset(root, { expectedSize: 64 });
    assert.equal(report.images.checked, 24);
    assert.equal(report.images.unreadable, 2);
    assert.deepEqual(report.skipped.count, 3);
    const text = formatReport(report);
    assert.match(text, /24 decoded: .* 2 unreadable/);
    assert.ok(text.includes(`unreadable: ${join(root, 'train', 'benign', '2.jpg')}: ${REASON}`), text);
    assert.ok(text.includes(`unreadable: ${join(root, 'test', 'malignant', '5.jpg')}: ${REASON}`), text);
    assert.match(text, /skipped {6}3 entries of the class folders/);

    const json = spawnSync(process.execPath, [MELANOMA, 'data', 'inspect', '--data', root, '--image-size', '64', '--json'], { encoding: 'utf8' });
    assert.equal(json.status, 1, json.stderr);
    assert.equal(json.stderr, '', 'no progress and no warnings on stderr with --json (they are in the document)');
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.skipped.count, 3);
    assert.deepEqual(
      doc.skipped.entries.map((e: { reason: string }) => e.reason),
      ['hidden file', 'hidden file', 'a sub-folder (class folders are not read recursively)'],
    );
    assert.deepEqual(
      doc.images.unreadableFiles.map((b: { id: string; reason: string }) => `${b.id}: ${b.reason}`),
      [`train/benign/2.jpg: ${REASON}`, `test/malignant/5.jpg: ${REASON}`],
    );

    const plain = spawnSync(process.execPath, [MELANOMA, 'data', 'inspect', '--data', root, '--image-size', '64'], { encoding: 'utf8' });
    assert.equal(plain.status, 1);
    assert.ok(plain.stdout.includes(`unreadable: ${join(root, 'test', 'malignant', '5.jpg')}: ${REASON}`), plain.stdout);
    assert.ok(plain.stdout.includes(`warning: skipping ${join(root, 'train', 'malignant', '.DS_Store')}: hidden file.`), plain.stdout);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
