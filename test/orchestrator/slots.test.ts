import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../common/errors.ts';
import { checkGpusDistinguishable, defaultCpuWorkers, parseGpuList, parseGpus, planSlots, runnerMode, usableGpus } from '../../orchestrator/slots.ts';

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
  assert.deepEqual(
    planSlots({ runsPerGpu: 1, backend: 'auto' }, twoGpus).map((s) => s.name),
    ['gpu0', 'gpu1'],
  );
  assert.deepEqual(
    planSlots({ runsPerGpu: 1, backend: 'wasm' }, twoGpus).map((s) => s.gpu),
    Array(defaultCpuWorkers()).fill(null),
  );
  assert.deepEqual(
    planSlots({ runsPerGpu: 1, workers: 3, backend: 'auto' }, twoGpus).map((s) => s.name),
    ['cpu0', 'cpu1', 'cpu2'],
  );
  assert.deepEqual(
    planSlots({ gpus: [], runsPerGpu: 1, workers: 2, backend: 'webgpu' }, twoGpus).map((s) => s.name),
    ['cpu0', 'cpu1'],
  );
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
  assert.equal(
    runnerMode('tensorflow', () => false),
    'process',
  );
  assert.equal(
    runnerMode('auto', () => true),
    'process',
  );
  assert.equal(
    runnerMode('auto', () => false),
    'thread',
  );
  assert.equal(
    runnerMode('webgpu', () => true),
    'thread',
  );
  assert.equal(runnerMode('wasm'), 'thread');
});

test('nvidia-smi -L: index and name of each GPU', () => {
  const out =
    'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1b2c3d4e-0000-1111-2222-333344445555)\n' +
    'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-9f8e7d6c-0000-1111-2222-333344445555)\nGPU 2: NVIDIA A100-SXM4-40GB\n';
  assert.deepEqual(
    [...parseGpuList(out)],
    [
      [0, 'NVIDIA H100 80GB HBM3'],
      [1, 'NVIDIA H100 80GB HBM3'],
      [2, 'NVIDIA A100-SXM4-40GB'],
    ],
  );
});

test('slots on two GPUs of the same name are a usage error where runs use webgpu (it opens GPUs by name)', () => {
  const names = () =>
    new Map([
      [0, 'NVIDIA H100 80GB HBM3'],
      [1, 'NVIDIA H100 80GB HBM3'],
      [2, 'NVIDIA A100-SXM4-40GB'],
    ]);
  const slots = (gpus: number[]) => planSlots({ gpus, runsPerGpu: 1, backend: 'webgpu' }, noGpu);
  assert.throws(
    () => checkGpusDistinguishable(slots([0, 1]), 'webgpu', names, () => false),
    (err: Error) =>
      err instanceof UsageError && /GPUs 0 and 1 are both 'NVIDIA H100 80GB HBM3'/.test(err.message) && /--gpus 0 --runs-per-gpu 2/.test(err.message),
  );
  assert.throws(() => checkGpusDistinguishable(slots([0, 1]), 'auto', names, () => false), UsageError);
  // Distinct names, one GPU with several slots, a process per run pinned with CUDA_VISIBLE_DEVICES: fine.
  checkGpusDistinguishable(slots([0, 2]), 'webgpu', names, () => false);
  checkGpusDistinguishable(planSlots({ gpus: [1], runsPerGpu: 2, backend: 'webgpu' }, noGpu), 'webgpu', names, () => false);
  checkGpusDistinguishable(slots([0, 1]), 'tensorflow', names, () => true);
  checkGpusDistinguishable(slots([0, 1]), 'auto', names, () => true);
});

test('detected GPUs: webgpu gets a slot only on the first of GPUs that share a name, with a note on the others', () => {
  const names = () =>
    new Map([
      [0, 'NVIDIA H100 80GB HBM3'],
      [1, 'NVIDIA H100 80GB HBM3'],
      [2, 'NVIDIA A100-SXM4-40GB'],
      [3, 'NVIDIA H100 80GB HBM3'],
    ]);
  const webgpu = usableGpus('webgpu', names, () => false);
  assert.deepEqual(webgpu.gpus, [0, 2]);
  assert.match(webgpu.note ?? '', /GPU 1, 3 left out/);
  assert.match(webgpu.note ?? '', /GPU 1 has GPU 0's \('NVIDIA H100 80GB HBM3'\)/);
  assert.deepEqual(
    usableGpus('tensorflow', names, () => true),
    { gpus: [0, 1, 2, 3], note: null },
  );
  assert.deepEqual(
    usableGpus(
      'webgpu',
      () =>
        new Map([
          [0, 'A'],
          [1, 'B'],
        ]),
      () => false,
    ),
    { gpus: [0, 1], note: null },
  );
});
