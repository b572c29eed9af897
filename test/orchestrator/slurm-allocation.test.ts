/** A Slurm job's environment to the orchestrator's slots (--gpus slurm), and the job id recorded with each run. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../common/errors.ts';
import { allocatedSlots, slurmAllocation, slurmJob, withSlurmSlots } from '../../orchestrator/slurm-allocation.ts';

const task = { SLURM_JOB_ID: '815', SLURM_ARRAY_JOB_ID: '812', SLURM_ARRAY_TASK_ID: '3', SLURM_CPUS_ON_NODE: '4' };
const H100 = 'NVIDIA H100 80GB HBM3';
const A100 = 'NVIDIA A100-SXM4-40GB';
const lavapipe = 'llvmpipe (LLVM 15.0.6, 256 bits)';
const adapters =
  (...names: string[]) =>
  () =>
    names.map((name, index) => ({ index, name }));
const thread = { mode: 'thread' as const, cpuOnly: false };

test('the job as squeue and scancel name it: <array job>_<task> for an array task, else the job id, null outside Slurm', () => {
  assert.equal(slurmJob(task), '812_3');
  assert.equal(slurmJob({ SLURM_JOB_ID: '77' }), '77');
  assert.equal(slurmJob({}), null);
});

test("the allocation: the node's GPU numbers, CUDA's numbers of the same GPUs, and the CPUs", () => {
  assert.deepEqual(slurmAllocation({ ...task, SLURM_JOB_GPUS: '2,3', CUDA_VISIBLE_DEVICES: '0,1' }), {
    job: '812_3',
    nodeGpus: [2, 3],
    cudaGpus: [0, 1],
    cpus: 4,
  });
  assert.deepEqual(slurmAllocation({ ...task, CUDA_VISIBLE_DEVICES: '5' }), { job: '812_3', nodeGpus: [5], cudaGpus: [5], cpus: 4 });
  assert.deepEqual(slurmAllocation(task), { job: '812_3', nodeGpus: [], cudaGpus: [], cpus: 4 });
  // Slurm's value for a GPU type without device files.
  assert.deepEqual(slurmAllocation({ ...task, CUDA_VISIBLE_DEVICES: 'NoDevFiles' }).nodeGpus, []);
});

test('--gpus slurm outside Slurm, or with an environment it cannot read, is a one-line usage error', () => {
  assert.throws(
    () => slurmAllocation({}),
    (err: Error) => err instanceof UsageError && /not in a Slurm job \(no SLURM_JOB_ID\)/.test(err.message),
  );
  assert.throws(() => slurmAllocation({ ...task, SLURM_JOB_GPUS: 'GPU-1b2c' }), /SLURM_JOB_GPUS='GPU-1b2c' is not a list of GPU indices/);
  assert.throws(() => slurmAllocation({ ...task, SLURM_JOB_GPUS: '0,1', CUDA_VISIBLE_DEVICES: '0' }), /a different number of GPUs/);
  assert.throws(() => slurmAllocation({ SLURM_JOB_ID: '1' }), /SLURM_CPUS_ON_NODE='' is not a number of CPUs/);
});

test("without GPUs, or on a CPU backend, the slots are the allocation's CPUs (unless --workers says fewer)", () => {
  const none = slurmAllocation(task);
  assert.deepEqual(allocatedSlots(none, thread, adapters()), { gpus: [], workers: 4, note: null });
  assert.deepEqual(allocatedSlots(none, { ...thread, workers: 2 }, adapters()), { gpus: [], workers: 2, note: null });
  const two = slurmAllocation({ ...task, SLURM_JOB_GPUS: '0,1' });
  const wasm = allocatedSlots(two, { mode: 'thread', cpuOnly: true }, adapters(H100, H100));
  assert.deepEqual([wasm.gpus, wasm.workers], [[], 4]);
  assert.match(wasm.note!, /2 GPU\(s\) are unused/);
});

test("runs in processes of their own (tfjs-node) take CUDA's numbers: they are pinned with CUDA_VISIBLE_DEVICES", () => {
  const confined = slurmAllocation({ ...task, SLURM_JOB_GPUS: '6,7', CUDA_VISIBLE_DEVICES: '0,1' });
  assert.deepEqual(allocatedSlots(confined, { mode: 'process', cpuOnly: false }, adapters()).gpus, [0, 1]);
  const open = slurmAllocation({ ...task, SLURM_JOB_GPUS: '6,7', CUDA_VISIBLE_DEVICES: '6,7' });
  assert.deepEqual(allocatedSlots(open, { mode: 'process', cpuOnly: false }, adapters()).gpus, [6, 7]);
});

test("webgpu: a job confined to its GPUs sees only them; otherwise the allocated ones are at the node's numbers", () => {
  const one = slurmAllocation({ ...task, SLURM_JOB_GPUS: '5', CUDA_VISIBLE_DEVICES: '0' });
  // Dawn also lists the software adapter; it is no GPU of the allocation.
  assert.deepEqual(allocatedSlots(one, thread, adapters(lavapipe, H100)).gpus, [1]);
  const mixed = slurmAllocation({ ...task, SLURM_JOB_GPUS: '2' });
  assert.deepEqual(allocatedSlots(mixed, thread, adapters(H100, H100, A100)).gpus, [2], 'the node sees all three: GPU 2 is its A100');
});

test('webgpu: GPUs it cannot tell apart or cannot match are usage errors that say what to ask Slurm for', () => {
  const two = slurmAllocation({ ...task, SLURM_JOB_GPUS: '0,1' });
  assert.throws(
    () => allocatedSlots(two, thread, adapters(H100, H100)),
    (err: Error) => err instanceof UsageError && /several GPUs named 'NVIDIA H100 80GB HBM3'/.test(err.message) && /--gres=gpu:1/.test(err.message),
  );
  const third = slurmAllocation({ ...task, SLURM_JOB_GPUS: '2' });
  assert.throws(() => allocatedSlots(third, thread, adapters(H100, H100, H100, H100)), /several GPUs named/, 'dawn.node would open GPU 0');
  assert.throws(
    () => allocatedSlots(two, thread, adapters(lavapipe)),
    (err: Error) => err instanceof UsageError && /WebGPU sees 0 hardware adapter\(s\)/.test(err.message) && /ConstrainDevices=yes/.test(err.message),
  );
  assert.throws(() => allocatedSlots(two, { ...thread, workers: 2 }, adapters(H100, A100)), /--workers sets CPU slots, and this Slurm job has GPUs/);
});

test('withSlurmSlots replaces --gpus slurm by the slots of the job it runs in', () => {
  const o = withSlurmSlots({ gpus: 'slurm', backend: 'wasm', experiment: 'x' }, { ...task, SLURM_CPUS_ON_NODE: '3' });
  assert.deepEqual([o.gpus, o.workers, o.slotNote, o.experiment], [[], 3, null, 'x']);
});
