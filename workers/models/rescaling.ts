/**
 * Keras' Rescaling (x * scale + offset), with its two constants kept on the backend. tfjs-layers' Rescaling makes
 * both as new scalars at every call, and webgpu uploads each through a staging buffer of its own: two uploads in
 * every training step and every prediction batch of the pretrained models. Same numbers, config and serialised
 * class as tfjs-layers' Rescaling.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { at } from '../../common/indexing.ts';
import { keptScalar } from '../kernels/gradients.ts';

type RescalingArgs = Parameters<typeof tfl.layers.rescaling>[0];
type Rescaling = ReturnType<typeof tfl.layers.rescaling>;
// The class is the constructor of what the factory makes (named, so that tfjs-layers' automatic names stay).
const RescalingBase = tfl.layers.rescaling({ scale: 1, name: 'rescaling_class' }).constructor as new (args: RescalingArgs) => Rescaling;

class KeptRescaling extends RescalingBase {
  static className = 'Rescaling';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const { scale, offset } = this as unknown as { scale: number; offset: number }; // protected in the typings
    const x = Array.isArray(inputs) ? at(inputs, 0, 'Rescaling input') : inputs;
    return tf.tidy(() => tf.add(tf.mul(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), keptScalar(scale)), keptScalar(offset)));
  }
}

/** tfl.layers.rescaling, with no upload per call. */
export function rescaling(args: RescalingArgs): Rescaling {
  return new KeptRescaling(args);
}
