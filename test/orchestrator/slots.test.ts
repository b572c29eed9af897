import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../common/errors.ts';
import { defaultCpuWorkers, parseGpus, planSlots, runnerMode } from '../../orchestrator/slots.ts';

const noGpu = () => [];
const twoGpus = () => [0, 1];

test('--gpus x --runs-per-gpu gives one slot per pair, each pinned to its GPU', () => {
  const slots = planSlots({ gpus: [0, 1], runsPerGpu: 2, backend: 'webgpu' }, noGpu);
  assert.deepEqual(slots, [
    { name: 'gpu0.0', gpu: 0 },
    { name: 'gpu0.1', gpu: 0 },
    { name: 'gpu1.0', gpu: 1 },
    { name: 'gpu1.1', gpu: 1 },
  ]);
  assert.deepEqual(planSlots({ gpus: [3], runsPerGpu: 1, backend: 'auto' }, noGpu), [{ name: 'gpu3', gpu: 3 }]);
});

test('without --gpus: detected GPUs, unless the backend is CPU-only or --workers asks for CPU slots', () => {
  assert.deepEqual(planSlots({ runsPerGpu: 1, backend: 'auto' }, twoGpus).map((s) => s.name), ['gpu0', 'gpu1']);
  assert.deepEqual(planSlots({ runsPerGpu: 1, backend: 'wasm' }, twoGpus).map((s) => s.gpu), Array(defaultCpuWorkers()).fill(null));
  assert.deepEqual(planSlots({ runsPerGpu: 1, workers: 3, backend: 'auto' }, twoGpus).map((s) => s.name), ['cpu0', 'cpu1', 'cpu2']);
  assert.deepEqual(planSlots({ gpus: [], runsPerGpu: 1, workers: 2, backend: 'webgpu' }, twoGpus).map((s) => s.name), ['cpu0', 'cpu1']);
});

test('default CPU slots: one per core (a wasm run computes on one thread), at least one', () => {
  assert.equal(defaultCpuWorkers(2), 2);
  assert.equal(defaultCpuWorkers(1), 1);
  assert.equal(defaultCpuWorkers(16), 16);
});

test('bad --gpus values and contradictory flags are usage errors', () => {
  assert.deepEqual(parseGpus('none'), []);
  assert.deepEqual(parseGpus('0, 2'), [0, 2]);
  assert.throws(() => parseGpus('0,x'), UsageError);
  assert.throws(() => parseGpus('1,1'), UsageError);
  assert.throws(() => planSlots({ gpus: [0], runsPerGpu: 1, backend: 'wasm' }, noGpu), UsageError);
  assert.throws(() => planSlots({ gpus: [0], runsPerGpu: 1, workers: 2, backend: 'auto' }, noGpu), UsageError);
});

test('a run that may use tfjs-node runs in a process of its own, any other in a thread', () => {
  assert.equal(runnerMode('tensorflow', () => false), 'process');
  assert.equal(runnerMode('auto', () => true), 'process');
  assert.equal(runnerMode('auto', () => false), 'thread');
  assert.equal(runnerMode('webgpu', () => true), 'thread');
  assert.equal(runnerMode('wasm'), 'thread');
});
