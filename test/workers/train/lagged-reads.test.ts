/**
 * LaggedReads (workers/train/lagged-reads.ts): every tensor lands at its offset and is disposed, and a push
 * returns without waiting for its own tensor's values (only the previous one's), which is what lets a GPU
 * compute one batch while the host issues the next.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as tf from '@tensorflow/tfjs-core';
import { LaggedReads } from '../../../workers/train/lagged-reads.ts';

/** A stand-in tensor whose values arrive when the test says so. */
function fakeTensor(values: number[]) {
  let resolve!: () => void;
  const ready = new Promise<void>((r) => (resolve = r));
  const t = {
    disposed: false,
    reads: 0,
    release: () => resolve(),
    data: async () => {
      t.reads++;
      await ready;
      return Float32Array.from(values);
    },
    dispose: () => {
      t.disposed = true;
    },
  };
  return t;
}

test('LaggedReads waits for each read only once the next batch is pushed, and fills every offset', async () => {
  const reads = new LaggedReads(new Float32Array(5));
  const a = fakeTensor([1, 2]);
  const b = fakeTensor([3, 4]);
  const c = fakeTensor([5]);

  await reads.push(a as unknown as tf.Tensor, 0); // returns although a's values have not arrived
  assert.equal(a.reads, 1, 'the read starts at once');
  assert.equal(a.disposed, false);

  let pushedB = false;
  const pushing = reads.push(b as unknown as tf.Tensor, 2).then(() => (pushedB = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(b.reads, 1, "b's read starts before a's is awaited");
  assert.equal(pushedB, false, "pushing b waits for a's values");
  a.release();
  await pushing;
  assert.equal(a.disposed, true);
  assert.deepEqual([...reads.into.slice(0, 2)], [1, 2]);

  b.release();
  await reads.push(c as unknown as tf.Tensor, 4);
  c.release();
  await reads.flush();
  assert.deepEqual([...reads.into], [1, 2, 3, 4, 5]);
  assert.ok(
    [a, b, c].every((t) => t.disposed),
    'every tensor disposed',
  );
  await reads.flush(); // nothing pending: a no-op
});

test('LaggedReads disposes a tensor whose read fails, and reports the failure', async () => {
  const reads = new LaggedReads(new Float32Array(2));
  const bad = {
    disposed: false,
    data: () => Promise.reject(new Error('device lost')),
    dispose() {
      this.disposed = true;
    },
  };
  await reads.push(bad as unknown as tf.Tensor, 0);
  await new Promise((r) => setTimeout(r, 10)); // the next batch's work: the rejection must not go unhandled meanwhile
  await assert.rejects(reads.flush(), /device lost/);
  assert.equal(bad.disposed, true);
});
