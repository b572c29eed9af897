/** Progress events of a run: throttled within a phase, first and last always posted, images/s since the phase began. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PhaseProgress } from '../../../study/live.ts';
import { progressReporter } from '../../../workers/train/progress-reporter.ts';

test('at most one event per interval inside a phase; the first and last always; images/s from the phase start', () => {
  let t = 0;
  const posted: PhaseProgress[] = [];
  const report = progressReporter((p) => posted.push(p), { intervalMs: 250, now: () => t });
  report('training', 0, 100, 1);
  for (let done = 10; done <= 100; done += 10) {
    t += 100; // 10 images every 100 ms: 100 images/s
    report('training', done, 100, 1);
  }
  assert.deepEqual(
    posted.map((p) => p.done),
    [0, 30, 60, 90, 100],
  );
  assert.equal(posted[0]!.imagesPerSecond, null);
  assert.equal(posted.at(-1)!.imagesPerSecond, 100);
  assert.ok(posted.every((p) => p.phase === 'training' && p.epoch === 1 && p.total === 100));
  // A new phase starts its own clock and posts at once.
  t += 5000;
  report('evaluating', 0, 50, 1);
  t += 500;
  report('evaluating', 50, 50, 1);
  assert.deepEqual(
    posted.slice(-2).map((p) => [p.phase, p.done, p.imagesPerSecond]),
    [
      ['evaluating', 0, null],
      ['evaluating', 50, 100],
    ],
  );
});
