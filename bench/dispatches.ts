/**
 * The GPU dispatches of one training step, with the workgroups and threads each runs: the parallelism a GPU
 * gets, which no timing on lavapipe's two cores shows. Stock tfjs-webgpu ran the baseline's filter gradients on
 * 1 to 18 workgroups, each thread summing every pixel of the batch; that is the 687 ms the fast-training issue
 * measured on an H100 for a product one matMul does in 3.4 ms.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildModel } from '../workers/models/index.ts';
import { kerasAdam, makeTrainStep } from '../workers/train/step.ts';
import type { ModelName } from '../workers/protocol.ts';

export interface Dispatch {
  /** tfjs-webgpu's shader key: the program and the constants compiled into it. */
  program: string;
  workgroups: number;
  threads: number;
  inputShapes: number[][];
  /** Bytes of all its inputs (4 per value). */
  inputBytes: number;
}

interface Program {
  shaderKey: string;
  dispatch: number[];
  workgroupSize: number[];
}

type RunProgram = (program: Program, inputs: tf.TensorInfo[], ...rest: unknown[]) => tf.TensorInfo;

/** Records every program the webgpu backend dispatches while `run` runs. */
export async function recordDispatches(run: () => Promise<void>): Promise<Dispatch[]> {
  if (tf.getBackend() !== 'webgpu') throw new Error(`dispatches: webgpu only, not ${tf.getBackend()}`);
  const backend = tf.backend() as unknown as { runWebGPUProgram: RunProgram };
  const original = backend.runWebGPUProgram;
  const log: Dispatch[] = [];
  backend.runWebGPUProgram = function (this: unknown, program, inputs, ...rest) {
    const workgroups = program.dispatch.reduce((a, b) => a * b, 1);
    log.push({
      program: program.shaderKey,
      workgroups,
      threads: workgroups * program.workgroupSize.reduce((a, b) => a * b, 1),
      inputShapes: inputs.map((i) => i.shape),
      inputBytes: inputs.reduce((sum, i) => sum + 4 * tf.util.sizeFromShape(i.shape), 0),
    });
    return original.call(this, program, inputs, ...rest);
  } as RunProgram;
  try {
    await run();
  } finally {
    backend.runWebGPUProgram = original;
  }
  return log;
}

/** The dispatches of one training step of `model` (the step `melanoma bench` times) on random data. */
export async function stepDispatches(model: ModelName, imageSize: number, batchSize: number): Promise<Dispatch[]> {
  const m = await buildModel(model, { imageSize, seed: 1, outputBias: 0, randomWeights: true, initFrom: null });
  const optimizer = kerasAdam(1e-3);
  const step = makeTrainStep(m, optimizer, 'all');
  const x = tf.randomUniform([batchSize, imageSize, imageSize, 3], 0, 1, 'float32', 1);
  const y = tf.tensor2d(Array.from({ length: batchSize }, (_, i) => i % 2), [batchSize, 1]);
  const once = async () => {
    const probs = step(x, y);
    await probs.data();
    probs.dispose();
  };
  try {
    await once(); // compiles the shaders and fills the buffer pool
    return await recordDispatches(once);
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    m.model.dispose();
  }
}
