/**
 * The parallelism of the study models' training steps on webgpu at the study's sizes, counted, not timed: every
 * dispatch that reads a large input must spread it over many threads. Stock tfjs-webgpu's filter gradients leave
 * one thread a whole output value to sum over every pixel of the batch (on an H100, 687 ms for a product one
 * matMul does in 3.4 ms); the same check on the stock kernels shows that the test can fail. No product may sum in
 * float atomics either: a step must compute the same numbers every time. The GPU runs none of these steps
 * (recordDispatches drops them), so 224 px costs the host's time only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepDispatches, type Dispatch } from '../../bench/dispatches.ts';
import { useWebgpuKernels } from '../../bench/versus.ts';
import { useBackendOrSkip } from '../workers/kernels/backends.ts';

/**
 * Values a thread may read in a dispatch that reads at least 1 MB: 512 (2 KB). A large GPU holds about 270,000
 * threads at once (an H100: 132 SMs of 2,048); the baseline's first layer at 224 px, batch 32 reads 53M values.
 */
const MAX_VALUES_PER_THREAD = 512;

const serialWork = (d: Dispatch) => d.readBytes / 4 / d.threads;
const describe = (d: Dispatch) =>
  `${d.program.slice(0, 40)} ${JSON.stringify(d.inputShapes)}: ${d.workgroups} workgroups, ` + `${Math.round(serialWork(d))} values a thread`;
const large = (log: Dispatch[]) => log.filter((d) => d.readBytes >= 2 ** 20);

test("webgpu: every large dispatch of the study models' training steps at 224 px is spread over many threads", async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  for (const [model, batch] of [
    ['baseline', 32],
    ['augmented', 32],
    ['xception', 16],
    ['xception-ft', 16],
  ] as const) {
    const { dispatches } = await stepDispatches(model, 224, batch);
    // tfjs-webgpu's split-K product adds floats atomically, in whatever order the GPU runs its workgroups.
    assert.deepEqual(dispatches.filter((d) => /SplitK/.test(d.program)).map(describe), [], model);
    const ours = large(dispatches);
    assert.ok(ours.length >= 40, `${model}: only ${ours.length} dispatches read 1 MB or more`);
    assert.deepEqual(ours.filter((d) => serialWork(d) > MAX_VALUES_PER_THREAD).map(describe), [], model);
  }

  useWebgpuKernels('stock');
  try {
    const stock = large((await stepDispatches('baseline', 224, 32)).dispatches);
    const worst = stock.reduce((a, b) => (serialWork(a) > serialWork(b) ? a : b));
    assert.ok(serialWork(worst) > 100 * MAX_VALUES_PER_THREAD, `stock's worst: ${describe(worst)}`);
    assert.match(worst.program, /backprop_filter|DerFilter/);
  } finally {
    useWebgpuKernels('ours');
  }
});

test("webgpu: the transfer models' training steps add no floats atomically", async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  // At batch 16 the head's Dense over mobilenet's flattened base (16 x 5120 by 5120 x 16) is what tfjs-webgpu
  // would run as split-K.
  for (const model of ['mobilenet', 'mobilenet-ft'] as const) {
    const { dispatches: log } = await stepDispatches(model, 64, 16);
    assert.deepEqual(log.filter((d) => /SplitK/.test(d.program)).map(describe), [], model);
  }
});
