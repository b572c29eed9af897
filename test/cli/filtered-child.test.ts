/**
 * cli/filtered-child.mjs, bin/melanoma.mjs's way of running a command whose native stderr must pass the Dawn filter,
 * around a stand-in CLI (fixtures/dawn-child.mjs): the exit code and a fatal signal come back as the parent's own,
 * Dawn's lines are dropped unless verbose, SIGINT and SIGTERM sent to the parent alone reach the child, the child ends
 * with the parent, and on a terminal the child's JavaScript writes to the terminal itself.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const PARENT = join(import.meta.dirname, 'fixtures', 'filtered-parent.mjs');
const DAWN = /artificially reduced/;

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  // detached: a process group of its own that is no terminal's foreground, as where a signal comes from kill.
  const parent = spawn(process.execPath, [PARENT, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  parent.stdout.on('data', (d) => (stdout += d));
  parent.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    parent.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const childPid = async () => {
    while (!/pid \d+/.test(stdout)) await new Promise((r) => setTimeout(r, 20));
    return Number(/pid (\d+)/.exec(stdout)![1]);
  };
  return { parent, done, childPid };
}

/** Whether `pid` is a process that has not exited (a zombie has). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test("the child's exit code is the parent's; Dawn's lines are dropped, every other stderr line passes", async () => {
  const r = await start(['exit', '3']).done;
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'native: another line\njs: stderr is no terminal\n');
});

test("with MELANOMA_VERBOSE=1 Dawn's lines pass", async () => {
  const r = await start(['exit', '0'], { MELANOMA_VERBOSE: '1' }).done;
  assert.equal(r.code, 0);
  assert.equal(r.stderr.split('\n').filter((l) => DAWN.test(l)).length, 2, r.stderr);
});

test('a child ended by a signal ends the parent by the same signal', async () => {
  const r = await start(['kill-self']).done;
  assert.deepEqual([r.code, r.signal], [null, 'SIGTERM']);
});

test('SIGINT to the parent alone reaches the child, whose exit code comes back; so does SIGTERM', { timeout: 30_000 }, async () => {
  const interrupted = start(['wait']);
  await interrupted.childPid();
  interrupted.parent.kill('SIGINT');
  const r = await interrupted.done;
  assert.equal(r.code, 130);
  assert.match(r.stderr, /^interrupted$/m);

  const terminated = start(['wait']);
  await terminated.childPid();
  terminated.parent.kill('SIGTERM');
  assert.equal((await terminated.done).signal, 'SIGTERM');
});

test('kill -9 of the parent: the child ends with it', { skip: process.platform !== 'linux' && 'reads /proc', timeout: 30_000 }, async () => {
  const started = start(['wait']);
  const child = await started.childPid();
  started.parent.kill('SIGKILL');
  const until = Date.now() + 10_000;
  while (running(child)) {
    assert.ok(Date.now() < until, `the child ${child} still runs`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

test("on a terminal the child's process.stderr is the terminal, and Dawn's lines still do not show", (t) => {
  // script (util-linux) runs the command on a pseudo-terminal; its output is what the terminal showed.
  const r = spawnSync('script', ['-qec', `${process.execPath} ${PARENT} exit 4`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.stdout.length === 0) return t.skip('no util-linux script to give the command a terminal');
  assert.equal(r.status, 4, r.stdout + r.stderr);
  assert.match(r.stdout, /js: stderr is a terminal/);
  assert.match(r.stdout, /native: another line/);
  assert.doesNotMatch(r.stdout, DAWN);
});
