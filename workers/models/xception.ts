/**
 * Keras' Xception (keras.applications.Xception, include_top=False) built in code with Keras' layer names, so the
 * official ImageNet weights load by name. The model takes images in [0,1]; with inputScaling '[-1, 1]' (ImageNet's,
 * Keras' `x / 127.5 - 1` on 0..255) a weightless `rescaling` layer in front of `block1_conv1` scales them, with
 * '[0, 1]' (the article's generators) the images go in as they are.
 *
 * Keras leaves the four residual 1x1 convolutions and their batch normalisations unnamed; here they carry the
 * names Keras 2.x/3 gives them in a fresh session, in order of creation (blocks 2, 3, 4, 13): `conv2d`,
 * `conv2d_1`, `conv2d_2`, `conv2d_3` and `batch_normalization`, `batch_normalization_1`, `_2`, `_3`; the twelve
 * residual additions are `add` ... `add_11`. The official Keras 2.0 weight file calls the same layers `conv2d_1` ...
 * `conv2d_4` and `batch_normalization_1` ... `_4`: `xceptionH5LayerNames` maps those by order.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { InputScaling } from '../../study/protocol.ts';
import { UserError } from '../../common/errors.ts';
import { at } from '../../common/indexing.ts';
import { SeededInit } from './init.ts';
import { rescaling } from './rescaling.ts';

export const XCEPTION_MIN_SIZE = 71;
export const XCEPTION_BASE_PARAMS = 20_861_480;
export const XCEPTION_RESIDUAL_CONVS = ['conv2d', 'conv2d_1', 'conv2d_2', 'conv2d_3'];
export const XCEPTION_RESIDUAL_BNS = ['batch_normalization', 'batch_normalization_1', 'batch_normalization_2', 'batch_normalization_3'];

type T = tfl.SymbolicTensor;

export function buildXceptionBase(imageSize: number, seed: number, inputScaling: InputScaling = '[-1, 1]'): tfl.LayersModel {
  if (!Number.isInteger(imageSize) || imageSize < XCEPTION_MIN_SIZE) {
    throw new UserError(`image size ${imageSize} is too small for Xception, which needs at least ${XCEPTION_MIN_SIZE} pixels.`);
  }
  const init = new SeededInit(seed);
  let residualIndex = 0;
  let addIndex = 0;
  const suffixed = (base: string, i: number) => (i === 0 ? base : `${base}_${i}`);

  const conv = (x: T, filters: number, name: string, strides = 1): T =>
    tfl.layers.conv2d({ filters, kernelSize: 3, strides, useBias: false, kernelInitializer: init.glorot(), name }).apply(x) as T;
  const sep = (x: T, filters: number, name: string): T =>
    tfl.layers
      .separableConv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: init.glorot(),
        pointwiseInitializer: init.glorot(),
        name,
      })
      .apply(x) as T;
  const bn = (x: T, name: string): T => tfl.layers.batchNormalization({ axis: -1, name }).apply(x) as T;
  const relu = (x: T, name: string): T => tfl.layers.activation({ activation: 'relu', name }).apply(x) as T;
  const pool = (x: T, name: string): T => tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name }).apply(x) as T;
  const add = (a: T, b: T): T => tfl.layers.add({ name: suffixed('add', addIndex++) }).apply([a, b]) as T;
  const residual = (x: T, filters: number): T => {
    const i = residualIndex++;
    const r = tfl.layers
      .conv2d({
        filters,
        kernelSize: 1,
        strides: 2,
        padding: 'same',
        useBias: false,
        kernelInitializer: init.glorot(),
        name: at(XCEPTION_RESIDUAL_CONVS, i, 'residual Conv2D name'),
      })
      .apply(x) as T;
    return bn(r, at(XCEPTION_RESIDUAL_BNS, i, 'residual BatchNormalization name'));
  };

  const input = tfl.input({ shape: [imageSize, imageSize, 3], name: 'input_1' });
  let x = inputScaling === '[-1, 1]' ? (rescaling({ scale: 2, offset: -1, name: 'rescaling' }).apply(input) as T) : input;

  x = relu(bn(conv(x, 32, 'block1_conv1', 2), 'block1_conv1_bn'), 'block1_conv1_act');
  x = relu(bn(conv(x, 64, 'block1_conv2'), 'block1_conv2_bn'), 'block1_conv2_act');

  // Block 2 has no activation in front of its first separable convolution; Keras names the one between its two
  // separable convolutions `block2_sepconv2_act`.
  let r = residual(x, 128);
  x = bn(sep(x, 128, 'block2_sepconv1'), 'block2_sepconv1_bn');
  x = relu(x, 'block2_sepconv2_act');
  x = bn(sep(x, 128, 'block2_sepconv2'), 'block2_sepconv2_bn');
  x = add(pool(x, 'block2_pool'), r);

  for (const [block, filters] of [
    [3, 256],
    [4, 728],
  ] as const) {
    r = residual(x, filters);
    x = relu(x, `block${block}_sepconv1_act`);
    x = bn(sep(x, filters, `block${block}_sepconv1`), `block${block}_sepconv1_bn`);
    x = relu(x, `block${block}_sepconv2_act`);
    x = bn(sep(x, filters, `block${block}_sepconv2`), `block${block}_sepconv2_bn`);
    x = add(pool(x, `block${block}_pool`), r);
  }

  for (let block = 5; block <= 12; block++) {
    r = x;
    for (let k = 1; k <= 3; k++) {
      x = relu(x, `block${block}_sepconv${k}_act`);
      x = bn(sep(x, 728, `block${block}_sepconv${k}`), `block${block}_sepconv${k}_bn`);
    }
    x = add(x, r);
  }

  r = residual(x, 1024);
  x = relu(x, 'block13_sepconv1_act');
  x = bn(sep(x, 728, 'block13_sepconv1'), 'block13_sepconv1_bn');
  x = relu(x, 'block13_sepconv2_act');
  x = bn(sep(x, 1024, 'block13_sepconv2'), 'block13_sepconv2_bn');
  x = add(pool(x, 'block13_pool'), r);

  x = relu(bn(sep(x, 1536, 'block14_sepconv1'), 'block14_sepconv1_bn'), 'block14_sepconv1_act');
  x = relu(bn(sep(x, 2048, 'block14_sepconv2'), 'block14_sepconv2_bn'), 'block14_sepconv2_act');

  return tfl.model({ inputs: input, outputs: x, name: 'xception' });
}

/**
 * Maps the layer names of a Keras Xception weight file onto this model's: named layers keep their names, the
 * unnamed residual Conv2D / BatchNormalization layers (`conv2d_1`..`conv2d_4` in the Keras 2.0 file, `conv2d`..
 * `conv2d_3` in newer ones) are matched by their order of creation, i.e. by the number in their name.
 */
export function xceptionH5LayerNames(fileLayerNames: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const name of fileLayerNames) map.set(name, name);
  for (const [prefix, targets] of [
    ['conv2d', XCEPTION_RESIDUAL_CONVS],
    ['batch_normalization', XCEPTION_RESIDUAL_BNS],
  ] as const) {
    const pattern = new RegExp(`^${prefix}(?:_(\\d+))?$`);
    const found = fileLayerNames
      .map((name) => ({ name, m: pattern.exec(name) }))
      .filter((e) => e.m !== null)
      .map((e) => ({ name: e.name, n: e.m![1] === undefined ? 0 : Number(e.m![1]) }))
      .sort((a, b) => a.n - b.n);
    if (found.length !== targets.length) {
      throw new UserError(
        `the Xception weight file has ${found.length} unnamed ${prefix} layers (${found.map((f) => f.name).join(', ') || 'none'}), expected ${targets.length}.`,
      );
    }
    for (const [i, f] of found.entries()) map.set(f.name, targets[i]!); // as many as found, checked above
  }
  return map;
}
