/**
 * TensorFlow.js model files on disk (model.json + one weights.bin) through node:fs, since tfjs-node's `file://`
 * handlers are not available: a save handler for `model.save`, a load handler for `tf.loadLayersModel`, and a
 * reader of the named weights alone.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../common/errors.ts';

import { MODEL_JSON } from '../../study/weights/pretrained.ts';

export { MODEL_JSON };
export const WEIGHTS_BIN = 'weights.bin';

/** `dir` may be the folder or its model.json. */
export function modelJsonPath(dirOrFile: string): string {
  return existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, MODEL_JSON) : dirOrFile;
}

/** Writes model.json and weights.bin into `dir` (created if needed); each file appears whole or not at all. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      mkdirSync(dir, { recursive: true });
      const weightData = artifacts.weightData == null ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const manifest: tf.io.WeightsManifestConfig = [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }];
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        weightsManifest: manifest,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      writeAtomically(join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
      writeAtomically(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

function writeAtomically(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Reads a model.json and the weight files its manifest names (paths relative to the model.json). */
export function fileLoadHandler(dirOrFile: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const { json, path } = readModelJson(dirOrFile);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => [tf.io.getWeightSpecs(manifest), readWeightFiles(manifest, dirname(path))]);
    },
  };
}

export function readModelJson(dirOrFile: string): { json: tf.io.ModelJSON; path: string } {
  const path = modelJsonPath(dirOrFile);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`cannot read ${path}: no TensorFlow.js model.json there.`);
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (err) {
    throw new UserError(`${path} is not valid JSON (${(err as Error).message}).`);
  }
  if (json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
    throw new UserError(`${path} is not a TensorFlow.js layers model (no modelTopology or weightsManifest).`);
  }
  return { json, path };
}

function readWeightFiles(manifest: tf.io.WeightsManifestConfig, dir: string): ArrayBuffer {
  const buffers = manifest.flatMap((group) =>
    group.paths.map((p) => {
      const file = join(dir, p);
      try {
        const b = readFileSync(file);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch {
        throw new UserError(`cannot read ${file}, a weight file named by ${join(dir, MODEL_JSON)}.`);
      }
    }),
  );
  return tf.io.concatenateArrayBuffers(buffers);
}

/** The named weights of a saved model (e.g. `Conv1/kernel`), decoded; the caller disposes them. */
export function readNamedWeights(dirOrFile: string): Map<string, tf.Tensor> {
  const { json, path } = readModelJson(dirOrFile);
  const specs = tf.io.getWeightSpecs(json.weightsManifest);
  const data = readWeightFiles(json.weightsManifest, dirname(path));
  const expected = specs.reduce((n, s) => n + tf.util.sizeFromShape(s.shape) * bytesPer(s.dtype), 0);
  if (specs.every((s) => s.quantization == null) && data.byteLength !== expected) {
    throw new UserError(`${path}: its weight files hold ${data.byteLength} bytes but its manifest describes ${expected}.`);
  }
  return new Map(Object.entries(tf.io.decodeWeights(data, specs)));
}

function bytesPer(dtype: string): number {
  return dtype === 'bool' ? 1 : 4;
}
