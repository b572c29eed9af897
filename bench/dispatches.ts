/**
 * The GPU dispatches of one training step, with the workgroups and threads each runs: the parallelism a GPU
 * gets, which no timing on lavapipe's two cores shows. Stock tfjs-webgpu ran the baseline's filter gradients on
 * 1 to 18 workgroups, each thread summing every pixel of the batch; that is the 687 ms the fast-training issue
 * measured on an H100 for a product one matMul does in 3.4 ms.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildModel } from '../workers/models/index.ts';
import { kerasAdam, makeTrainStep } from '../workers/train/step.ts';
import type { ModelName } from '../study/run.ts';

export interface Dispatch {
  /** tfjs-webgpu's shader key: the program and the constants compiled into it. */
  program: string;
  workgroups: number;
  threads: number;
  inputShapes: number[][];
  /** Bytes of all its inputs (4 per value). */
  inputBytes: number;
  /** Bytes it reads: inputBytes, except for Adam's value update, which reads its variable's stretch of the moments. */
  readBytes: number;
}

const readBytes = (program: string, bytes: number[]) => (program === 'melanoma_adam_value' ? 3 * bytes[1]! : bytes.reduce((a, b) => a + b, 0));

interface Program {
  shaderKey: string;
  dispatch: number[];
  workgroupSize: number[];
}

type RunProgram = (program: Program, inputs: tf.TensorInfo[], ...rest: unknown[]) => tf.TensorInfo;

/** What recordDispatches saw: the programs, and the errors the device reported while they were encoded. */
export interface Recording {
  dispatches: Dispatch[];
  /** Validation errors, e.g. lavapipe's 128 MiB binding limit at 224 px, batch 32 (a GPU's is GiBs). */
  errors: string[];
}

/**
 * Records every program the webgpu backend dispatches while `run` runs, without running them: the device's queue
 * drops every command buffer meanwhile, so a step at the study's sizes takes the host's time only (seconds on
 * lavapipe instead of minutes) and the list is the same. Results read meanwhile are garbage.
 */
export async function recordDispatches(run: () => Promise<void>): Promise<Recording> {
  if (tf.getBackend() !== 'webgpu') throw new Error(`dispatches: webgpu only, not ${tf.getBackend()}`);
  const backend = tf.backend() as unknown as { runWebGPUProgram: RunProgram; device: GPUDevice };
  const { device } = backend;
  const original = backend.runWebGPUProgram;
  const submit = Object.getOwnPropertyDescriptor(device.queue, 'submit');
  const dispatches: Dispatch[] = [];
  backend.runWebGPUProgram = function (this: unknown, program, inputs, ...rest) {
    const workgroups = program.dispatch.reduce((a, b) => a * b, 1);
    const bytes = inputs.map((i) => 4 * tf.util.sizeFromShape(i.shape));
    dispatches.push({
      program: program.shaderKey,
      workgroups,
      threads: workgroups * program.workgroupSize.reduce((a, b) => a * b, 1),
      inputShapes: inputs.map((i) => i.shape),
      inputBytes: bytes.reduce((a, b) => a + b, 0),
      readBytes: readBytes(program.shaderKey, bytes),
    });
    return original.call(this, program, inputs, ...rest);
  } as RunProgram;
  Object.defineProperty(device.queue, 'submit', { value: () => {}, configurable: true, writable: true });
  device.pushErrorScope('validation');
  try {
    await run();
  } finally {
    backend.runWebGPUProgram = original;
    if (submit) Object.defineProperty(device.queue, 'submit', submit);
    else delete (device.queue as { submit?: unknown }).submit;
  }
  const errors: string[] = [];
  // A scope holds the first error only; the first one names the problem.
  const error = await device.popErrorScope();
  if (error) errors.push(error.message.split('\n')[0]!);
  return { dispatches, errors };
}

/**
 * Builds `model` with random weights and a batch of random data, and hands `use` a function that issues one
 * training step (the step `melanoma bench` times) and returns its probabilities.
 */
async function withTrainStep<T>(model: ModelName, imageSize: number, batchSize: number, use: (issue: () => tf.Tensor) => Promise<T>): Promise<T> {
  const m = await buildModel(model, { imageSize, seed: 1, outputBias: 0, randomWeights: true, initFrom: null });
  const optimizer = kerasAdam(1e-3);
  const step = makeTrainStep(m, optimizer, 'all');
  const x = tf.randomUniform([batchSize, imageSize, imageSize, 3], 0, 1, 'float32', 1);
  const y = tf.tensor2d(
    Array.from({ length: batchSize }, (_, i) => i % 2),
    [batchSize, 1],
  );
  try {
    return await use(() => step(x, y));
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    m.model.dispose();
  }
}

const readAndDispose = async (t: tf.Tensor) => {
  await t.data();
  t.dispose();
};

/** The dispatches of one training step of `model` on random data. */
export function stepDispatches(model: ModelName, imageSize: number, batchSize: number): Promise<Recording> {
  return withTrainStep(model, imageSize, batchSize, async (issue) => {
    const once = () => readAndDispose(issue());
    // The first step compiles the shaders and fills the buffer pool; it runs nothing either.
    await recordDispatches(once);
    return recordDispatches(once);
  });
}

/** The host's time to issue one training step, the GPU running none of it, and the part of it in createBindGroup. */
export interface HostStep {
  ms: number;
  /** Time in device.createBindGroup, one call a dispatch: on lavapipe its largest native cost (a descriptor set). */
  bindGroupMs: number;
  bindGroups: number;
}

/**
 * The host's time to issue each of `steps` training steps of `model`, the GPU running none of them: what the
 * host alone costs a step, which bounds a GPU's steps a second however fast it computes. Bind groups are counted
 * apart because their cost is the driver's: lavapipe allocates each one's descriptor set in 25-36 us.
 */
export function hostStepMs(model: ModelName, imageSize: number, batchSize: number, steps: number): Promise<HostStep[]> {
  return withTrainStep(model, imageSize, batchSize, async (issue) => {
    await recordDispatches(() => readAndDispose(issue()));
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const own = Object.getOwnPropertyDescriptor(device, 'createBindGroup');
    const createBindGroup = device.createBindGroup;
    let bindGroupMs = 0;
    let bindGroups = 0;
    device.createBindGroup = function (this: GPUDevice, descriptor: GPUBindGroupDescriptor) {
      const t0 = performance.now();
      const group = createBindGroup.call(this, descriptor);
      bindGroupMs += performance.now() - t0;
      bindGroups++;
      return group;
    };
    const result: HostStep[] = [];
    try {
      await recordDispatches(async () => {
        for (let i = 0; i < steps; i++) {
          bindGroupMs = 0;
          bindGroups = 0;
          const t0 = performance.now();
          const probs = issue();
          result.push({ ms: performance.now() - t0, bindGroupMs, bindGroups });
          probs.dispose();
        }
      });
    } finally {
      if (own) Object.defineProperty(device, 'createBindGroup', own);
      else delete (device as { createBindGroup?: unknown }).createBindGroup;
    }
    return result;
  });
}
