/**
 * Training-speed benchmark of the backends and their training kernels.
 *
 *   npx tsx bench/kernels.ts step [--backend wasm] [--size 224] [--batch 32] [--steps 3]
 *     times training steps of the baseline model (4x [SeparableConv2D 3x3 valid + MaxPool 2x2] + GAP + Dense,
 *     the project's Adam, binary cross-entropy) on random data, then profiles one step with tf.profile and lists
 *     the kernels by total time, and the slowest single calls (--calls N, default 10). A training kernel's time
 *     includes the kernels it runs (also listed on their own). --stock (webgpu): the same with stock tfjs (its
 *     kernels, layers and Adam). Ends with the GPU memory the backend's buffer pool holds (webgpu).
 *
 *   npx tsx bench/kernels.ts fusion [--backend wasm] [--steps 3]
 *     times the baseline built with the project's fused separable convolutions (pointwise conv + bias + ReLU as
 *     one op) against tfjs-layers' stock ones, steps alternating after 3 warm-up rounds; medians.
 *
 *   npx tsx bench/kernels.ts versus [--backend webgpu] [--steps 3]
 *     times the project's training step (its kernels, fused separable convolutions, its Adam) against stock tfjs
 *     (the backend's own kernels, tfjs-layers' layers, tf.train.adam) on the same baseline, steps alternating.
 *     webgpu only: stock wasm cannot train (it has no Conv2DBackpropFilter).
 *
 *   npx tsx bench/kernels.ts kernels [--backend webgpu] [--batch 32] [--size 224]
 *     times each replaced kernel of a training step against the stock one it replaced (where the backend has
 *     one) at the baseline's shapes, forcing completion by reading one element of the output.
 *
 *   npx tsx bench/kernels.ts dispatches --backend webgpu [--model baseline] [--size 224] [--batch 32] [--min-mb 4]
 *     lists the GPU dispatches of one training step of a study model (the step `melanoma bench` times), with the
 *     workgroups and threads each runs: the parallelism a GPU gets, which no timing on lavapipe shows. Dispatches
 *     reading less than --min-mb of input are counted but not listed; --stock: with stock tfjs kernels. The GPU runs
 *     none of them (bench/dispatches.ts), so the study's sizes take seconds.
 *
 *   npx tsx bench/kernels.ts host --backend webgpu [--model baseline] [--size 224] [--batch 32] [--steps 3]
 *     the host's time to issue one training step with the GPU running none of it: on a GPU, a step can take no
 *     less than this.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../workers/backend/index.ts';
import { stockKernel, TRAINING_KERNELS } from '../workers/kernels/index.ts';
import { alternate, baselineLayers, stockAdam, useWebgpuKernels, versus } from './versus.ts';
import { hostStepMs, stepDispatches } from './dispatches.ts';
import type { BackendName, ModelName } from '../study/run.ts';
import { median } from '../study/statistics.ts';
import { first } from '../common/indexing.ts';

const { positionals, values: opts } = parseArgs({
  allowPositionals: true,
  options: {
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '224' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '3' },
    gpu: { type: 'string' },
    calls: { type: 'string', default: '10' },
    stock: { type: 'boolean', default: false },
    model: { type: 'string', default: 'baseline' },
    'min-mb': { type: 'string', default: '4' },
  },
});
const mode = positionals[0] ?? 'step';
const size = Number(opts.size);
const batch = Number(opts.batch);

const info = await initBackend(opts.backend as BackendName, { gpu: opts.gpu === undefined ? null : Number(opts.gpu) });
console.log(`backend ${info.name}: ${info.detail}`);

/** The baseline's layers; `fused`: its separable convolutions as the project builds them. */
const baseline = (fused = true) => baselineLayers(size, fused);

/** The baseline with fused and with stock tfjs-layers separable convolutions (both on the project's kernels). */
async function fusionBench(): Promise<void> {
  await alternate(
    { 'fused separable convolutions': { model: baseline(true) }, 'stock separable convolutions': { model: baseline(false) } },
    { size, batch, steps: Number(opts.steps), log: console.log },
  );
}

async function versusBench(): Promise<void> {
  if (info.name !== 'webgpu') throw new Error(`versus: stock tfjs cannot train on ${info.name}; use --backend webgpu`);
  const { speedup } = await versus({ size, batch, steps: Number(opts.steps), log: console.log });
  console.log(`speed-up: ${speedup.toFixed(2)}x`);
}

async function stepBench(): Promise<void> {
  if (opts.stock) useWebgpuKernels('stock');
  const model = opts.stock ? baselineLayers(size, false, stockAdam(1e-3)) : baseline();
  const x = tf.randomUniform([batch, size, size, 3]);
  const y = tf.round(tf.randomUniform([batch, 1]));
  let t0 = performance.now();
  await model.trainOnBatch(x, y);
  console.log(`first step (allocations, shader compilation): ${(performance.now() - t0).toFixed(0)} ms`);
  const times: number[] = [];
  for (let i = 0; i < Number(opts.steps); i++) {
    t0 = performance.now();
    await model.trainOnBatch(x, y);
    times.push(performance.now() - t0);
  }
  const best = Math.min(...times);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `baseline ${size}px batch ${batch}: steps ${times.map((t) => t.toFixed(0)).join(', ')} ms; ` +
      `best ${best.toFixed(0)} ms = ${((batch * 1000) / best).toFixed(2)} images/s; mean ${((batch * 1000) / mean).toFixed(2)} images/s`,
  );

  const profile = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of profile.kernels.filter((k) => k.name !== 'unnamed scope')) {
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += Number(k.kernelTimeMs);
    entry.calls++;
    byName.set(k.name, entry);
  }
  console.log(`profile of one step (${profile.kernels.length} kernel calls), kernels by total time:`);
  for (const [name, { ms, calls }] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${String(calls).padStart(4)} calls  ${name}`);
  }
  const slowest = profile.kernels
    .filter((k) => k.name !== 'unnamed scope')
    .sort((a, b) => Number(b.kernelTimeMs) - Number(a.kernelTimeMs))
    .slice(0, Number(opts.calls));
  console.log('slowest single calls:');
  for (const k of slowest) {
    console.log(`  ${Number(k.kernelTimeMs).toFixed(0).padStart(7)} ms  ${k.name} ${JSON.stringify(k.inputShapes)}`);
  }
  // The buffer pool keeps every buffer a step allocated for reuse, so what it holds is the step's peak.
  const memory = tf.memory() as { numBytesAllocatedInGPU?: number };
  if (memory.numBytesAllocatedInGPU !== undefined) {
    console.log(`GPU buffers held by the backend: ${(memory.numBytesAllocatedInGPU / 2 ** 20).toFixed(0)} MiB`);
  }
}

async function time(run: () => tf.Tensor): Promise<number> {
  const first = run();
  await tf.slice(tf.reshape(first, [-1]), [0], [1]).data();
  first.dispose();
  const t0 = performance.now();
  const out = run();
  await tf.slice(tf.reshape(out, [-1]), [0], [1]).data();
  out.dispose();
  return performance.now() - t0;
}

async function kernelBench(): Promise<void> {
  const backend = info.name;
  // The baseline's separable convolutions (valid 3x3 depthwise, then 1x1) at this size.
  let h = size;
  const layers: { h: number; cin: number; cout: number }[] = [];
  for (const cout of [32, 64, 128, 256]) {
    layers.push({ h, cin: layers.at(-1)?.cout ?? 3, cout });
    h = Math.floor((h - 2) / 2);
  }
  for (const { h, cin, cout } of layers) {
    const o = h - 2;
    const cases: [string, tf.NamedTensorMap, object][] = [
      [
        tf.DepthwiseConv2dNativeBackpropFilter,
        { x: tf.randomNormal([batch, h, h, cin]), dy: tf.randomNormal([batch, o, o, cin]) },
        { strides: 1, dilations: 1, pad: 'valid', filterShape: [3, 3, cin, 1] },
      ],
      [
        tf.DepthwiseConv2dNativeBackpropInput,
        { dy: tf.randomNormal([batch, o, o, cin]), filter: tf.randomNormal([3, 3, cin, 1]) },
        { strides: 1, dilations: 1, pad: 'valid', inputShape: [batch, h, h, cin] },
      ],
      [
        tf.Conv2DBackpropFilter,
        { x: tf.randomNormal([batch, o, o, cin]), dy: tf.randomNormal([batch, o, o, cout]) },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, cin, cout] },
      ],
      [
        tf.Conv2DBackpropInput,
        { dy: tf.randomNormal([batch, o, o, cout]), filter: tf.randomNormal([1, 1, cin, cout]) },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [batch, o, o, cin] },
      ],
      [
        tf.FusedConv2D,
        { x: tf.randomNormal([batch, o, o, cin]), filter: tf.randomNormal([1, 1, cin, cout]), bias: tf.randomNormal([cout]) },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, activation: 'relu' },
      ],
      [tf.Sum, { x: tf.randomNormal([batch, o, o, cout]) }, { axis: [0, 1, 2], keepDims: false }],
      [
        tf.MaxPoolGrad,
        {
          dy: tf.randomNormal([batch, o >> 1, o >> 1, cout]),
          input: tf.randomNormal([batch, o, o, cout]),
          output: tf.randomNormal([batch, o >> 1, o >> 1, cout]),
        },
        { filterSize: 2, strides: 2, pad: 'valid' },
      ],
    ];
    for (const [name, inputs, attrs] of cases) {
      const ours = tf.getKernel(name, backend);
      const stock = stockKernel(name, backend as 'wasm' | 'webgpu');
      const run = (config: tf.KernelConfig) => () => {
        // Route the call through the engine with this config registered, so both run under the same bookkeeping.
        tf.unregisterKernel(name, backend);
        tf.registerKernel(config);
        return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
      };
      const oursMs = ours ? await time(run(ours)) : NaN;
      const stockMs = stock ? await time(run(stock)) : NaN;
      if (ours) {
        tf.unregisterKernel(name, backend);
        tf.registerKernel(ours);
      }
      const shape = first(Object.values(inputs), 'kernel input').shape.join('x');
      const result = !TRAINING_KERNELS[backend as 'wasm' | 'webgpu'].includes(name)
        ? `stock ${oursMs.toFixed(1)} ms (not replaced on ${backend})`
        : `ours ${oursMs.toFixed(1)} ms, stock ${stock ? `${stockMs.toFixed(1)} ms` : 'none'}`;
      console.log(`${name.padEnd(36)} ${shape} (layer ${cin} -> ${cout}): ${result}`);
      tf.dispose(Object.values(inputs));
    }
  }
}

async function dispatchBench(): Promise<void> {
  if (info.name !== 'webgpu') throw new Error(`dispatches: webgpu only, not ${info.name}`);
  if (opts.stock) useWebgpuKernels('stock');
  const { dispatches: log, errors } = await stepDispatches(opts.model as ModelName, size, batch);
  const minBytes = Number(opts['min-mb']) * 2 ** 20;
  const large = log.filter((d) => d.inputBytes >= minBytes).sort((a, b) => a.workgroups - b.workgroups);
  console.log(
    `${opts.model} ${size}px batch ${batch}: ${log.length} dispatches in one training step; ` +
      `the ${large.length} reading at least ${opts['min-mb']} MB, fewest workgroups first:`,
  );
  for (const d of large) {
    console.log(
      `  ${String(d.workgroups).padStart(7)} workgroups ${String(d.threads).padStart(9)} threads  ` +
        `${(d.inputBytes / 2 ** 20).toFixed(0).padStart(5)} MB  ${d.program.slice(0, 48)} ${JSON.stringify(d.inputShapes)}`,
    );
  }
  for (const error of errors) console.log(`the device reported: ${error}`);
}

async function hostBench(): Promise<void> {
  if (info.name !== 'webgpu') throw new Error(`host: webgpu only, not ${info.name}`);
  const steps = await hostStepMs(opts.model as ModelName, size, batch, Number(opts.steps));
  const times = steps.map((s) => s.ms);
  const stepMs = median(times);
  const bindGroupMs = median(steps.map((s) => s.bindGroupMs));
  const bindGroups = first(steps, 'step').bindGroups;
  console.log(
    `${opts.model} ${size}px batch ${batch}: host time to issue a step, the GPU running none of it, over ` +
      `${times.length} steps: median ${stepMs.toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}), ` +
      `at most ${((batch * 1000) / stepMs).toFixed(0)} images/s on any GPU with this host`,
  );
  console.log(
    `  of which creating bind groups: median ${bindGroupMs.toFixed(1)} ms (${bindGroups} a step, ` +
      `${((1000 * bindGroupMs) / bindGroups).toFixed(1)} us each; the driver's cost); without them, at most ` +
      `${((batch * 1000) / (stepMs - bindGroupMs)).toFixed(0)} images/s`,
  );
}

if (mode === 'step') await stepBench();
else if (mode === 'dispatches') await dispatchBench();
else if (mode === 'host') await hostBench();
else if (mode === 'kernels') await kernelBench();
else if (mode === 'fusion') await fusionBench();
else if (mode === 'versus') await versusBench();
else throw new Error(`unknown mode '${mode}': step, fusion, versus, kernels, dispatches or host`);
