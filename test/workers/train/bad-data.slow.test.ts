/**
 * `melanoma run` on hostile data (see test/fixtures/hostile/README.md): every image is decoded before the first
 * epoch and the run stops there naming every bad file, with nothing written; skipped entries are warned about.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostileDataset } from '../../helpers/hostile-data.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';

const MELANOMA = join(PROJECT_ROOT, 'bin', 'melanoma.mjs');
const REASON = 'VipsJpeg: premature end of JPEG image';

const run = (data: string, out: string) =>
  spawnSync(
    process.execPath,
    [MELANOMA, 'run', '--model', 'baseline', '--data', data, '--out', out, '--epochs', '1', '--image-size', '64', '--batch-size', '8', '--backend', 'cpu'],
    {
      encoding: 'utf8',
    },
  );

test('melanoma run: truncated JPEGs in train and test stop the run before epoch 1, each named with its reason', async () => {
  const root = await hostileDataset({ truncated: ['train/benign/1.jpg', 'test/malignant/4.jpg'] });
  const out = join(root, 'out');
  try {
    const r = run(root, out);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(`melanoma: 2 images of ${root} cannot be decoded; fix or remove them before training:\n`), r.stderr);
    assert.ok(r.stderr.includes(`  ${join(root, 'train', 'benign', '1.jpg')}: ${REASON}\n`), r.stderr);
    assert.ok(r.stderr.includes(`  ${join(root, 'test', 'malignant', '4.jpg')}: ${REASON}\n`), r.stderr);
    assert.doesNotMatch(r.stderr, /Epoch 1/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(out), false, 'nothing of the run is written');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('melanoma run: a hidden image, a .DS_Store and a sub-folder are named in warnings; the run trains without them', async () => {
  const root = await hostileDataset({ hiddenImage: true, dsStore: true, subfolder: true });
  const out = join(root, 'out');
  try {
    const r = run(root, out);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stderr.includes(`warning: skipping ${join(root, 'train', 'benign', '.hidden.jpg')}: hidden file.\n`), r.stderr);
    assert.ok(r.stderr.includes(`warning: skipping ${join(root, 'train', 'malignant', '.DS_Store')}: hidden file.\n`), r.stderr);
    assert.ok(r.stderr.includes(`warning: skipping ${join(root, 'test', 'benign', 'extra')}: a sub-folder`), r.stderr);
    assert.match(r.stderr, /data: 24 images checked in /);
    assert.match(r.stderr, /Epoch 1\/1/);
    assert.ok(existsSync(join(out, 'result.json')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
