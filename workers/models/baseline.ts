/**
 * The study's small networks trained from scratch. `baseline`: four SeparableConv2D(3x3, relu, valid) +
 * MaxPooling2D(2) blocks with 32/64/128/256 filters, GlobalAveragePooling2D, Dense(16, relu), Dense(1, sigmoid):
 * 49,756 parameters. `augmented`: the same network with Dropout(0.5) right after the convolutional stack, i.e.
 * between the last MaxPooling2D and GlobalAveragePooling2D (it is trained on augmented images as well).
 * Layer names are the ones Keras gives automatically in a fresh session, so weights load by name. Each separable
 * convolution runs its pointwise product, bias and ReLU as one op (separable-conv.ts); Dropout draws a new mask at
 * every step (dropout.ts).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../../common/errors.ts';
import { classifier } from './head.ts';
import { SeededInit } from './init.ts';
import { dropout as dropoutLayer } from './dropout.ts';
import { separableConv2d } from './separable-conv.ts';

export const BASELINE_FILTERS = [32, 64, 128, 256] as const;
/** Each block shrinks a side s to floor((s - 2) / 2); four blocks leave at least 1 pixel only from 46 up. */
export const BASELINE_MIN_SIZE = 46;

export interface SmallNetOptions {
  imageSize: number;
  seed: number;
  outputBias: number;
  dropout: boolean;
}

export function buildSmallNet(opts: SmallNetOptions): tfl.LayersModel {
  const { imageSize, seed, outputBias, dropout } = opts;
  if (!Number.isInteger(imageSize) || imageSize < BASELINE_MIN_SIZE) {
    throw new UserError(
      `image size ${imageSize} is too small for the ${dropout ? 'augmented' : 'baseline'} model: four valid 3x3 ` +
        `convolutions each followed by 2x2 pooling need at least ${BASELINE_MIN_SIZE} pixels.`,
    );
  }
  const init = new SeededInit(seed);
  const input = tfl.input({ shape: [imageSize, imageSize, 3], name: 'input_1' });
  let x: tfl.SymbolicTensor = input;
  BASELINE_FILTERS.forEach((filters, i) => {
    const suffix = i === 0 ? '' : `_${i}`;
    x = separableConv2d({
      filters,
      kernelSize: 3,
      activation: 'relu',
      padding: 'valid',
      depthwiseInitializer: init.glorot(),
      pointwiseInitializer: init.glorot(),
      name: `separable_conv2d${suffix}`,
    }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2, name: `max_pooling2d${suffix}` }).apply(x) as tfl.SymbolicTensor;
  });
  if (dropout) x = dropoutLayer({ rate: 0.5, seed: init.seed(), name: 'dropout' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as tfl.SymbolicTensor;
  const output = classifier(x, init, outputBias);
  return tfl.model({ inputs: input, outputs: output, name: dropout ? 'augmented' : 'baseline' });
}

export type SmallNetSpec = Omit<SmallNetOptions, 'dropout'>;

export const buildBaseline = (spec: SmallNetSpec): tfl.LayersModel => buildSmallNet({ ...spec, dropout: false });
export const buildAugmented = (spec: SmallNetSpec): tfl.LayersModel => buildSmallNet({ ...spec, dropout: true });
