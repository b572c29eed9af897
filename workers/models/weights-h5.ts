/** Loads a Keras HDF5 weight file (read by keras-h5.ts) into a tfjs model, by layer name. */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../../common/errors.ts';
import { readH5Weights } from '../../study/weights/keras-h5.ts';
import { assignWeightsByName, type LoadReport } from './weights-by-name.ts';

export interface H5LoadOptions {
  /** Maps a layer name of the file to the model's name for it (layers not in the map keep their name). */
  renameLayers?: (fileLayerNames: string[]) => Map<string, string>;
}

export interface H5LoadReport extends LoadReport {
  kerasVersion: string | null;
}

/** Loads a Keras .h5 weight file into `model` by layer name; every variable of the model must be in the file. */
export async function loadH5Weights(model: tfl.LayersModel, path: string, opts: H5LoadOptions = {}): Promise<H5LoadReport> {
  const h5 = await readH5Weights(path);
  const rename = opts.renameLayers ? opts.renameLayers(h5.layerNames) : new Map<string, string>();
  const source = new Map<string, tf.Tensor>();
  try {
    for (const t of h5.tensors) {
      const key = `${rename.get(t.layer) ?? t.layer}/${t.param}`;
      if (source.has(key)) throw new UserError(`${path}: two tensors map to ${key}.`);
      source.set(key, tf.tensor(t.values, t.shape, 'float32'));
    }
    return { ...assignWeightsByName(model, source, path), kerasVersion: h5.kerasVersion };
  } finally {
    for (const t of source.values()) t.dispose();
  }
}
