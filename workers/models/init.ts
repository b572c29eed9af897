/**
 * Seeded weight initialisers: every layer gets a glorotUniform with its own seed derived from the run seed and
 * the layer's position, so that the same run seed always gives the same initial weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

/** FNV-1a of "runSeed:index", a 31-bit seed that differs for every (run, layer) pair in practice. */
export function layerSeed(runSeed: number, index: number): number {
  const text = `${runSeed}:${index}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

/** Hands out one seeded glorotUniform per call, numbering the calls in the order the layers are built. */
export class SeededInit {
  private index = 0;
  constructor(readonly runSeed: number) {}

  glorot(): Initializer {
    return tfl.initializers.glorotUniform({ seed: layerSeed(this.runSeed, this.index++) });
  }

  /** A seed for a layer that draws random numbers itself (Dropout). */
  seed(): number {
    return layerSeed(this.runSeed, this.index++);
  }
}

export function constantInit(value: number): Initializer {
  return tfl.initializers.constant({ value });
}

export function countParams(weights: { shape: (number | null)[] }[]): number {
  return weights.reduce((sum, w) => sum + tf.util.sizeFromShape(w.shape as number[]), 0);
}
