/**
 * Adam with Keras' defaults (beta1 0.9, beta2 0.999, epsilon 1e-7), the same on every backend: tfjs' AdamOptimizer,
 * whose per-variable update runs as the one AdamUpdate kernel (kernels/adam.ts) where the backend has it
 * (webgpu): 3 dispatches a variable instead of 14. The state (moments, iterations) stays in tfjs' layout, so
 * getWeights, setWeights and dispose work unchanged; the bias corrections are computed on the host, in the same
 * float32 operations tfjs runs on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE } from '../kernels/adam.ts';
import type { AdamScalars } from '../kernels/wgsl/adam.ts';

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** AdamOptimizer's private state in tfjs-core 4.22 (the test in adam.test.ts fails if that changes). */
interface AdamState {
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

const f32 = Math.fround;

export class KerasAdam extends tf.AdamOptimizer {
  /** beta1^t and beta2^t as float32, as accBeta1 and accBeta2 hold them on the device. */
  private power1: number;
  private power2: number;

  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999, 1e-7);
    this.power1 = f32(this.beta1);
    this.power2 = f32(this.beta2);
  }

  override applyGradients(variableGradients: Gradients): void {
    if (tf.getKernel(ADAM_UPDATE, tf.getBackend()) === undefined) super.applyGradients(variableGradients);
    else this.applyFused(variableGradients);
    this.power1 = f32(this.power1 * f32(this.beta1));
    this.power2 = f32(this.power2 * f32(this.beta2));
  }

  private applyFused(variableGradients: Gradients): void {
    const state = this as unknown as AdamState;
    const grads = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const scalars: AdamScalars = {
      beta1: this.beta1,
      beta2: this.beta2,
      oneMinusBeta1: 1 - this.beta1,
      oneMinusBeta2: 1 - this.beta2,
      correction1: f32(1 - this.power1),
      correction2: f32(1 - this.power2),
      epsilon: this.epsilon,
      learningRate: this.learningRate,
    };
    tf.tidy(() => {
      grads.forEach(({ name, tensor: g }, i) => {
        const value = tf.engine().registeredVariables[name];
        const zeros = (suffix: string): Slot => ({ originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
        state.accumulatedFirstMoment[i] ??= zeros('m');
        state.accumulatedSecondMoment[i] ??= zeros('v');
        if (g == null) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        const [m2, v2, value2] = tf.engine().runKernel(ADAM_UPDATE, { m, v, g, value }, scalars as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(value2);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}
