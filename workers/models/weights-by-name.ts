/**
 * Copies named tensors (`<layer>/<param>`, e.g. `Conv1/kernel`, `bn_Conv1/moving_mean`) into a model's variables,
 * matching by layer name, never by position. Every variable of the model must be found with the right shape.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../../common/errors.ts';

export interface LoadReport {
  /** Tensors copied into the model. */
  tensors: number;
  /** Numbers copied into the model. */
  params: number;
  /** Names in the source that no layer of the model asked for (e.g. a classifier head that is thrown away). */
  unused: string[];
}

type Variable = tfl.LayersModel['weights'][number];

/** The layers that own weights, nested models opened up. */
export function leafLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) => (layer instanceof tfl.LayersModel ? leafLayers(layer) : [layer]));
}

/** `<layer>/<param>`: the parameter is the last part of the variable's name (`block1_conv1_bn/moving_mean`). */
export function weightKey(layer: tfl.layers.Layer, variable: Variable): string {
  const parts = variable.originalName.split('/');
  return `${layer.name}/${parts[parts.length - 1]}`;
}

/** Every variable of the model by its key. */
export function modelVariables(model: tfl.LayersModel): Map<string, Variable> {
  const out = new Map<string, Variable>();
  for (const layer of leafLayers(model)) {
    for (const v of layer.weights) {
      const key = weightKey(layer, v);
      if (out.has(key)) throw new Error(`model ${model.name} has two variables named ${key}`);
      out.set(key, v);
    }
  }
  return out;
}

/**
 * Assigns `source[key]` to each variable of `model`. `source` names the file for error messages. The caller
 * keeps ownership of the source tensors (the variables get their own copies).
 */
export function assignWeightsByName(model: tfl.LayersModel, source: Map<string, tf.Tensor>, from: string): LoadReport {
  const targets = modelVariables(model);
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [key, v] of targets) {
    const t = source.get(key);
    if (t === undefined) missing.push(key);
    else if (!tf.util.arraysEqual(t.shape, v.shape as number[])) mismatched.push(`${key}: file [${t.shape}] vs model [${v.shape}]`);
  }
  if (missing.length > 0) {
    throw new UserError(`${from} lacks ${missing.length} of the ${targets.size} weights of ${model.name}: ${preview(missing)}.`);
  }
  if (mismatched.length > 0) {
    throw new UserError(`${from} has weights of the wrong shape for ${model.name}: ${preview(mismatched)}.`);
  }
  let params = 0;
  tf.tidy(() => {
    for (const [key, v] of targets) {
      const t = source.get(key)!;
      v.write(t.dtype === v.dtype ? tf.clone(t) : tf.cast(t, v.dtype));
      params += t.size;
    }
  });
  const unused = [...source.keys()].filter((k) => !targets.has(k));
  return { tensors: targets.size, params, unused };
}

function preview(items: string[], n = 6): string {
  return items.length <= n ? items.join(', ') : `${items.slice(0, n).join(', ')} and ${items.length - n} more`;
}
