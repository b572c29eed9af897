/**
 * The training benchmark on webgpu, for the GPU machine (bundled by `npm run bundle:gpu` into .gpu/app.cjs, run
 * by bench/gpu-run.sh): baseline at 224 px, batch 32, and Xception (random weights) at 224 px, batch 16, each
 * timed by bench/benchmark.ts, then the baseline's step against stock tfjs-webgpu (bench/versus.ts), then
 * the host's time to issue a baseline step with the GPU running none of it (bench/dispatches.ts). Prints one JSON
 * object.
 *
 *   node .gpu/app.cjs [--size 224] [--baseline-batch 32] [--xception-batch 16] [--steps 5] [--warmup 2] [--models baseline,xception]
 */
import { parseArgs } from 'node:util';
import { benchmark, type BenchReport } from './benchmark.ts';
import { versus, type VersusResult } from './versus.ts';
import { hostStepMs, type HostStep } from './dispatches.ts';
import type { ModelName } from '../study/run.ts';

const { values: opts } = parseArgs({
  options: {
    size: { type: 'string', default: '224' },
    'baseline-batch': { type: 'string', default: '32' },
    'xception-batch': { type: 'string', default: '16' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    models: { type: 'string', default: 'baseline,xception' },
    backend: { type: 'string', default: 'webgpu' },
  },
});

const baselineBatch = Number(opts['baseline-batch']);
const batchOf: Record<string, number> = { baseline: baselineBatch, xception: Number(opts['xception-batch']) };

// No top-level await: the bundle is CommonJS.
async function main(): Promise<void> {
  const results: (BenchReport | { model: string; error: string })[] = [];
  for (const model of opts.models.split(',')) {
    const batchSize = batchOf[model];
    if (batchSize === undefined) throw new Error(`--models: ${model} is not one of ${Object.keys(batchOf).join(', ')}`);
    try {
      results.push(
        await benchmark({
          backend: opts.backend as 'webgpu' | 'wasm',
          model: model as ModelName,
          imageSize: Number(opts.size),
          batchSize,
          steps: Number(opts.steps),
          warmup: Number(opts.warmup),
          gpu: null,
          dataDir: null,
        }),
      );
    } catch (error) {
      // One model failing (e.g. out of GPU memory) still reports the other.
      results.push({ model, error: String((error as Error)?.stack ?? error) });
    }
  }
  // The same baseline step with stock tfjs-webgpu (its kernels, layers and Adam), alternating with the project's.
  let stock: VersusResult | { error: string } | null = null;
  if (opts.backend === 'webgpu' && opts.models.split(',').includes('baseline')) {
    try {
      stock = await versus({ size: Number(opts.size), batch: baselineBatch, steps: Number(opts.steps), log: (line) => process.stderr.write(`${line}\n`) });
    } catch (error) {
      stock = { error: String((error as Error)?.stack ?? error) };
    }
  }
  // What the host alone costs a step, and how much of it the driver's bind groups take.
  let host: HostStep[] | { error: string } | null = null;
  if (opts.backend === 'webgpu' && opts.models.split(',').includes('baseline')) {
    try {
      host = await hostStepMs('baseline', Number(opts.size), baselineBatch, 20);
    } catch (error) {
      host = { error: String((error as Error)?.stack ?? error) };
    }
  }
  process.stdout.write(JSON.stringify({ framework: 'tfjs', results, versusStock: stock, hostSteps: host }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
