import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UserError } from '../../../common/errors.ts';
import { applyAugment, DEFAULT_AUGMENT } from '../../../study/data/augment.ts';
import { indexDataset, type ImageRecord } from '../../../study/data/dataset.ts';
import { decodeImage } from '../../../study/data/decode.ts';
import { ImageCache } from '../../../study/data/image-cache.ts';
import { imageCacheFor } from '../../../workers/train/run.ts';
import { augmentedPixels, batches, epochOrder, type Batch, type LoaderOptions } from '../../../study/data/loader.ts';
import { makeDataset, names, tempDir } from './fixtures.ts';

const SIZE = 16;
let root = '';
let records: ImageRecord[] = [];
const scratch = tempDir();

before(async () => {
  root = await makeDataset(
    { train: { benign: names(1, 6, '.png'), malignant: names(1, 5, '.png') }, test: { benign: ['1.png'], malignant: ['1.png'] } },
    { images: true, size: 20 }, // 20 px files, loaded at 16 px
  );
  records = (await indexDataset(root, { validation: { fraction: 0, take: 'first' } })).splits.train;
});
after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const options = (o: Partial<LoaderOptions> = {}): LoaderOptions => ({
  imageSize: SIZE,
  batchSize: 4,
  shuffle: true,
  seed: 3,
  epoch: 1,
  augment: null,
  cache: null,
  ...o,
});

async function collect(recs: ImageRecord[], o: LoaderOptions): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of batches(recs, o)) out.push(b);
  return out;
}

test('an epoch: every record once, batches of batchSize and a smaller last one, labels, the decoded bytes', async () => {
  assert.equal(records.length, 11);
  const got = await collect(records, options());
  assert.deepEqual(
    got.map((b) => b.size),
    [4, 4, 3],
  );
  const ids = got.flatMap((b) => b.ids);
  assert.deepEqual([...ids].sort(), records.map((r) => r.id).sort());
  for (const b of got) {
    assert.equal(b.pixels.length, b.size * SIZE * SIZE * 3);
    assert.equal(b.imageSize, SIZE);
    assert.equal(b.augment, null);
    assert.equal(augmentedPixels(b), b.pixels);
    for (const [k, id] of b.ids.entries()) assert.equal(b.y[k], records.find((r) => r.id === id)!.label);
  }
  const last = got[2]!;
  const px = await decodeImage(records.find((r) => r.id === last.ids[2])!.path, SIZE);
  assert.deepEqual(last.pixels.subarray(2 * px.length), px);
});

test('same seed and epoch -> same batches; another epoch or seed -> another order; no shuffle keeps the order', async () => {
  const a = await collect(records, options());
  const b = await collect(records, options({ prefetch: 1 }));
  assert.deepEqual(
    a.map((x) => x.ids),
    b.map((x) => x.ids),
  );
  assert.deepEqual(
    a.map((x) => x.pixels),
    b.map((x) => x.pixels),
  );
  const other = await collect(records, options({ epoch: 2 }));
  assert.notDeepEqual(
    other.flatMap((x) => x.ids),
    a.flatMap((x) => x.ids),
  );
  assert.notDeepEqual(epochOrder(11, 4, 1), epochOrder(11, 3, 1));
  assert.deepEqual(epochOrder(11, 3, 1), epochOrder(11, 3, 1));
  const plain = await collect(records, options({ shuffle: false }));
  assert.deepEqual(
    plain.flatMap((x) => x.ids),
    records.map((r) => r.id),
  );
});

test('augmentation is fixed by (seed, epoch) and changes with the epoch', async () => {
  const aug = options({ augment: DEFAULT_AUGMENT, shuffle: false });
  const a = await collect(records, aug);
  const b = await collect(records, { ...aug, prefetch: 3 });
  assert.deepEqual(
    a.map((x) => x.augment),
    b.map((x) => x.augment),
  );
  assert.deepEqual(a.map(augmentedPixels), b.map(augmentedPixels));
  const c = await collect(records, { ...aug, epoch: 2 });
  assert.notDeepEqual(augmentedPixels(a[0]!), augmentedPixels(c[0]!));
  // The bytes stay as decoded; the augmentation is one parameter set per image, applied by augmentedPixels.
  const clean = await collect(records, options({ shuffle: false }));
  assert.deepEqual(
    a.map((x) => x.pixels),
    clean.map((x) => x.pixels),
  );
  assert.deepEqual(
    a.map((x) => x.augment!.length),
    [4, 4, 3],
  );
  assert.notDeepEqual(augmentedPixels(a[0]!), clean[0]!.pixels);
  const n = SIZE * SIZE * 3;
  assert.deepEqual(augmentedPixels(a[1]!).subarray(n, 2 * n), applyAugment(a[1]!.pixels.subarray(n, 2 * n), SIZE, a[1]!.augment![1]!));
});

test('saveAugmentedDir receives every augmented image, named e<epoch>_<index>_<class>-<file>.png', async () => {
  const dir = join(scratch, 'augmented');
  await collect(records, options({ augment: DEFAULT_AUGMENT, saveAugmentedDir: dir, epoch: 4 }));
  const files = readdirSync(dir).sort();
  assert.equal(files.length, records.length);
  assert.ok(files.includes('e4_0_benign-1.png'), files.join(' '));
  assert.ok(files.includes(`e4_10_malignant-${records[10]!.id.split('/')[2]!.replace('.png', '')}.png`), files.join(' '));
  // Nothing is saved when there is no augmentation (evaluation batches).
  const none = join(scratch, 'none');
  await collect(records, options({ saveAugmentedDir: none }));
  assert.throws(() => readdirSync(none));
});

test('the cache serves later epochs and stays within its budget', async () => {
  const cache = new ImageCache(SIZE, SIZE * SIZE * 3 * 5);
  const first = await collect(records, options({ cache }));
  assert.equal(cache.size, 5);
  assert.equal(cache.bytes, SIZE * SIZE * 3 * 5);
  assert.equal(cache.misses, 11);
  const again = await collect(records, options({ cache }));
  assert.equal(cache.hits, 5);
  assert.deepEqual(
    again.map((b) => b.pixels),
    first.map((b) => b.pixels),
  );
  await assert.rejects(collect(records, options({ cache: new ImageCache(32, 1e6) })), /32 px/);
  assert.throws(() => cache.set('x', new Uint8Array(3)), /holds 16x16x3/);
});

test('a corrupt image fails its batch with a UserError naming the file; stopping early is clean', async () => {
  const bad = join(scratch, 'bad.png');
  writeFileSync(bad, 'not a png');
  const recs = [...records, { id: 'train/benign/bad.png', path: bad, label: 0 as const, split: 'train' as const }];
  await assert.rejects(collect(recs, options({ shuffle: false })), (e: Error) => e instanceof UserError && e.message.includes(bad));
  for await (const b of batches(recs, options({ shuffle: false, batchSize: 2 }))) {
    assert.equal(b.size, 2);
    break; // the batches still being built (one of them will fail) must not surface as unhandled rejections
  }
  await new Promise((r) => setTimeout(r, 100));
});

test('a worker thread keeps its decoded images from one run to the next, for the same dataset and image size', () => {
  const data = { root: '/data/a', fingerprint: 'f1' };
  const first = imageCacheFor(data, SIZE);
  first.set('train/benign/1.jpg', new Uint8Array(SIZE * SIZE * 3));
  assert.equal(imageCacheFor({ ...data }, SIZE), first, 'the next run of the same dataset and size');
  assert.equal(imageCacheFor(data, SIZE).size, 1);
  const other = imageCacheFor(data, SIZE + 1);
  assert.notEqual(other, first, 'another image size');
  assert.equal(first.size, 0, 'the images of the previous key are let go');
  const elsewhere = imageCacheFor({ root: '/data/b', fingerprint: 'f1' }, SIZE + 1);
  assert.notEqual(elsewhere, other, 'another folder');
  assert.notEqual(imageCacheFor({ root: '/data/b', fingerprint: 'f2' }, SIZE + 1), elsewhere, 'other files');
});
