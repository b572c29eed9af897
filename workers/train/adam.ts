/**
 * Adam with Keras' defaults (beta1 0.9, beta2 0.999, epsilon 1e-7), the same on every backend: tfjs'
 * AdamOptimizer, except where the backend has the AdamMoments and AdamValue kernels (webgpu, kernels/adam.ts).
 * There the moments of all variables live in one flat tensor, updated in one pass from the concatenated
 * gradients, and each variable takes one more pass: about 20 dispatches a step for the baseline's 16
 * variables, where tfjs' update takes 14 per variable. getWeights and setWeights still speak tfjs' layout
 * (iterations, then every m, then every v); the bias corrections are computed on the host, in the same float32
 * operations tfjs runs on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_MOMENTS, ADAM_VALUE } from '../kernels/adam.ts';
import type { AdamScalars } from '../kernels/wgsl/adam.ts';
import { first } from '../../common/indexing.ts';

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** AdamOptimizer's private state in tfjs-core 4.22 (the test in adam.test.ts fails if that changes). */
interface AdamState {
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
}

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];
type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

/** The flat moments: every m, then every v, of `names` in order, each flattened. */
interface FlatMoments {
  names: string[];
  sizes: number[];
  total: number;
  moments: tf.Tensor1D;
}

const f32 = Math.fround;

export class KerasAdam extends tf.AdamOptimizer {
  /** beta1^t and beta2^t in float32, multiplied up as tfjs' own update does on the device. */
  private power1: number;
  private power2: number;
  private flat: FlatMoments | null = null;

  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999, 1e-7);
    this.power1 = f32(this.beta1);
    this.power2 = f32(this.beta2);
  }

  override applyGradients(variableGradients: Gradients): void {
    if (tf.getKernel(ADAM_MOMENTS, tf.getBackend()) !== undefined) this.applyFlat(variableGradients);
    else if (this.flat === null) super.applyGradients(variableGradients);
    else throw new Error('KerasAdam: the backend lost its Adam kernels between steps; the moments live in them');
    this.power1 = f32(this.power1 * f32(this.beta1));
    this.power2 = f32(this.power2 * f32(this.beta2));
  }

  /** tfjs' accBeta1 and accBeta2 are left as they are: only tfjs' own update reads them, and setWeights sets them. */
  private applyFlat(variableGradients: Gradients): void {
    const grads = (Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }))) as {
      name: string;
      tensor: tf.Tensor | null;
    }[];
    const missing = grads.find((g) => g.tensor == null);
    if (missing) throw new Error(`KerasAdam: no gradient for ${missing.name} (every variable it trains needs one)`);
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
    const flat = this.flatMoments(grads.map((g) => g.name));
    tf.tidy(() => {
      const g = tf.concat(grads.map(({ tensor }) => tf.reshape(tensor!, [-1])));
      const moments = tf.engine().runKernel(ADAM_MOMENTS, { mv: flat.moments, g }, scalars as unknown as tf.NamedAttrMap) as tf.Tensor1D;
      let offset = 0;
      flat.names.forEach((name, i) => {
        const value = variableNamed(name);
        const attrs = { ...scalars, offset, total: flat.total } as unknown as tf.NamedAttrMap;
        value.assign(tf.engine().runKernel(ADAM_VALUE, { mv: moments, value }, attrs) as tf.Tensor);
        offset += flat.sizes[i]!; // a size per name
      });
      flat.moments.dispose();
      flat.moments = tf.keep(moments);
    });
    this.incrementIterations();
  }

  /** The flat moments of `names`, made on the first step from tfjs' slots (set by setWeights) or zeros. */
  private flatMoments(names: string[]): FlatMoments {
    if (this.flat !== null) {
      if (names.join('\n') !== this.flat.names.join('\n')) throw new Error('KerasAdam: the variables it trains changed between steps');
      return this.flat;
    }
    const state = this as unknown as AdamState;
    const sizes = names.map((name) => variableNamed(name).size);
    const moments = tf.tidy(() => {
      const slot = (slots: Slot[], i: number) => {
        const saved = slots[i];
        return saved ? tf.reshape(saved.variable, [-1]) : tf.zeros([sizes[i]!]);
      };
      return tf.concat([...names.map((_, i) => slot(state.accumulatedFirstMoment, i)), ...names.map((_, i) => slot(state.accumulatedSecondMoment, i))]);
    }) as tf.Tensor1D;
    this.flat = { names, sizes, total: sizes.reduce((a, b) => a + b, 0), moments };
    return this.flat;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    if (this.flat === null) return super.getWeights();
    const iterations = first(await super.getWeights(), 'Adam weight (iterations)');
    const { names, sizes, total, moments } = this.flat;
    const slots = (half: number, suffix: string) => {
      let offset = half * total;
      return names.map((name, i) => {
        const size = sizes[i]!; // a size per name
        const tensor = tf.tidy(() => tf.reshape(tf.slice(moments, offset, size), variableNamed(name).shape));
        offset += size;
        return { name: `${name}/${suffix}`, tensor };
      });
    };
    return [iterations, ...slots(0, 'm'), ...slots(1, 'v')];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.flat?.moments.dispose();
    this.flat = null; // the next step rebuilds the flat moments from the slots tfjs sets here
    await super.setWeights(weightValues);
    // The powers of the restored step, multiplied up as applyGradients does.
    this.power1 = f32(this.beta1);
    this.power2 = f32(this.beta2);
    for (let t = 0; t < this.iterations; t++) {
      this.power1 = f32(this.power1 * f32(this.beta1));
      this.power2 = f32(this.power2 * f32(this.beta2));
    }
    // tfjs sets its own powers with pow(), which can differ in the last bit from the products its steps multiply
    // up: a restored optimizer would then not step as the uninterrupted one does.
    const acc = this as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    tf.tidy(() => {
      acc.accBeta1.assign(tf.scalar(this.power1));
      acc.accBeta2.assign(tf.scalar(this.power2));
    });
  }

  override dispose(): void {
    this.flat?.moments.dispose();
    this.flat = null;
    super.dispose();
  }
}

/** The registered variable an optimizer trains under `name`. */
function variableNamed(name: string): tf.Variable {
  const variable = tf.engine().registeredVariables[name];
  if (variable === undefined) throw new Error(`KerasAdam: no variable named ${name} is registered`);
  return variable;
}
