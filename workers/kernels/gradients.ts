/**
 * The gradients the project registers in place of tfjs': Relu's, which runs the ReluGrad kernel where the backend
 * has it (relu-grad.ts), and those of Mean, Sigmoid, FusedBatchNorm and ClipByValue, which make no tensor on the
 * host; and a kept 1 to seed backpropagation.
 * tfjs' Mean gradient multiplies dy by a tensor of ones of x's shape, filled on the CPU at every step, and
 * divides by the count; its Sigmoid gradient subtracts from a scalar 1; tfjs seeds a gradient with a new scalar
 * 1. Every such tensor is uploaded at every step, on webgpu through a staging buffer created and destroyed for
 * it: at 224 px, batch 32, the baseline's global average pooling alone filled and uploaded 1.2M ones (4.7 MB) a
 * step. Here the constants are scalars kept on the backend and a mean's gradient is dy / n broadcast on the
 * backend: the same numbers (dy * 1 / n is dy / n), no upload.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { at } from '../../common/indexing.ts';
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
  gradFunc: (dy, saved, attrs) => {
    const x = at(saved, 0, 'saved Mean input');
    const axes = tf.util.parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape);
    const expanded = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
    const count = axes.reduce((n, axis) => n * at(x.shape, axis, 'Mean axis'), 1);
    return { x: () => tf.broadcastTo(tf.div(tf.reshape(dy as tf.Tensor, expanded), keptScalar(count)), x.shape) };
  },
};

const sigmoidGrad: GradConfig = {
  kernelName: tf.Sigmoid,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const y = at(saved, 0, 'saved Sigmoid output');
    return { x: () => tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(keptScalar(1), y))) };
  },
};

/**
 * tfjs' FusedBatchNorm gradient, with the same numbers, less work and no upload. tfjs makes 1/sqrt(var + eps)
 * with a new scalar eps, and eagerly, whichever gradients are asked for, (x - mean), dy * scale, a tensor of x's
 * shape tiled from 1/sqrt(var + eps), and -(1/sqrt(var + eps))^3 / 2 with another new scalar. A pretrained base's
 * batch norm runs in inference mode: its moving mean and variance are constants, so only x, scale and offset
 * want gradients. Here each product is made only by the gradient that needs it, the per-channel factor is
 * broadcast instead of tiled (the same products), and the constants are kept scalars.
 */
const fusedBatchNormGrad: GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const x = at(saved, 0, 'saved FusedBatchNorm x');
    const mean = at(saved, 1, 'saved FusedBatchNorm mean');
    const variance = at(saved, 2, 'saved FusedBatchNorm variance');
    const scale = at(saved, 3, 'saved FusedBatchNorm scale'); // tfjs cannot save a missing scale: the models' batch norms all have one
    const d = dy as tf.Tensor;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const perChannel = (t: tf.Tensor) => tf.reshape(mean.rank === 1 ? tf.sum(t, axes) : t, mean.shape);
    const rsqrtVariance = tf.rsqrt(tf.add(variance, keptScalar(varianceEpsilon)));
    const dyTimesScale = () => tf.mul(d, scale);
    return {
      x: () => tf.reshape(tf.mul(tf.mul(d, rsqrtVariance), scale), x.shape),
      mean: () => perChannel(tf.mul(tf.mul(rsqrtVariance, keptScalar(-1)), dyTimesScale())),
      variance: () => {
        const minusHalfRCube = tf.mul(tf.mul(tf.mul(rsqrtVariance, rsqrtVariance), rsqrtVariance), keptScalar(-0.5));
        return perChannel(tf.mul(tf.mul(minusHalfRCube, tf.sub(x, mean)), dyTimesScale()));
      },
      scale: () => perChannel(tf.mul(d, tf.mul(tf.sub(x, mean), rsqrtVariance))),
      offset: () => perChannel(d),
    };
  },
};

/** tfjs' ClipByValue gradient (ReLU6's in MobileNetV2), comparing x with kept bounds instead of new scalars. */
const clipByValueGrad: GradConfig = {
  kernelName: tf.ClipByValue,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = at(saved, 0, 'saved ClipByValue input');
    const { clipValueMin, clipValueMax } = attrs as unknown as tf.ClipByValueAttrs;
    const inside = () => tf.logicalAnd(tf.greaterEqual(x, keptScalar(clipValueMin)), tf.lessEqual(x, keptScalar(clipValueMax)));
    return { x: () => tf.where(inside(), dy as tf.Tensor, tf.zerosLike(dy as tf.Tensor)) };
  },
};

const stock = new Map<string, GradConfig>();

/** One pass where the backend has ReluGrad; tfjs' own two otherwise. */
const reluGrad: GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = at(saved, 0, 'saved Relu input');
    const single = dy as tf.Tensor;
    if (!hasReluGrad() || x.dtype !== 'float32' || single.dtype !== 'float32') return stock.get(tf.Relu)!.gradFunc(dy, saved, attrs);
    return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: single, x }) as tf.Tensor };
  },
};

const ours = [reluGrad, meanGrad, sigmoidGrad, fusedBatchNormGrad, clipByValueGrad];

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
