/**
 * Training throughput of the whole CPU: N wasm runs side by side (what the orchestrator's N CPU slots do, each
 * run on one core) against one PyTorch run given N threads, then one wasm run against PyTorch on one thread.
 *
 *   npx tsx bench/cpu-cores.ts [--cores 2] [--model baseline] [--image-size 224] [--steps 10]
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchReport } from './benchmark.ts';
import { runTorchReference } from './torch-reference.ts';
import type { ModelName } from '../study/run.ts';

const { values: opts } = parseArgs({
  options: {
    cores: { type: 'string', default: String(cpus().length) },
    model: { type: 'string', default: 'baseline' },
    'image-size': { type: 'string', default: '224' },
    steps: { type: 'string', default: '10' },
  },
});
const cores = Number(opts.cores);
const shape = { model: opts.model as ModelName, imageSize: Number(opts['image-size']), batchSize: 32, steps: Number(opts.steps), warmup: 2 };
const bin = resolve(import.meta.dirname, '..', 'bin', 'melanoma.mjs');

function wasmBench(): Promise<BenchReport> {
  const args = [bin, 'bench', '--backend', 'wasm', '--model', shape.model, '--image-size', String(shape.imageSize), '--steps', String(shape.steps), '--json'];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.on('exit', (code) => (code === 0 ? done(JSON.parse(out.trim().split('\n').pop()!) as BenchReport) : fail(new Error(`bench exited ${code}`))));
  });
}

const side = await Promise.all(Array.from({ length: cores }, wasmBench));
const wasmTotal = side.reduce((s, r) => s + r.trainImagesPerSec, 0);
const torchAll = runTorchReference({ ...shape, refThreads: cores });
const one = await wasmBench();
const torchOne = runTorchReference({ ...shape, refThreads: 1 });
const f = (x: number) => x.toFixed(1);
console.log(`${shape.model} ${shape.imageSize}px batch 32, ${cores} cores`);
console.log(`  ${cores} wasm runs side by side: ${side.map((r) => f(r.trainImagesPerSec)).join(' + ')} = ${f(wasmTotal)} images/s`);
console.log(
  `  ${torchAll.framework} on ${torchAll.device}: ${f(torchAll.trainImagesPerSec)} images/s -> ratio ${(wasmTotal / torchAll.trainImagesPerSec).toFixed(2)}x`,
);
console.log(
  `  1 wasm run alone: ${f(one.trainImagesPerSec)} images/s; ${torchOne.framework} on ${torchOne.device}: ${f(torchOne.trainImagesPerSec)} images/s -> ratio ${(one.trainImagesPerSec / torchOne.trainImagesPerSec).toFixed(2)}x`,
);
