/**
 * The snapshot of a held folder (db/folder-snapshot.ts): the holder's copy leaves our own files out and is private;
 * the reader opens and deletes only a path that is such a copy, directly in its temporary folder, and refuses every
 * other path the holder could answer.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENDPOINT_FILE } from '../../db/folder-endpoint.ts';
import { LOCK_FILE } from '../../db/folder-lock.ts';
import { checkSnapshotPath, takeSnapshot } from '../../db/folder-snapshot.ts';

/** A temporary folder standing in for the OS one, and a folder with a database's files and ours. */
function setUp() {
  const tmp = mkdtempSync(join(tmpdir(), 'snapshot-test-'));
  const dir = join(tmp, 'held');
  mkdirSync(join(dir, 'base'), { recursive: true });
  writeFileSync(join(dir, 'PG_VERSION'), '17\n');
  writeFileSync(join(dir, 'base', 'page'), 'rows');
  for (const ours of [LOCK_FILE, ENDPOINT_FILE, `${ENDPOINT_FILE}.123`]) writeFileSync(join(dir, ours), '{}');
  return { tmp, dir };
}

test("the holder's copy is a private folder in the one asked for, with the database's files and none of ours", () => {
  const { tmp, dir } = setUp();
  const folder = takeSnapshot(dir, tmp);
  assert.equal(statSync(folder).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(join(folder, 'db')).sort(), ['PG_VERSION', 'base']);
  assert.equal(readFileSync(join(folder, 'db', 'base', 'page'), 'utf8'), 'rows');
  assert.equal(checkSnapshotPath(folder, tmp), folder);
});

test('the holder copies only into an existing folder named by its absolute path', () => {
  const { tmp, dir } = setUp();
  for (const into of ['relative', join(tmp, 'missing'), join(dir, 'PG_VERSION')]) {
    assert.throws(() => takeSnapshot(dir, into), /a snapshot goes into an existing folder given by its absolute path/, into);
  }
  assert.deepEqual(readdirSync(tmp), ['held'], 'no folder left behind');
});

test('a path that is not such a copy directly in the temporary folder is refused, and nothing there is touched', () => {
  const { tmp, dir } = setUp();
  const real = takeSnapshot(dir, tmp);
  const name = (suffix: string) => join(tmp, `melanoma-snapshot-${suffix}`);
  const nested = mkdtempSync(join(mkdtempSync(join(tmp, 'sub-')), 'melanoma-snapshot-'));
  const otherName = mkdtempSync(join(tmp, 'melanoma-copy-'));
  const link = name('a-link');
  symlinkSync(real, link);
  const file = name('afile1');
  writeFileSync(file, '');
  const open = mkdtempSync(join(tmp, 'melanoma-snapshot-'));
  chmodSync(open, 0o755);
  const refused: [unknown, RegExp][] = [
    [undefined, /is not a plain absolute path/],
    [42, /is not a plain absolute path/],
    ['melanoma-snapshot-abcdef', /is not a plain absolute path/],
    [`${tmp}/sub/../${real.slice(tmp.length + 1)}`, /is not a plain absolute path/],
    [dir, /is not a snapshot folder directly in/],
    [nested, /is not a snapshot folder directly in/],
    [otherName, /is not a snapshot folder directly in/],
    [tmp, /is not a snapshot folder directly in/],
    ['/', /is not a snapshot folder directly in/],
    [link, /is not a snapshot folder directly in/], // no mkdtemp name
    [name('abcdef'), /is not a folder/], // missing
    [file, /is not a folder/],
    [open, /others may read or write/],
  ];
  // A link with a mkdtemp-like name is still a link.
  const link6 = name('lnk123');
  symlinkSync(real, link6);
  refused.push([link6, /is not a folder/]);
  if (process.getuid?.() === 0) {
    const theirs = mkdtempSync(join(tmp, 'melanoma-snapshot-'));
    chownSync(theirs, 65534, 65534);
    refused.push([theirs, /belongs to another user/]);
  } else process.stderr.write('\n*** SKIPPED: the case of a folder of another user needs root (chown) ***\n');
  for (const [path, why] of refused) {
    assert.throws(() => checkSnapshotPath(path, tmp), why, String(path));
    assert.throws(() => checkSnapshotPath(path, tmp), /it was not opened\.$/);
  }
  assert.equal(checkSnapshotPath(real, tmp), real);
  assert.ok(statSync(join(real, 'db', 'PG_VERSION')).isFile(), 'the real copy is still there');
});
