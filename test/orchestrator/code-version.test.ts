/** The code version stored with an experiment: the commit, marked -dirty when the tree has uncommitted changes. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeVersion } from '../../orchestrator/code-version.ts';

test('a clean checkout gives its commit; a changed tracked file adds -dirty; no checkout gives null', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'code-version-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  assert.equal(codeVersion(dir), null);
  git('init', '-q');
  writeFileSync(join(dir, 'a.txt'), 'one\n');
  git('add', 'a.txt');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one');
  git('tag', 'v1');
  const head = git('rev-parse', '--short=7', 'HEAD');
  assert.equal(codeVersion(dir), head, 'a tag does not replace the commit');
  writeFileSync(join(dir, 'a.txt'), 'two\n');
  assert.equal(codeVersion(dir), `${head}-dirty`);
});
