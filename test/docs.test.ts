/** The README stays a user's manual: short, its picture of the page present, every file it links to there. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from './helpers/real-data.ts';

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

test('the README is under 15 KB: measurements and results live in docs/', () => {
  assert.ok(Buffer.byteLength(README) < 15_000, `README.md is ${Buffer.byteLength(README)} bytes`);
});

test('every local file the README links to or shows exists, the picture of the experiment page among them', () => {
  const targets = [...README.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
  assert.ok(targets.includes('docs/images/experiment-page.png'));
  for (const target of targets) assert.ok(existsSync(join(PROJECT_ROOT, target)), `README.md links to ${target}, which is missing`);
  assert.ok(statSync(join(PROJECT_ROOT, 'docs/images/experiment-page.png')).size > 20_000);
});
