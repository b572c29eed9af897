/** `orchestrate --gpus slurm` as a Slurm task runs it, on a fake Dawn (test/cli/fixtures/fake-dawn.cjs). */
import assert from 'node:assert/strict';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { runCli, tinyDataset } from './helpers.ts';

const CLI_FIXTURES = join(import.meta.dirname, '..', 'cli', 'fixtures');
const task = { SLURM_JOB_ID: '815', SLURM_ARRAY_JOB_ID: '812', SLURM_ARRAY_TASK_ID: '3', SLURM_CPUS_ON_NODE: '4' };

test("orchestrate --gpus slurm in a job on a node's GPU 3, confined to it: the slot opens Dawn's hardware adapter", async () => {
  const r = await runCli(['--gpus', 'slurm', '--backend', 'webgpu', '--dry-run', '--json', '--data', await tinyDataset(), '--no-estimate'], {
    ...task,
    SLURM_JOB_GPUS: '3',
    CUDA_VISIBLE_DEVICES: '0',
    PATH: `${join(CLI_FIXTURES, 'no-nvidia-smi')}${delimiter}${process.env.PATH}`,
    DAWN_NODE: join(CLI_FIXTURES, 'fake-dawn.cjs'),
    FAKE_DAWN_ADAPTERS: JSON.stringify(['llvmpipe (LLVM 15.0.6, 256 bits)', 'NVIDIA H100 80GB HBM3']),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).slots, ['gpu1']);
});
