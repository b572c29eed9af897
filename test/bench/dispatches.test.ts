/**
 * The parallelism of the baseline's training step on webgpu, counted, not timed: every dispatch that reads a
 * large input must spread it over many threads. Stock tfjs-webgpu's filter gradients leave one thread a whole
 * output value to sum over every pixel of the batch (on an H100, 687 ms for a product one matMul does in 3.4 ms);
 * the same check on the stock kernels shows that the test can fail. No product may sum in float atomics either:
 * a step must compute the same numbers every time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepDispatches, type Dispatch } from '../../bench/dispatches.ts';
import { useWebgpuKernels } from '../../bench/versus.ts';
import { useBackendOrSkip } from '../workers/kernels/backends.ts';

/** Input values per thread that a dispatch reading at least 1 MB may leave: 1,024 (4 KB). */
const MAX_VALUES_PER_THREAD = 1024;

const serialWork = (d: Dispatch) => d.inputBytes / 4 / d.threads;
const describe = (d: Dispatch) => `${d.program.slice(0, 40)} ${JSON.stringify(d.inputShapes)}: ${d.workgroups} workgroups, ` +
  `${Math.round(serialWork(d))} input values a thread`;

test('webgpu: every large dispatch of the baseline training step is spread over many threads', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const large = (log: Dispatch[]) => log.filter((d) => d.inputBytes >= 2 ** 20);

  const all = await stepDispatches('baseline', 96, 8);
  // tfjs-webgpu's split-K product adds floats atomically, in whatever order the GPU runs its workgroups.
  assert.deepEqual(all.filter((d) => /SplitK/.test(d.program)).map(describe), []);
  const ours = large(all);
  assert.ok(ours.length >= 20, `only ${ours.length} dispatches read 1 MB or more`);
  const crowded = ours.filter((d) => serialWork(d) > MAX_VALUES_PER_THREAD);
  assert.deepEqual(crowded.map(describe), []);

  useWebgpuKernels('stock');
  try {
    const stock = large(await stepDispatches('baseline', 96, 8));
    const worst = stock.reduce((a, b) => (serialWork(a) > serialWork(b) ? a : b));
    assert.ok(serialWork(worst) > 16 * MAX_VALUES_PER_THREAD, `stock's worst: ${describe(worst)}`);
    assert.match(worst.program, /backprop_filter|DerFilter/);
  } finally {
    useWebgpuKernels('ours');
  }
});

test('webgpu: the transfer models\' training steps add no floats atomically', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  // At batch 16 the head's Dense over mobilenet's flattened base (16 x 5120 by 5120 x 16) is what tfjs-webgpu
  // would run as split-K.
  for (const model of ['mobilenet', 'mobilenet-ft'] as const) {
    const log = await stepDispatches(model, 64, 16);
    assert.deepEqual(log.filter((d) => /SplitK/.test(d.program)).map(describe), [], model);
  }
});
