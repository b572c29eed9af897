/**
 * The baseline (4x [SeparableConv2D 3x3 valid + MaxPool 2x2] + GAP + Dense) as a tfjs-layers model, and steps of
 * several such models alternating in one process; used by bench/kernels.ts and by the GPU benchmark (gpu.ts).
 *
 * versus(): the project's training step (its kernels, fused separable convolutions, KerasAdam) against stock
 * tfjs (the backend's own kernels, tfjs-layers' layers, tf.train.adam) on the active backend (webgpu: stock
 * wasm cannot train).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useGradients } from '../workers/kernels/gradients.ts';
import { stockKernel, TRAINING_KERNELS } from '../workers/kernels/index.ts';
import { separableConv2d } from '../workers/models/separable-conv.ts';
import { kerasAdam } from '../workers/train/step.ts';
import { median } from '../study/statistics.ts';

export interface AlternateOptions {
  size: number;
  batch: number;
  /** Timed rounds after 3 warm-up rounds. */
  steps: number;
  log?: (line: string) => void;
}

/** The baseline's layers; `fused`: its separable convolutions as the project builds them (separable-conv.ts). */
export function baselineLayers(size: number, fused = true, optimizer: tf.Optimizer = kerasAdam(1e-3)): tfl.LayersModel {
  const sep = fused ? separableConv2d : tfl.layers.separableConv2d;
  const m = tfl.sequential();
  m.add(sep({ inputShape: [size, size, 3], filters: 32, kernelSize: 3, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  for (const filters of [64, 128, 256]) {
    m.add(sep({ filters, kernelSize: 3, activation: 'relu' }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  }
  m.add(tfl.layers.globalAveragePooling2d({}));
  m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer, loss: 'binaryCrossentropy' });
  return m;
}

/** Median step time (ms) of each contestant, their steps alternating after 3 warm-up rounds. */
export async function alternate(
  contestants: Record<string, { model: tfl.LayersModel; select?: () => void }>,
  o: AlternateOptions,
): Promise<Record<string, number>> {
  const x = tf.randomUniform([o.batch, o.size, o.size, 3]);
  const y = tf.round(tf.randomUniform([o.batch, 1]));
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(contestants).map((name) => [name, []]));
  for (let i = 0; i < 3 + o.steps; i++) {
    for (const [name, { model, select }] of Object.entries(contestants)) {
      select?.();
      const t0 = performance.now();
      await model.trainOnBatch(x, y);
      if (i >= 3) times[name]!.push(performance.now() - t0); // times has every contestant's name
    }
  }
  tf.dispose([x, y]);
  const medians: Record<string, number> = {};
  for (const [name, ts] of Object.entries(times)) {
    const stepMs = median(ts);
    medians[name] = stepMs;
    o.log?.(`${name}: median step ${stepMs.toFixed(0)} ms (min ${Math.min(...ts).toFixed(0)}), ${((o.batch * 1000) / stepMs).toFixed(2)} images/s`);
  }
  return medians;
}

export interface VersusResult {
  projectStepMs: number;
  stockStepMs: number;
  /** stock / project. */
  speedup: number;
}

/** tf.train.adam with KerasAdam's hyper-parameters: what a stock tfjs user trains with. */
export const stockAdam = (learningRate: number) => tf.train.adam(learningRate, 0.9, 0.999, 1e-7);

const projectKernels = new Map<string, tf.KernelConfig | undefined>();

/**
 * Registers the project's webgpu training kernels ('ours') or the stock kernels they replaced ('stock'). Kernels
 * without a stock version (ReluGrad, the Adam kernels, ImageBatch) are unregistered for 'stock', so that the Relu
 * gradient takes tfjs' own formula there; the Mean and Sigmoid gradients are tfjs' own for 'stock' too.
 */
export function useWebgpuKernels(set: 'ours' | 'stock'): void {
  const backend = 'webgpu';
  if (tf.getBackend() !== backend) throw new Error(`stock tfjs cannot train on ${tf.getBackend()}; use webgpu`);
  for (const name of TRAINING_KERNELS.webgpu) {
    if (!projectKernels.has(name)) projectKernels.set(name, tf.getKernel(name, backend));
    const config = set === 'ours' ? projectKernels.get(name) : stockKernel(name, backend);
    if (tf.getKernel(name, backend) !== undefined) tf.unregisterKernel(name, backend);
    if (config !== undefined) tf.registerKernel(config);
  }
  useGradients(set);
}

export async function versus(o: AlternateOptions): Promise<VersusResult> {
  const use = (set: 'ours' | 'stock') => () => useWebgpuKernels(set);
  use('ours')();
  const project = baselineLayers(o.size, true);
  const stock = baselineLayers(o.size, false, stockAdam(1e-3));
  try {
    const PROJECT = 'project kernels, fused layers, KerasAdam';
    const STOCK = 'stock tfjs';
    const medians = await alternate({ [PROJECT]: { model: project, select: use('ours') }, [STOCK]: { model: stock, select: use('stock') } }, o);
    const projectStepMs = medians[PROJECT]!; // alternate times every contestant
    const stockStepMs = medians[STOCK]!;
    return { projectStepMs, stockStepMs, speedup: stockStepMs / projectStepMs };
  } finally {
    use('ours')();
    project.dispose();
    stock.dispose();
  }
}
