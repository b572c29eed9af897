/**
 * Hostile flags (test/fixtures/hostile/README.md): each makes `orchestrate`, `melanoma run` or `melanoma serve`
 * exit non-zero with one line that names the flag and the value, no stack trace, before any work: no database
 * created (so no experiment or run stored, none left pending), no training started.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { checkWorkers } from '../../orchestrator/slots.ts';
import { FAKE_THREAD, MELANOMA, runCli, tempDir, tinyDataset } from '../orchestrator/helpers.ts';

const data = await tinyDataset();
const scratch = tempDir('hostile');
const aFile = join(scratch, 'a-file');
writeFileSync(aFile, 'not a folder');

/** A folder this process cannot create entries in: /proc refuses everyone, root included; others get a 0555 folder. */
function unwritable(): string {
  if (process.getuid?.() === 0) return '/proc';
  const dir = join(scratch, 'read-only');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o555);
  return dir;
}

/** No GPU, whatever the machine has: an nvidia-smi that fails and a Dawn that lists only a software adapter. */
const NO_GPU_ENV = {
  PATH: `${join(import.meta.dirname, 'fixtures', 'no-nvidia-smi')}${delimiter}${process.env.PATH}`,
  DAWN_NODE: join(import.meta.dirname, 'fixtures', 'fake-dawn.cjs'),
  FAKE_DAWN_ADAPTERS: JSON.stringify(['llvmpipe (LLVM 15.0.6, 256 bits)']),
};

let dbCount = 0;
/** `orchestrate` over the tiny dataset with the fake thread; a fresh, not yet created database folder. */
function orchestrateArgs(extra: string[]): { args: string[]; db: string } {
  const db = join(scratch, `db-${dbCount++}`);
  return {
    db,
    args: ['--data', data, '--models', 'baseline', '--runs', '1', '--thread-file', FAKE_THREAD, '--out', join(scratch, 'out'), '--db', db, ...extra],
  };
}

/** Exit non-zero, one line naming every `mentions` (flag and value), no stack. */
function assertOneLine(r: { code: number | null; stderr: string; stdout: string }, mentions: string[]): void {
  assert.notEqual(r.code, 0, r.stderr);
  assert.ok(r.code !== null, 'exited, not killed');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  for (const m of mentions) assert.ok(lines[0]!.includes(m), `'${m}' missing from: ${lines[0]}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.equal(r.stdout, '');
}

async function orchestrateFails(extra: string[], mentions: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { args, db } = orchestrateArgs(extra);
  const r = await runCli(args, env);
  assertOneLine(r, mentions);
  assert.equal(existsSync(db), false, 'the database folder was created: something was stored');
  return r.stderr;
}

const melanomaRun = (extra: string[]) => runCli(['run', '--model', 'baseline', '--data', data, '--epochs', '1', '--backend', 'cpu', ...extra], {}, MELANOMA);

test('orchestrate --serve --port 99999', async () => {
  await orchestrateFails(['--serve', '--port', '99999'], ['--port', '99999']);
});

test("orchestrate --db 'postgres://u:p@[::1/x': an invalid URL, the password not shown", async () => {
  const stderr = await orchestrateFails(['--db', 'postgres://u:secret@[::1/x'], ['--db', 'postgres://u:***@[::1/x']);
  assert.doesNotMatch(stderr, /secret/);
});

test('orchestrate --db DIR under a folder that cannot be written', async () => {
  const db = join(unwritable(), 'melanoma', 'db');
  await orchestrateFails(['--db', db], ['--db', db]);
});

test('orchestrate --out FILE', async () => {
  await orchestrateFails(['--out', aFile], ['--out', aFile]);
});

test('orchestrate --image-size 10: below the baseline model minimum', async () => {
  await orchestrateFails(['--image-size', '10'], ['--image-size', '10', 'baseline', '46']);
});

test('orchestrate --image-size 5000: over the maximum', async () => {
  await orchestrateFails(['--image-size', '5000'], ['--image-size', '5000', '512']);
});

test('orchestrate --workers more than the cores, unless --oversubscribe', async () => {
  const workers = String(availableParallelism() + 1);
  await orchestrateFails(['--workers', workers, '--backend', 'cpu'], ['--workers', workers, '--oversubscribe']);
  assert.doesNotThrow(() => checkWorkers(3, true, 2));
  assert.doesNotThrow(() => checkWorkers(2, false, 2));
  assert.throws(() => checkWorkers(3, false, 2), /--workers 3/);
});

test('orchestrate --gpus 0,1 with the default backend and no GPU: says what exists and what to use', async () => {
  await orchestrateFails(['--gpus', '0,1'], ['--gpus 0,1', 'llvmpipe', '--gpus none'], NO_GPU_ENV);
});

test('orchestrate --gpus 5: checked against the adapters on every backend', async () => {
  await orchestrateFails(['--gpus', '5', '--backend', 'webgpu'], ['--gpus 5', '0: llvmpipe', '--gpus 0'], NO_GPU_ENV);
  await orchestrateFails(['--gpus', '5', '--backend', 'tensorflow'], ['--gpus 5', 'nvidia-smi', 'none', '--gpus none'], NO_GPU_ENV);
  await orchestrateFails(['--gpus', '5', '--backend', 'wasm'], ['--backend wasm', '--gpus none'], NO_GPU_ENV);
});

test('orchestrate --slurm: a PGlite folder, or an sbatch option the script sets itself', async () => {
  const { db } = orchestrateArgs([]);
  await orchestrateFails(['--slurm', '2', '--db', db], ['--slurm', db]);
  await orchestrateFails(['--slurm', '2', '--db', 'postgres://u:secret@db-host/melanoma', '--', '--array=0-9'], ['--array=0-9', '--slurm N']);
});

test('orchestrate --gpus slurm: outside a Slurm job, or on GPUs the webgpu backend cannot tell apart', async () => {
  await orchestrateFails(['--gpus', 'slurm'], ['--gpus slurm', 'SLURM_JOB_ID'], { SLURM_JOB_ID: '', SLURM_ARRAY_JOB_ID: '' });
  const twoH100 = { ...NO_GPU_ENV, FAKE_DAWN_ADAPTERS: JSON.stringify(['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3']) };
  const job = { SLURM_JOB_ID: '9', SLURM_CPUS_ON_NODE: '2', SLURM_JOB_GPUS: '0,1', CUDA_VISIBLE_DEVICES: '0,1' };
  await orchestrateFails(['--gpus', 'slurm', '--backend', 'webgpu'], ['--gpus slurm', "'NVIDIA H100 80GB HBM3'", '--gres=gpu:1'], { ...twoH100, ...job });
});

test('melanoma run --out FILE', async () => {
  assertOneLine(await melanomaRun(['--out', aFile]), ['--out', aFile]);
});

test('melanoma run --out DIR that cannot be written', async () => {
  const out = join(unwritable(), 'run-out');
  assertOneLine(await melanomaRun(['--out', out]), ['--out', out]);
});

test('melanoma run --image-size 5000 and 10', async () => {
  assertOneLine(await melanomaRun(['--image-size', '5000']), ['--image-size', '5000', '512']);
  assertOneLine(await melanomaRun(['--image-size', '10']), ['--image-size', '10', '46']);
});

test('melanoma serve shares the checks: --port, --db', async () => {
  const serve = (extra: string[]) => runCli(['serve', ...extra], {}, MELANOMA);
  assertOneLine(await serve(['--port', '99999', '--db', join(scratch, 'serve-db')]), ['--port', '99999']);
  assertOneLine(await serve(['--db', 'postgres://u:p@[::1/x']), ['--db', 'postgres://u:***@[::1/x']);
  const db = join(unwritable(), 'serve-db');
  assertOneLine(await serve(['--db', db]), ['--db', db]);
});
