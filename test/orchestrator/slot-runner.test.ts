import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSlotRunner } from '../../orchestrator/slot-runner.ts';
import type { RunEvent } from '../../study/run.ts';
import { runSpec } from '../helpers/run-spec.ts';

const THREAD_FILE = join(import.meta.dirname, 'fixtures', 'fake-thread.mjs');
const work = mkdtempSync(join(tmpdir(), 'orch-slot-'));
after(() => rmSync(work, { recursive: true, force: true }));

const spec = (seed: number) => runSpec({ dataDir: work, outDir: join(work, `run-${seed}`), seed, epochs: 3 });

// Seeds 2, 3, 4 (run indices 1, 2, 3) fail on their first attempt: thrown, process.exit in the thread, uncaught in a timer.
// Seed 50 never finishes.
process.env.FAKE_THREAD_FAULTS = JSON.stringify([
  { model: 'baseline', runIndex: 1, kind: 'throw', times: 1 },
  { model: 'baseline', runIndex: 2, kind: 'exit', times: 1 },
  { model: 'baseline', runIndex: 3, kind: 'timer', times: 1 },
  { model: 'baseline', runIndex: 49, kind: 'hang' },
]);

// A thread in a process of its own (slot-host.mjs): a thread crash there is piscina's, as in this process.
const slots = [
  { label: 'thread', mode: 'thread', ownProcess: false },
  { label: 'thread in its own process', mode: 'thread', ownProcess: true },
  { label: 'process', mode: 'process', ownProcess: false },
] as const;
const slot = { name: 'gpu0', gpu: 0 };

for (const { label, mode, ownProcess } of slots) {
  test(`${label}: every event arrives in order before the run settles; a crashed ${mode} is replaced`, async () => {
    process.env.FAKE_THREAD_STATE = mkdtempSync(join(work, 'faults-'));
    const runner = createSlotRunner(slot, { mode, ownProcess, threadFile: THREAD_FILE });
    try {
      const events: RunEvent['type'][] = [];
      const result = await runner.run(spec(1), (e) => events.push(e.type));
      assert.deepEqual(events, ['started', 'epoch', 'checkpoint', 'epoch', 'checkpoint', 'epoch', 'checkpoint', 'final']);
      assert.equal(result.history.length, 3);

      for (const [seed, message] of [
        [2, /injected failure/],
        [3, mode === 'thread' ? /exited with code: 3/ : /exited \(code 3\)/],
        [4, mode === 'thread' ? /uncaught error in a timer/ : /exited \(code 1\)/],
      ] as const) {
        const seen: string[] = [];
        await assert.rejects(
          runner.run(spec(seed), (e) => seen.push(e.type)),
          message,
        );
        // A process that exits right after posting may take its last message with it; nothing else may arrive.
        assert.ok(seen.length <= 1 && seen.every((t) => t === 'started'), `events before the fault: ${seen.join(', ')}`);
        // The slot still works: the same run succeeds on its second attempt.
        const again = await runner.run(spec(seed), () => {});
        assert.equal(again.spec.seed, seed);
      }
    } finally {
      await runner.close();
    }
  });
}

for (const { label, mode, ownProcess } of slots) {
  test(`${label}: aborting a run kills it, and the slot runs the next one`, async () => {
    const runner = createSlotRunner(slot, { mode, ownProcess, threadFile: THREAD_FILE });
    try {
      const controller = new AbortController();
      const running = runner.run(spec(50), () => {}, controller.signal);
      setTimeout(() => controller.abort(), 300);
      await assert.rejects(running, /abort/i);
      assert.equal((await runner.run(spec(51), () => {})).spec.seed, 51);
    } finally {
      await runner.close();
    }
  });
}
