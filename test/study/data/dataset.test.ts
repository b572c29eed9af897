import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../../common/errors.ts';
import { indexDataset, kerasSplit, pythonSort, resolveDataDir } from '../../../study/data/dataset.ts';
import { realDataOrSkip } from '../../helpers/real-data.ts';
import { makeDataset, names, tempDir } from './fixtures.ts';

const small = () => ({
  train: { benign: names(1, 12), malignant: names(1, 5, '.png') },
  test: { benign: names(1, 3), malignant: names(1, 2) },
});

test('real dataset: the published split sizes and a Keras validation split of 20%', async (t) => {
  const root = realDataOrSkip(t);
  if (!root) return;
  const index = await indexDataset(root);
  const count = (split: 'train' | 'val' | 'test', label: 0 | 1) => index.splits[split].filter((r) => r.label === label).length;
  assert.deepEqual({ train: index.splits.train.length, val: index.splits.val.length, test: index.splits.test.length }, { train: 2110, val: 527, test: 660 });
  assert.deepEqual([count('train', 0), count('train', 1)], [1152, 958]);
  assert.deepEqual([count('val', 0), count('val', 1)], [288, 239]);
  assert.deepEqual([count('test', 0), count('test', 1)], [360, 300]);
  // The default (seed) protocol: validation = the FIRST 20% of each train class folder in string order, as Keras'
  // flow_from_directory(subset='validation') takes it; train and val do not overlap.
  const trainIds = new Set(index.splits.train.map((r) => r.id));
  assert.ok(index.splits.val.every((r) => !trainIds.has(r.id) && r.id.startsWith('train/')));
  for (const [label, cls, n, cut] of [
    [0, 'benign', 1440, 288],
    [1, 'malignant', 1197, 239],
  ] as const) {
    const sorted: string[] = readdirSync(join(root, 'train', cls))
      .sort()
      .map((f) => `train/${cls}/${f}`);
    assert.equal(sorted.length, n);
    assert.deepEqual(
      index.splits.val.filter((r) => r.label === label).map((r) => r.id),
      sorted.slice(0, cut),
    );
    assert.deepEqual(
      index.splits.train.filter((r) => r.label === label).map((r) => r.id),
      sorted.slice(cut),
    );
  }
  // The extended protocol (and every run recorded before protocols): the last 20%, the article's sentence.
  const last = await indexDataset(root, { validation: { fraction: 0.2, take: 'last' } });
  const benignSorted = readdirSync(join(root, 'train', 'benign'))
    .sort()
    .map((f) => `train/benign/${f}`);
  assert.deepEqual(
    last.splits.val.filter((r) => r.label === 0).map((r) => r.id),
    benignSorted.slice(1440 - 288),
  );
  assert.equal(last.splits.val.length, 527);
  assert.equal(index.fingerprint.length, 64);
  assert.equal((await indexDataset(root)).fingerprint, index.fingerprint);
});

test("the extended protocol's validation takes the last floor(v*n) names of each class in Python's string order", async () => {
  const root = await makeDataset(small());
  try {
    const index = await indexDataset(root, { validation: { fraction: 0.2, take: 'last' } });
    const val = index.splits.val.map((r) => r.id);
    // 12 benign: '1','10','11','12','2',...,'9': floor(2.4) = 2 -> the last two, 8.jpg and 9.jpg; 5 malignant -> 1 file.
    const malignant = index.splits.train
      .concat(index.splits.val)
      .filter((r) => r.label === 1)
      .map((r) => r.id);
    assert.deepEqual(val, ['train/benign/8.jpg', 'train/benign/9.jpg', malignant[malignant.length - 1]]);
    assert.deepEqual(
      index.splits.train.filter((r) => r.label === 0).map((r) => r.id.split('/')[2]),
      ['1.jpg', '10.jpg', '11.jpg', '12.jpg', '2.jpg', '3.jpg', '4.jpg', '5.jpg', '6.jpg', '7.jpg'],
    );
    assert.deepEqual(
      index.splits.test.map((r) => `${r.id}:${r.label}:${r.split}`),
      ['test/benign/1.jpg:0:test', 'test/benign/2.jpg:0:test', 'test/benign/3.jpg:0:test', 'test/malignant/1.jpg:1:test', 'test/malignant/2.jpg:1:test'],
    );
    assert.ok(index.splits.val.every((r) => r.split === 'val' && r.path === join(root, r.id)));
    const half = await indexDataset(root, { validation: { fraction: 0.5, take: 'last' } });
    assert.equal(half.splits.val.length, 6 + 2);
    assert.equal(half.fingerprint, index.fingerprint, 'the fingerprint describes the files, not the split');
    const none = await indexDataset(root, { validation: { fraction: 0, take: 'last' } });
    assert.equal(none.splits.val.length, 0);
    await assert.rejects(indexDataset(root, { validation: { fraction: 1, take: 'last' } }), UserError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the seed protocol's validation takes the first int(v*n) names of each class, as Keras' DirectoryIterator", async () => {
  const root = await makeDataset(small());
  try {
    const index = await indexDataset(root); // the default protocol, seed
    // 12 benign in string order '1','10','11','12','2',...: int(0.2 * 12) = 2 -> 1.jpg and 10.jpg; 5 malignant -> 1 file.
    const malignant = index.splits.train
      .concat(index.splits.val)
      .filter((r) => r.label === 1)
      .map((r) => r.id)
      .sort();
    assert.deepEqual(
      index.splits.val.map((r) => r.id),
      ['train/benign/1.jpg', 'train/benign/10.jpg', malignant[0]],
    );
    assert.deepEqual(
      index.splits.train.filter((r) => r.label === 0).map((r) => r.id.split('/')[2]),
      ['11.jpg', '12.jpg', '2.jpg', '3.jpg', '4.jpg', '5.jpg', '6.jpg', '7.jpg', '8.jpg', '9.jpg'],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('string order and the Keras cut', () => {
  assert.deepEqual(pythonSort(['2.jpg', '10.jpg', '1.jpg', 'B.jpg', 'a.jpg']), ['1.jpg', '10.jpg', '2.jpg', 'B.jpg', 'a.jpg']);
  assert.deepEqual(kerasSplit([1, 2, 3, 4, 5, 6, 7], { fraction: 0.2, take: 'last' }), { train: [1, 2, 3, 4, 5, 6], val: [7] });
  assert.deepEqual(kerasSplit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { fraction: 0.2, take: 'first' }), { train: [3, 4, 5, 6, 7, 8, 9, 10], val: [1, 2] });
});

test('non-image files, hidden files and sub-folders are skipped with a warning naming each', async () => {
  const root = await makeDataset(small());
  try {
    writeFileSync(join(root, 'train', 'benign', 'notes.txt'), 'x');
    writeFileSync(join(root, 'train', 'benign', '.DS_Store'), 'x');
    writeFileSync(join(root, 'test', 'malignant', 'UPPER.JPEG'), 'x');
    mkdirSync(join(root, 'test', 'benign', 'sub'));
    const warnings: string[] = [];
    const index = await indexDataset(root, { warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 3);
    assert.equal(warnings[0], `skipping ${join(root, 'train', 'benign', '.DS_Store')}: hidden file.`);
    assert.match(warnings[1]!, /notes\.txt.*not an image/);
    assert.ok(warnings[1]!.includes(join(root, 'train', 'benign', 'notes.txt')));
    assert.match(warnings[2]!, /test\/benign\/sub: a sub-folder/);
    assert.equal(index.skipped.length, 3);
    assert.equal(index.splits.train.length + index.splits.val.length, 17);
    assert.ok(index.splits.test.some((r) => r.id === 'test/malignant/UPPER.JPEG'));
    const before = (await indexDataset(await makeDataset(small()))).fingerprint;
    assert.notEqual(index.fingerprint, before, 'an added image changes the fingerprint');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('missing test/, a missing or empty class folder: UserError naming the path', async () => {
  const root = await makeDataset(small());
  try {
    rmSync(join(root, 'test', 'malignant'), { recursive: true });
    mkdirSync(join(root, 'test', 'malignant'));
    writeFileSync(join(root, 'test', 'malignant', 'readme.md'), 'x');
    await assert.rejects(indexDataset(root, { warn: () => {} }), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /test\/malignant has no images/);
      return true;
    });
    rmSync(join(root, 'test', 'malignant'), { recursive: true });
    await assert.rejects(indexDataset(root), /missing class folder .*test\/malignant/);
    rmSync(join(root, 'test'), { recursive: true });
    await assert.rejects(indexDataset(root), (e: Error) => e instanceof UserError && e.message.includes(join(root, 'test')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('resolveDataDir: flag, then $MELANOMA_DATA, then ./data; a missing folder says how to get the data', () => {
  const dir = tempDir();
  const saved = process.env.MELANOMA_DATA;
  try {
    assert.equal(resolveDataDir(dir), dir);
    process.env.MELANOMA_DATA = dir;
    assert.equal(resolveDataDir(), dir);
    assert.throws(
      () => resolveDataDir(join(dir, 'nope')),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.ok(e.message.includes(join(dir, 'nope')));
        assert.match(e.message, /Skin Cancer: Malignant vs\. Benign/);
        assert.match(e.message, /Claudio Fanconi/);
        assert.match(e.message, /MELANOMA_DATA/);
        return true;
      },
    );
    delete process.env.MELANOMA_DATA;
    if (existsSync(resolve('data'))) assert.equal(resolveDataDir(), resolve('data'));
    else
      assert.throws(
        () => resolveDataDir(),
        (e: Error) => e instanceof UserError && e.message.includes(resolve('data')),
      );
  } finally {
    if (saved === undefined) delete process.env.MELANOMA_DATA;
    else process.env.MELANOMA_DATA = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
