/**
 * Keras' Dropout, with a new mask at every training call. tfjs-layers' Dropout hands its seed to every draw, so a
 * seeded layer drops the same elements at every step: a fixed mask, not dropout. Keras (TF 2) draws a new mask
 * at each call of a seeded layer. Here call k of a layer seeded s draws the mask of seed hash(s, k)
 * (kernels/dropout.ts): a run stays a function of its seed, and on webgpu the mask is drawn on the GPU instead
 * of on the CPU and uploaded. Same config and serialised class as tfjs-layers' Dropout.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { at } from '../../common/indexing.ts';
import { applyDropout, hash32 } from '../kernels/dropout.ts';

type DropoutArgs = Parameters<typeof tfl.layers.dropout>[0];
type Dropout = ReturnType<typeof tfl.layers.dropout>;
// The class is the constructor of what the factory makes (named, so that tfjs-layers' automatic names stay).
const DropoutBase = tfl.layers.dropout({ rate: 0.5, name: 'dropout_class' }).constructor as new (args: DropoutArgs) => Dropout;

/** The fields of the base layer this one reads (protected in the typings). */
interface DropoutFields {
  rate: number;
  seed?: number;
  noiseShape?: number[] | null;
}

/** Dropout of x with the mask of `seed`; its gradient is the same dropout of dy. */
export function seededDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  const attrs = { rate, seed };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: applyDropout(args[0] as tf.Tensor, attrs),
    gradFunc: (dy: tf.Tensor) => applyDropout(dy, attrs),
  }));
  return op(x);
}

class SeededDropout extends DropoutBase {
  static className = 'Dropout';
  /** Training calls so far: the k of the k-th mask. */
  calls = 0;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const f = this as unknown as DropoutFields;
    if (kwargs.training !== true || !(f.rate > 0 && f.rate < 1) || f.seed === undefined) return super.call(inputs, kwargs);
    const x = Array.isArray(inputs) ? at(inputs, 0, 'Dropout input') : inputs;
    const seed = hash32(f.seed ^ hash32(this.calls++));
    return tf.tidy(() => (f.noiseShape == null ? seededDropout(x, f.rate, seed) : tf.dropout(x, f.rate, f.noiseShape, seed)));
  }
}

/** The seeded Dropout layers of `model` and of the models nested in it, each once, in layer order. */
function seededDropouts(model: tfl.LayersModel, seen = new Set<tfl.layers.Layer>()): SeededDropout[] {
  const found: SeededDropout[] = [];
  for (const layer of model.layers) {
    if (seen.has(layer)) continue;
    seen.add(layer);
    if (layer instanceof SeededDropout) found.push(layer);
    else if (layer instanceof tfl.LayersModel) found.push(...seededDropouts(layer, seen));
  }
  return found;
}

/** How many masks each seeded Dropout layer of `model` has drawn: with the seed, what its next mask is. */
export function dropoutCalls(model: tfl.LayersModel): number[] {
  return seededDropouts(model).map((layer) => layer.calls);
}

/** Sets what dropoutCalls read, so that the next masks are the ones an uninterrupted run would draw. */
export function setDropoutCalls(model: tfl.LayersModel, calls: readonly number[]): void {
  const layers = seededDropouts(model);
  if (layers.length !== calls.length) throw new Error(`${calls.length} dropout counters for ${layers.length} seeded Dropout layers`);
  for (const [i, layer] of layers.entries()) layer.calls = calls[i]!; // as many as layers, checked above
}

/** tfl.layers.dropout, drawing a new mask at each training call when seeded. */
export function dropout(args: DropoutArgs): Dropout {
  return new SeededDropout(args);
}
