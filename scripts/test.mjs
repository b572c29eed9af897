#!/usr/bin/env node
// Runs the test suite with node's test runner (TypeScript through tsx), in two tiers:
//   npm test                           every test/**/*.test.ts: the whole suite, what CI runs
//   npm run test:unit                  the fast tier: every test file but the slow ones (*.slow.test.ts)
//   npm test -- test/study/data        only the files under that folder (or the files named)
//   npm run test:unit -- test/workers  the fast ones under that folder
// A test file is slow, and named *.slow.test.ts, when it takes more than a few seconds of CPU on its own: it runs a
// command as a user does (a child process), trains a model for epochs, drives a browser, opens databases (PGlite
// starts in seconds), waits on timeouts, or reads the whole real dataset. The fast tier runs its files two at a
// time or more (one per core): they compute in their own process and share nothing. The whole suite runs them one
// at a time, as its child processes, servers and timeouts expect.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const SLOW = '.slow.test.ts';

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => collect(join(path, name)));
}

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const roots = args.filter((a) => a !== '--unit');
const files = (roots.length ? roots : ['test']).flatMap(collect).filter((f) => !unit || !f.endsWith(SLOW));
if (files.length === 0) {
  console.error(`no ${unit ? 'fast ' : ''}test files under ${roots.join(', ') || 'test'}`);
  process.exit(1);
}
const concurrency = unit ? [`--test-concurrency=${Math.max(2, availableParallelism())}`] : [];
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...concurrency, ...files], {
  stdio: 'inherit',
  env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
});
process.exit(result.status ?? 1);
