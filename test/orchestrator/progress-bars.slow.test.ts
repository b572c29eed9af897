/** Progress events of a run (the scripted thread's) reach the slot's bar: the step counter, images/s and ETA. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { openDatabase } from '../../db/index.ts';
import { describePhase, plainProgress, ttyProgress } from '../../orchestrator/progress.ts';
import { runScheduler } from '../../orchestrator/scheduler.ts';
import { createSlotRunner } from '../../orchestrator/slot-runner.ts';
import { openStore } from '../../orchestrator/store.ts';
import { specFor } from '../web/run-events.ts';
import { FAKE_THREAD, tempDir } from './helpers.ts';

test('the words of a phase: steps while training, images otherwise, with images/s and ETA', () => {
  assert.equal(
    describePhase({ phase: 'training', epoch: 3, done: 640, total: 2110, imagesPerSecond: 52 }, 32),
    'epoch 3 training step 20/66, 52 images/s, ETA 28s',
  );
  assert.equal(describePhase({ phase: 'decoding', epoch: null, done: 0, total: 3297, imagesPerSecond: null }, 32), 'decoding 0/3297 images');
  assert.equal(
    describePhase({ phase: 'evaluating', epoch: null, done: 100, total: 3297, imagesPerSecond: 100 }, 32),
    'final evaluation 100/3297 images, 100 images/s, ETA 32s',
  );
});

test("a run's progress events move its slot's bar and show in the plain log", async () => {
  process.env.FAKE_THREAD_PROGRESS = '1';
  process.env.FAKE_THREAD_DELAY_MS = '400';
  const out = tempDir('progress-bars');
  const db = await openDatabase('memory://');
  const stream = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 200,
    rows: 40,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
    getWindowSize: () => [200, 40],
  });
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const lines: string[] = [];
  const tty = ttyProgress(stream as unknown as NodeJS.WriteStream, ['cpu0'], 1);
  const plain = plainProgress((l) => lines.push(l));
  const both = Object.fromEntries(
    Object.keys(plain).map((k) => [
      k,
      (...a: unknown[]) => {
        (tty as unknown as Record<string, (...x: unknown[]) => void>)[k]!(...a);
        (plain as unknown as Record<string, (...x: unknown[]) => void>)[k]!(...a);
      },
    ]),
  ) as unknown as typeof plain;
  const spec = specFor('baseline', 1, { epochs: 2, outDir: `${out}/baseline-run0` });
  const store = await openStore(db, {
    experiment: 'bars',
    config: {},
    datasetDir: out,
    datasetFingerprint: 'f',
    retries: 0,
    runs: [{ model: 'baseline', runIndex: 0, seed: 1, spec }],
  });
  const runner = createSlotRunner({ name: 'cpu0', gpu: null }, { mode: 'thread', threadFile: FAKE_THREAD });
  try {
    await runScheduler({ store, runners: [runner], progress: both, signal: new AbortController().signal, specFor: (c) => c.spec, pollMs: 20 });
    await new Promise((r) => setTimeout(r, 300)); // the bars redraw at most 5 times a second
    tty.stop();
    const shown = stripVTControlCharacters(text);
    assert.match(shown, /epoch 1 training step 1\/1, \d+ images\/s, ETA \d+s/);
    assert.match(shown, /0\/2 epochs/);
    assert.ok(
      lines.some((l) => /^\[cpu0\] baseline run 0: epoch 1 training step 0\/1$/.test(l)),
      lines.join('\n'),
    );
  } finally {
    delete process.env.FAKE_THREAD_PROGRESS;
    delete process.env.FAKE_THREAD_DELAY_MS;
    store.close();
    await runner.close();
    await db.close();
  }
});
