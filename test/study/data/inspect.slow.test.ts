/**
 * `melanoma data inspect` on the real dataset: every one of its 3297 images decoded, the validation rule named,
 * and the split where the article's protocols put it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { indexDataset } from '../../../study/data/dataset.ts';
import { validationRule } from '../../../study/protocol.ts';
import { PROJECT_ROOT, realDataOrSkip } from '../../helpers/real-data.ts';

test('real data: melanoma data inspect --json names the validation rule; its first validation file of each class is the first of the folder in sorted order', (t) => {
  const root = realDataOrSkip(t);
  if (!root) return;
  const bin = join(PROJECT_ROOT, 'bin', 'melanoma.mjs');
  const report = JSON.parse(execFileSync(process.execPath, [bin, 'data', 'inspect', '--data', root, '--json'], { encoding: 'utf8' }));
  assert.equal(report.validation.protocol, 'seed');
  assert.deepEqual(report.validation.rule, { fraction: 0.2, take: 'first' });
  assert.match(report.validation.description, /first 20%/);
  assert.match(report.validation.source, /^article 23/);
  for (const cls of ['benign', 'malignant'] as const) {
    const first: string = [...readdirSync(join(root, 'train', cls))].sort()[0]!;
    assert.equal(report.firstValidation[cls], `train/${cls}/${first}`);
  }
  assert.deepEqual([report.counts.train.total, report.counts.val.total], [2110, 527]);
});

test("real data: the extended protocol's validation files are the last 20% of each class folder in sorted order", async (t) => {
  const root = realDataOrSkip(t);
  if (!root) return;
  const data = await indexDataset(root, { validation: validationRule('extended') });
  const lastBenign: string = [...readdirSync(join(root, 'train', 'benign'))].sort()[1440 - 288]!;
  assert.equal(data.splits.val[0]?.id, `train/benign/${lastBenign}`);
  assert.deepEqual([data.splits.train.length, data.splits.val.length], [2110, 527]);
});
