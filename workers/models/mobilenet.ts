/**
 * Keras' MobileNetV2 with width multiplier alpha = 0.35 (keras.applications.MobileNetV2, include_top=False),
 * built in code for any input size from 32 up, with Keras' layer names (`Conv1`, `bn_Conv1`, `Conv1_relu`,
 * `expanded_conv_*`, `block_1_expand` ... `block_16_project_BN`, `Conv_1`, `Conv_1_bn`, `out_relu`) so that the
 * ImageNet weights load by name. Like Keras, `Conv1` uses 'same' padding and the stride-2 depthwise convolutions
 * get an explicit `block_N_pad` (Keras' correct_pad), which pads exactly as 'same' would. With inputScaling
 * '[-1, 1]' a weightless `rescaling` layer in front turns [0,1] images into MobileNet's [-1,1]; with '[0, 1]' the
 * images go in as they are.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { InputScaling } from '../../study/protocol.ts';
import { UserError } from '../../common/errors.ts';
import { SeededInit } from './init.ts';
import { rescaling } from './rescaling.ts';

export const MOBILENET_ALPHA = 0.35;
export const MOBILENET_MIN_SIZE = 32;
export const MOBILENET_BASE_PARAMS = 410_208;

/** (expansion, output filters before alpha, stride) of blocks 0..16, as in the paper's table 2. */
const BLOCKS: [number, number, number][] = [
  [1, 16, 1],
  [6, 24, 2],
  [6, 24, 1],
  [6, 32, 2],
  [6, 32, 1],
  [6, 32, 1],
  [6, 64, 2],
  [6, 64, 1],
  [6, 64, 1],
  [6, 64, 1],
  [6, 96, 1],
  [6, 96, 1],
  [6, 96, 1],
  [6, 160, 2],
  [6, 160, 1],
  [6, 160, 1],
  [6, 320, 1],
];

/** Keras' _make_divisible: round to the nearest multiple of 8, never going down by more than 10%. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

type T = tfl.SymbolicTensor;

/** Keras' imagenet_utils.correct_pad for a 3x3 stride-2 convolution. */
function correctPad(x: T): [[number, number], [number, number]] {
  const [, h, w] = x.shape as [null, number, number, number]; // NHWC, batch unknown
  return [
    [h % 2, 1],
    [w % 2, 1],
  ];
}

export function buildMobileNetV2Base(imageSize: number, seed: number, inputScaling: InputScaling = '[-1, 1]', alpha = MOBILENET_ALPHA): tfl.LayersModel {
  if (!Number.isInteger(imageSize) || imageSize < MOBILENET_MIN_SIZE) {
    throw new UserError(`image size ${imageSize} is too small for MobileNetV2, which needs at least ${MOBILENET_MIN_SIZE} pixels.`);
  }
  const init = new SeededInit(seed);
  const bn = (x: T, name: string): T => tfl.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name }).apply(x) as T;
  const relu6 = (x: T, name: string): T => tfl.layers.reLU({ maxValue: 6, name }).apply(x) as T;
  const conv1x1 = (x: T, filters: number, name: string): T =>
    tfl.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init.glorot(), name }).apply(x) as T;

  const input = tfl.input({ shape: [imageSize, imageSize, 3], name: 'input_1' });
  let x = inputScaling === '[-1, 1]' ? (rescaling({ scale: 2, offset: -1, name: 'rescaling' }).apply(input) as T) : input;
  x = tfl.layers
    .conv2d({
      filters: makeDivisible(32 * alpha),
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init.glorot(),
      name: 'Conv1',
    })
    .apply(x) as T;
  x = relu6(bn(x, 'bn_Conv1'), 'Conv1_relu');

  BLOCKS.forEach(([expansion, filters, stride], id) => {
    const inputs = x;
    const inChannels = x.shape[3] as number;
    const outChannels = makeDivisible(Math.trunc(filters * alpha));
    const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
    if (id > 0) x = relu6(bn(conv1x1(x, expansion * inChannels, `${prefix}expand`), `${prefix}expand_BN`), `${prefix}expand_relu`);
    if (stride === 2) x = tfl.layers.zeroPadding2d({ padding: correctPad(x), name: `${prefix}pad` }).apply(x) as T;
    x = tfl.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: stride === 1 ? 'same' : 'valid',
        useBias: false,
        depthwiseInitializer: init.glorot(),
        name: `${prefix}depthwise`,
      })
      .apply(x) as T;
    x = relu6(bn(x, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
    x = bn(conv1x1(x, outChannels, `${prefix}project`), `${prefix}project_BN`);
    if (inChannels === outChannels && stride === 1) x = tfl.layers.add({ name: `${prefix}add` }).apply([inputs, x]) as T;
  });

  const lastFilters = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = tfl.layers.conv2d({ filters: lastFilters, kernelSize: 1, useBias: false, kernelInitializer: init.glorot(), name: 'Conv_1' }).apply(x) as T;
  x = relu6(bn(x, 'Conv_1_bn'), 'out_relu');
  return tfl.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha.toFixed(2)}_${imageSize}` });
}
