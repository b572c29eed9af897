/**
 * Frozen-trunk activations kept on disk across runs. In every run of a transfer model (its 10 seeds) the
 * pretrained trunk is frozen and sees the same unaugmented images, so its activations depend only on the trunk's
 * weights, the image size, the images and the backend: the key hashes exactly those, and the first run computes
 * what the others read. A file is written whole under a temporary name and renamed into place, so readers never
 * see a partial one; runs computing the same key at once write the same bytes. A file of the wrong size (a
 * truncated copy, another format) is ignored and rewritten.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** Layer settings that do not change what a layer computes once its weights are given (names vary per thread). */
const IRRELEVANT = /^(name|trainable)$|Initializer$|Regularizer$|Constraint$/;

/**
 * A hex digest of what the trunk computes: each layer's class and settings (not its name, which tfjs numbers per
 * thread, nor its initialisers, which follow the run's seed) and every weight's values. Computed once per run:
 * it reads all the trunk's weights back.
 */
export async function trunkDigest(trunk: LayersModel): Promise<string> {
  const hash = createHash('sha256');
  for (const layer of trunk.layers) {
    const config = Object.entries(layer.getConfig()).filter(([k]) => !IRRELEVANT.test(k));
    hash.update(`${layer.getClassName()} ${JSON.stringify(config)}\n`);
  }
  for (const w of trunk.weights) {
    const values = (await w.read().data()) as Float32Array;
    hash.update(`${w.shape.join('x')}\n`);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}

export interface FeatureKeyParts {
  /** trunkDigest of the trunk. */
  trunk: string;
  imageSize: number;
  backend: string;
  datasetFingerprint: string;
  /** The split's record ids, in the order the activations are stored. */
  ids: string[];
}

/** A hex digest of everything the trunk's activations of these images depend on. */
export function featureKey(p: FeatureKeyParts): string {
  const hash = createHash('sha256');
  hash.update(`melanoma features v1\n${p.trunk}\n${p.imageSize}\n${p.backend}\n${p.datasetFingerprint}\n`);
  hash.update(p.ids.join('\n'));
  return hash.digest('hex');
}

export class FeatureStore {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, `${key}.f32`);
  }

  /** The stored activations of `key` if there are exactly `count` floats of them, else null. */
  async read(key: string, count: number): Promise<Float32Array | null> {
    const bytes = await readFile(this.path(key)).catch(() => null);
    if (bytes === null || bytes.byteLength !== count * 4) return null;
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }

  async write(key: string, values: Float32Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(key)}.${process.pid}-${threadId}.tmp`;
    try {
      await writeFile(tmp, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      await rename(tmp, this.path(key));
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
