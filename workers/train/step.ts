/** One Adam step on binary cross-entropy, shared by the training loop and the benchmark. */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { StudyModel } from '../models/index.ts';
import { KerasAdam } from './adam.ts';

const EPSILON = 1e-7; // Keras' backend epsilon, used to clip probabilities in binary cross-entropy

export function binaryCrossEntropy(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  const q = tf.clipByValue(p, EPSILON, 1 - EPSILON);
  const perSample = tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q))));
  return tf.neg(tf.mean(perSample)) as tf.Scalar;
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

/** Returns a function that trains on one batch and returns its predicted probabilities (caller disposes). */
export function makeTrainStep(m: StudyModel, optimizer: tf.Optimizer, base: BaseToApply): TrainStep {
  const variables = m.model.trainableWeights.map((w) => w.read() as tf.Variable);
  return (x, y) =>
    tf.tidy(() => {
      let probs: tf.Tensor | undefined;
      optimizer.minimize(() => {
        probs = tf.keep(forward(m, x, true, base));
        return binaryCrossEntropy(y, probs);
      }, false, variables);
      return probs!;
    });
}
