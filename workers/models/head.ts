/** The classifier put on a pretrained base: Flatten → Dense(16, relu) → Dense(1, sigmoid), bias = outputBias. */
import * as tfl from '@tensorflow/tfjs-layers';
import { SeededInit, constantInit } from './init.ts';

export function buildFlattenHead(inputShape: number[], seed: number, outputBias: number): tfl.LayersModel {
  const init = new SeededInit(seed);
  const input = tfl.input({ shape: inputShape, name: 'head_input' });
  let x = tfl.layers.flatten({ name: 'flatten' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .dense({ units: 16, activation: 'relu', kernelInitializer: init.glorot(), name: 'dense' })
    .apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: init.glorot(),
      biasInitializer: constantInit(outputBias),
      name: 'dense_1',
    })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'head' });
}
