/**
 * Keras' MobileNet v1 base (keras.applications.MobileNet, include_top=False) with Keras' layer names (`conv1`,
 * `conv1_bn`, `conv_dw_1`, `conv_dw_1_bn`, `conv_pw_1`, ... `conv_pw_13_bn`). Used to check the Keras .h5 weight
 * reader on a real Keras Applications file. Takes inputs already scaled to [-1,1].
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../../common/errors.ts';
import { SeededInit } from './init.ts';

export const MOBILENET_V1_MIN_SIZE = 32;

/** (pointwise filters before alpha, stride) of depthwise-separable blocks 1..13. */
const BLOCKS: [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

type T = tfl.SymbolicTensor;

export function buildMobileNetV1Base(imageSize: number, alpha: number, seed = 0): tfl.LayersModel {
  if (!Number.isInteger(imageSize) || imageSize < MOBILENET_V1_MIN_SIZE) {
    throw new UserError(`image size ${imageSize} is too small for MobileNet, which needs at least ${MOBILENET_V1_MIN_SIZE} pixels.`);
  }
  const init = new SeededInit(seed);
  const bn = (x: T, name: string): T => tfl.layers.batchNormalization({ axis: -1, name }).apply(x) as T;
  const relu6 = (x: T, name: string): T => tfl.layers.reLU({ maxValue: 6, name }).apply(x) as T;
  const pad = (x: T, name: string): T =>
    tfl.layers
      .zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
        name,
      })
      .apply(x) as T;

  const input = tfl.input({ shape: [imageSize, imageSize, 3], name: 'input_1' });
  let x = pad(input, 'conv1_pad');
  x = tfl.layers
    .conv2d({
      filters: Math.trunc(32 * alpha),
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      useBias: false,
      kernelInitializer: init.glorot(),
      name: 'conv1',
    })
    .apply(x) as T;
  x = relu6(bn(x, 'conv1_bn'), 'conv1_relu');
  BLOCKS.forEach(([filters, stride], i) => {
    const id = i + 1;
    if (stride === 2) x = pad(x, `conv_pad_${id}`);
    x = tfl.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: stride === 1 ? 'same' : 'valid',
        useBias: false,
        depthwiseInitializer: init.glorot(),
        name: `conv_dw_${id}`,
      })
      .apply(x) as T;
    x = relu6(bn(x, `conv_dw_${id}_bn`), `conv_dw_${id}_relu`);
    x = tfl.layers
      .conv2d({
        filters: Math.trunc(filters * alpha),
        kernelSize: 1,
        padding: 'same',
        useBias: false,
        kernelInitializer: init.glorot(),
        name: `conv_pw_${id}`,
      })
      .apply(x) as T;
    x = relu6(bn(x, `conv_pw_${id}_bn`), `conv_pw_${id}_relu`);
  });
  return tfl.model({ inputs: input, outputs: x, name: `mobilenet_${alpha.toFixed(2)}_${imageSize}` });
}
