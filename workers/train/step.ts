/** One Adam step on binary cross-entropy, shared by the training loop and the benchmark. */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { StudyModel } from '../models/index.ts';
import { frozenTrunk } from '../models/trunk.ts';
import { BINARY_CROSS_ENTROPY, BINARY_CROSS_ENTROPY_GRAD } from '../kernels/binary-cross-entropy.ts';
import { keptScalar } from '../kernels/gradients.ts';
import { KerasAdam } from './adam.ts';

const EPSILON = 1e-7; // Keras' backend epsilon, used to clip probabilities in binary cross-entropy

/**
 * Keras' binary cross-entropy of probabilities p, -mean(y log q + (1 - y) log(1 - q)) with q = p clipped to
 * [EPSILON, 1 - EPSILON], with its gradient written out: d/dp = (q - y) / (q (1 - q)) / n where the clip let p
 * through, else 0. Autodiff's gradient of the formula takes about 30 kernels on a batch of 32 numbers, each a GPU
 * dispatch and a host round of tfjs bookkeeping; these ops take 18 for both, and on webgpu the same formula is
 * one kernel each way (workers/kernels/wgsl/binary-cross-entropy.ts).
 */
export function binaryCrossEntropy(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  const oneKernel = tf.getKernel(BINARY_CROSS_ENTROPY, tf.getBackend()) !== undefined;
  const attrs = { epsilon: EPSILON };
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [probs, save] = args as [tf.Tensor, tf.GradSaveFunc];
    if (oneKernel) {
      save([probs]);
      return {
        value: tf.reshape(tf.engine().runKernel(BINARY_CROSS_ENTROPY, { y, p: probs }, attrs) as tf.Tensor, []) as tf.Scalar,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [probsIn] = saved as [tf.Tensor]; // save([probs]) above
          return tf.engine().runKernel(BINARY_CROSS_ENTROPY_GRAD, { dy, y, p: probsIn }, attrs) as tf.Tensor;
        },
      };
    }
    const q = tf.clipByValue(probs, EPSILON, 1 - EPSILON);
    const oneMinusQ = tf.sub(1, q);
    save([probs, q, oneMinusQ]);
    const perSample = tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(oneMinusQ)));
    return {
      value: tf.neg(tf.mean(perSample)) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [probsIn, qIn, oneMinusQIn] = saved as [tf.Tensor, tf.Tensor, tf.Tensor]; // save([probs, q, oneMinusQ]) above
        const passed = tf.equal(probsIn, qIn); // false where clipped (and for NaN), as the clip's own gradient
        const g = tf.div(tf.sub(qIn, y), tf.mul(qIn, oneMinusQIn));
        return tf.mul(tf.where(passed, g, tf.zerosLike(g)), tf.div(dy, probsIn.size));
      },
    };
  });
  return loss(p) as tf.Scalar;
}

/**
 * What of the pretrained base a batch still has to go through before the head: 'all' (x holds images), or the
 * layers above a cached frozen trunk (x holds the trunk's activations; null: they are the base's output).
 */
export type BaseToApply = 'all' | tfl.LayersModel | null;

/**
 * Forward pass of the trained part. The pretrained base always runs in inference mode (frozen batch norm, as
 * Keras does for a base called with training=False).
 */
export function forward(m: StudyModel, x: tf.Tensor, training: boolean, base: BaseToApply): tf.Tensor {
  const layers = base === 'all' ? m.base : base;
  const features = layers ? (layers.apply(x, { training: false }) as tf.Tensor) : x;
  return m.head.apply(features, { training }) as tf.Tensor;
}

/** Adam with Keras' defaults (beta1 0.9, beta2 0.999, epsilon 1e-7), the same on every backend (adam.ts). */
export function kerasAdam(learningRate: number): tf.Optimizer {
  return new KerasAdam(learningRate);
}

export type TrainStep = (x: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/**
 * Returns a function that trains on one batch and returns its predicted probabilities (caller disposes). The
 * frozen trunk of a base (all of it for `xception` and `mobilenet`, workers/models/trunk.ts) runs before the
 * gradient tape starts: nothing flows back into it, and tfjs would otherwise keep a copy of every activation it
 * records. PyTorch does not record a frozen base either.
 */
export function makeTrainStep(m: StudyModel, optimizer: tf.Optimizer, base: BaseToApply): TrainStep {
  const variables = m.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const split = base === 'all' && m.base !== null ? frozenTrunk(m.base) : null;
  return (x, y) =>
    tf.tidy(() => {
      const input = split ? (split.trunk.apply(x, { training: false }) as tf.Tensor) : x;
      let probs: tf.Tensor | undefined;
      // optimizer.minimize, seeded with a kept 1 instead of a new scalar uploaded at every step.
      const { grads } = tf.engine().gradients(
        () => {
          probs = tf.keep(forward(m, input, true, split ? split.rest : base));
          return binaryCrossEntropy(y, probs);
        },
        variables,
        keptScalar(1),
        true,
      );
      optimizer.applyGradients(Object.fromEntries(variables.map((v, i) => [v.name, grads[i]!]))); // a gradient per variable
      return probs!;
    });
}
