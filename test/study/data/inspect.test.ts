import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { formatReport, inspectDataset } from '../../../study/data/inspect.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';
import { makeDataset, names } from './fixtures.ts';

test('inspect: counts, ratios and the odd images', async () => {
  const root = await makeDataset(
    { train: { benign: names(1, 5, '.png'), malignant: names(1, 5, '.png') }, test: { benign: names(1, 2, '.png'), malignant: ['1.png'] } },
    { images: true, size: 24 },
  );
  try {
    await sharp(Buffer.alloc(24 * 24, 9), { raw: { width: 24, height: 24, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(join(root, 'test', 'benign', '2.png'));
    writeFileSync(join(root, 'train', 'malignant', '5.png'), 'broken');
    writeFileSync(join(root, 'train', 'malignant', 'list.csv'), 'x');
    const r = await inspectDataset(root, { expectedSize: 24 });
    assert.deepEqual(r.counts.train, { benign: 4, malignant: 4, total: 8, malignantRatio: 0.5 });
    assert.deepEqual(r.counts.val, { benign: 1, malignant: 1, total: 2, malignantRatio: 0.5 });
    assert.equal(r.counts.test.total, 3);
    assert.equal(r.all.total, 13);
    assert.equal(r.images.checked, 13);
    assert.equal(r.images.notRgb, 1);
    assert.equal(r.images.unreadable, 1);
    assert.equal(r.images.wrongSize, 0);
    assert.equal((await inspectDataset(root, { expectedSize: 32 })).images.wrongSize, 12);
    assert.equal(r.warnings.length, 1);
    const text = formatReport(r);
    assert.match(text, /train\s+4\s+4\s+8\s+50\.0%/);
    assert.match(text, /1 not 3-channel, 1 unreadable/);
    assert.match(text, new RegExp(r.fingerprint));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('melanoma data inspect --json prints the report, its validation files by --protocol; a missing folder is a one-line-per-hint error', async () => {
  const root = await makeDataset(
    { train: { benign: names(1, 5, '.png'), malignant: names(1, 5, '.png') }, test: { benign: ['1.png'], malignant: ['1.png'] } },
    { images: true, size: 24 },
  );
  try {
    const bin = join(PROJECT_ROOT, 'bin', 'melanoma.mjs');
    const out = execFileSync(process.execPath, [bin, 'data', 'inspect', '--data', root, '--json', '--image-size', '24'], { encoding: 'utf8' });
    const report = JSON.parse(out);
    assert.equal(report.counts.test.total, 2);
    assert.equal(report.images.wrongSize, 0);
    assert.deepEqual(report.firstValidation, { benign: 'train/benign/1.png', malignant: 'train/malignant/1.png' });
    const extended = JSON.parse(
      execFileSync(process.execPath, [bin, 'data', 'inspect', '--data', root, '--json', '--image-size', '24', '--protocol', 'extended'], { encoding: 'utf8' }),
    );
    assert.deepEqual(extended.firstValidation, { benign: 'train/benign/5.png', malignant: 'train/malignant/5.png' }, 'the last 20%');
    let failed: { status: number; stderr: string } | null = null;
    try {
      execFileSync(process.execPath, [bin, 'data', 'inspect', '--data', join(root, 'nope')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      failed = e as { status: number; stderr: string };
    }
    assert.ok(failed);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /does not exist/);
    assert.match(failed.stderr, /Kaggle/);
    assert.doesNotMatch(failed.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
