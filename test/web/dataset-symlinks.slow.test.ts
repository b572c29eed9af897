/**
 * Links in the dataset folder: the Dataset view serves only files whose real path lies inside the folder; a link
 * to a JPEG or to /etc/passwd outside it is a 404 whose body names no path on the server.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { openDatabase, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { SPLITS } from '../../study/run.ts';
import { indexDataset } from '../../study/data/dataset.ts';

const root = mkdtempSync(join(tmpdir(), 'web-links-'));
const data = join(root, 'data');
const outside = join(root, 'outside');
let db: Database;
let server: RunningServer;
let ids: Map<string, number>;

const jpeg = (shade: number) =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: shade, g: 0, b: 0 } } })
    .jpeg()
    .toBuffer();

before(async () => {
  for (const split of ['train', 'test']) {
    for (const cls of ['benign', 'malignant']) {
      mkdirSync(join(data, split, cls), { recursive: true });
      for (let i = 0; i < 5; i++) writeFileSync(join(data, split, cls, `${i}.jpg`), await jpeg(40 * i));
    }
  }
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.jpg'), await jpeg(255));
  // '00-…' sorts before the real files, so the links stay in the training subset.
  symlinkSync(join(outside, 'secret.jpg'), join(data, 'train', 'benign', '00-outside.jpg'));
  symlinkSync('/etc/passwd', join(data, 'train', 'benign', '01-passwd.jpg'));
  symlinkSync(join(data, 'test', 'benign', '0.jpg'), join(data, 'train', 'benign', '02-inside.jpg'));
  const index = await indexDataset(data, { warn: () => {} });
  ids = new Map(SPLITS.flatMap((s) => index.splits[s]).map((r, i) => [r.id, i]));
  db = await openDatabase('memory://');
  server = await startServer({ db, port: 0, dataDir: data });
});

after(async () => {
  await server?.close();
  await db?.close();
  rmSync(root, { recursive: true, force: true });
});

async function get(path: string) {
  const res = await fetch(server.url + path);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()).toString('latin1') };
}

for (const [name, what] of [
  ['00-outside.jpg', 'a JPEG outside the folder'],
  ['01-passwd.jpg', '/etc/passwd'],
]) {
  test(`a link to ${what} is a 404 naming no path, as an image and augmented`, async () => {
    const id = ids.get(`train/benign/${name}`);
    assert.notEqual(id, undefined, 'the link is listed');
    for (const path of [`/api/dataset/images/${id}?size=16`, `/api/dataset/augmented/${id}?size=16`]) {
      const r = await get(path);
      assert.equal(r.status, 404, `${path}: ${r.body}`);
      assert.doesNotMatch(r.body, /\/(tmp|etc|root|home)\b|web-links-|passwd|secret/, `${path}: ${r.body}`);
    }
  });
}

test('a link to a file inside the folder, and a plain file, are served', async () => {
  for (const name of ['02-inside.jpg', '0.jpg']) {
    const r = await get(`/api/dataset/images/${ids.get(`train/benign/${name}`)}?size=16`);
    assert.equal(r.status, 200, name);
  }
});
