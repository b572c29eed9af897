import * as tfl from '@tensorflow/tfjs-layers';
import { SeededInit, constantInit } from './init.ts';

/** The study's classifier, Dense(16, relu) → Dense(1, sigmoid) with its bias set to outputBias = log(pos/neg). */
export function classifier(features: tfl.SymbolicTensor, init: SeededInit, outputBias: number): tfl.SymbolicTensor {
  const x = tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init.glorot(), name: 'dense' }).apply(features) as tfl.SymbolicTensor;
  return tfl.layers
    .dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: init.glorot(),
      biasInitializer: constantInit(outputBias),
      name: 'dense_1',
    })
    .apply(x) as tfl.SymbolicTensor;
}

/** The head put on a pretrained base: Flatten → the classifier. */
export function buildFlattenHead(inputShape: number[], seed: number, outputBias: number): tfl.LayersModel {
  const init = new SeededInit(seed);
  const input = tfl.input({ shape: inputShape, name: 'head_input' });
  const features = tfl.layers.flatten({ name: 'flatten' }).apply(input) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: classifier(features, init, outputBias), name: 'head' });
}
