/**
 * The gradients the project registers in place of tfjs': Relu's, which runs the ReluGrad kernel where the backend
 * has it (relu-grad.ts), and those of Mean and Sigmoid, which make no tensor on the host; and a kept 1 to seed
 * backpropagation.
 * tfjs' Mean gradient multiplies dy by a tensor of ones of x's shape, filled on the CPU at every step, and
 * divides by the count; its Sigmoid gradient subtracts from a scalar 1; tfjs seeds a gradient with a new scalar
 * 1. Every such tensor is uploaded at every step, on webgpu through a staging buffer created and destroyed for
 * it: at 224 px, batch 32, the baseline's global average pooling alone filled and uploaded 1.2M ones (4.7 MB) a
 * step. Here the constants are scalars kept on the backend and a mean's gradient is dy / n broadcast on the
 * backend: the same numbers (dy * 1 / n is dy / n), no upload.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { hasReluGrad, RELU_GRAD } from './relu-grad.ts';

const kept = new Map<string, tf.Scalar>();

/** A float32 scalar that lives on the active backend until the engine is reset; do not dispose it. */
export function keptScalar(value: number): tf.Scalar {
  const key = `${tf.getBackend()}/${value}`;
  let scalar = kept.get(key);
  if (scalar === undefined || scalar.isDisposed) {
    scalar = tf.keep(tf.scalar(value, 'float32'));
    kept.set(key, scalar);
  }
  return scalar;
}

const meanGrad: GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, [x], attrs) => {
    const axes = tf.util.parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape);
    const expanded = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
    const count = axes.reduce((n, axis) => n * x.shape[axis], 1);
    return { x: () => tf.broadcastTo(tf.div(tf.reshape(dy as tf.Tensor, expanded), keptScalar(count)), x.shape) };
  },
};

const sigmoidGrad: GradConfig = {
  kernelName: tf.Sigmoid,
  outputsToSave: [true],
  gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(keptScalar(1), y))) }),
};

const stock = new Map<string, GradConfig>();

/** One pass where the backend has ReluGrad; tfjs' own two otherwise. */
const reluGrad: GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const single = dy as tf.Tensor;
    if (!hasReluGrad() || x.dtype !== 'float32' || single.dtype !== 'float32') return stock.get(tf.Relu)!.gradFunc(dy, saved, attrs);
    return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: single, x }) as tf.Tensor };
  },
};

const ours = [reluGrad, meanGrad, sigmoidGrad];

/** Registers these gradients in place of tfjs' ('ours', idempotent), or puts tfjs' back ('stock', for benchmarks). */
export function useGradients(set: 'ours' | 'stock'): void {
  for (const config of ours) {
    if (!stock.has(config.kernelName)) {
      const original = tf.getGradient(config.kernelName);
      if (original === undefined) throw new Error(`tfjs-core has no gradient registered for ${config.kernelName}`);
      stock.set(config.kernelName, original);
    }
    const wanted = set === 'ours' ? config : stock.get(config.kernelName)!;
    if (tf.getGradient(config.kernelName) !== wanted) tf.registerGradient(wanted);
  }
}
