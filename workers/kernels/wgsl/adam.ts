/**
 * One Adam update of a variable in three passes, each computing one of the new first moment, second moment
 * and value from the old ones and the gradient (the value pass recomputes both moments rather than reading
 * them back). tfjs' Adam runs 14 elementwise ops per variable, each a dispatch and a pass over the variable.
 * The same formula and order of float32 operations as tfjs' AdamOptimizer; a shader compiler may still fuse a
 * multiply and an add, so results can differ in the last bits (test/workers/train/adam.test.ts bounds that).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runWgsl } from './run.ts';

export interface AdamScalars {
  beta1: number;
  beta2: number;
  /** 1 - beta1 and 1 - beta2 as tfjs passes them (float64 differences, rounded to float32 on the GPU). */
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  /** The bias corrections 1 - beta1^t and 1 - beta2^t of this step. */
  correction1: number;
  correction2: number;
  epsilon: number;
  learningRate: number;
}

const FIRST = 'm[index] * uniforms.beta1 + g[index] * uniforms.oneMinusBeta1';
const SECOND = 'v[index] * uniforms.beta2 + (g[index] * g[index]) * uniforms.oneMinusBeta2';

/** Each pass binds only the inputs it reads (a bound input the shader never reads fails validation). */
const PASSES = {
  m: { inputs: ['m', 'g'], code: `result[index] = ${FIRST};` },
  v: { inputs: ['v', 'g'], code: `result[index] = ${SECOND};` },
  value: {
    inputs: ['m', 'v', 'g', 'value'],
    code: `let mHat = (${FIRST}) / uniforms.correction1;
  let vHat = (${SECOND}) / uniforms.correction2;
  result[index] = (mHat / (sqrt(vHat) + uniforms.epsilon)) * -uniforms.learningRate + value[index];`,
  },
} as const;

/** The new [m, v, value] of one variable. */
export function adamUpdate(
  backend: WebGPUBackend,
  inputs: { m: TensorInfo; v: TensorInfo; g: TensorInfo; value: TensorInfo },
  scalars: AdamScalars,
): TensorInfo[] {
  const floats = { ...scalars } as unknown as Record<string, number>;
  return (['m', 'v', 'value'] as const).map((out) =>
    runWgsl(backend, {
      key: `adam_${out}`,
      inputs: Object.fromEntries(PASSES[out].inputs.map((name) => [name, inputs[name]])),
      outputShape: inputs.value.shape,
      floats,
      main: `fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  ${PASSES[out].code}
}`,
      workgroupSize: 256,
    }),
  );
}
