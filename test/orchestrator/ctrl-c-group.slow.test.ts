/**
 * Ctrl-C at a terminal sends SIGINT to the whole foreground process group. The processes the slots run in (webgpu
 * slots have one each) are not in it, so the orchestrator alone stops the runs: runs in flight are recorded
 * interrupted, none failed or retried, and the command exits 130.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { listRuns } from '../../db/index.ts';
import { withDatabase } from '../helpers/database.ts';
import { FAKE_THREAD, ORCHESTRATE, tempDir, tinyDataset } from './helpers.ts';

/** A field of each child process of `parent`, as ps lists it. */
function childrenOf(parent: number, field: 'pid' | 'pgid'): number[] {
  try {
    return execFileSync('ps', ['-o', `${field}=`, '--ppid', String(parent)], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .map(Number);
  } catch {
    return []; // ps exits 1 when it lists nothing
  }
}

test('Ctrl-C to the process group with slots in processes of their own: runs interrupted, none failed, exit 130', async () => {
  const db = join(tempDir('db'), 'db');
  const argv = [
    ...['--data', await tinyDataset(), '--db', db, '--out', tempDir('out'), '--thread-file', FAKE_THREAD, '--backend', 'webgpu'],
    ...['--workers', '2', '--no-estimate', '--runs', '2', '--models', 'baseline', '--epochs', '3', '--poll-ms', '50', '--experiment', 'group'],
  ];
  // detached: a process group of its own, as a shell gives a command it starts.
  const child = spawn(process.execPath, [ORCHESTRATE, ...argv], {
    env: { ...process.env, FAKE_THREAD_DELAY_MS: '4000' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The group's signal would reach every process of the group at once, in no set order: the slots' are not in it.
  const slotGroups = () => childrenOf(child.pid!, 'pgid');
  const until = Date.now() + 180_000;
  while ((stderr.match(/: started/g) ?? []).length < 2 || slotGroups().length < 2) {
    assert.ok(Date.now() < until, `the runs did not start in processes of their own:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(!slotGroups().includes(child.pid!), `the slots' processes are in the orchestrator's group ${child.pid}`);
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.doesNotMatch(stderr, /failed|retry|exited/i);
  await withDatabase(db, async (database) => {
    const experiment = (await database.query<{ id: number }>(`select id from experiments where name = 'group'`))[0]!;
    assert.deepEqual(
      (await listRuns(database, experiment.id)).map((r) => `${r.status}/${r.attempts}`),
      ['interrupted/1', 'interrupted/1'],
    );
  });
});

test('kill -9 of the orchestrator: the slots’ processes end with it', async () => {
  const argv = [
    ...['--data', await tinyDataset(), '--db', join(tempDir('db'), 'db'), '--out', tempDir('out'), '--thread-file', FAKE_THREAD, '--backend', 'webgpu'],
    ...['--workers', '2', '--no-estimate', '--runs', '2', '--models', 'baseline', '--epochs', '3', '--experiment', 'k9'],
  ];
  // Epochs of a minute: a slot's process learns of the loss at once, not when the run next sends an event.
  const child = spawn(process.execPath, [ORCHESTRATE, ...argv], {
    env: { ...process.env, FAKE_THREAD_DELAY_MS: '60000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const children = () => childrenOf(child.pid!, 'pid');
  // Two processes that each load the CLI take a while on a loaded machine: the wait ends early only if the orchestrator does.
  const until = Date.now() + 180_000;
  while (children().length < 2) {
    assert.equal(child.exitCode, null, `the orchestrator exited before its slots started:\n${stderr}`);
    assert.ok(Date.now() < until, `the slots’ processes did not start within 3 minutes:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const slots = children();
  child.kill('SIGKILL');
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const gone = Date.now() + 10_000;
  while (slots.some(alive)) {
    assert.ok(Date.now() < gone, `still running after the orchestrator was killed: ${slots.filter(alive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
