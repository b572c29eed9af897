// Runs in a node:worker_threads Worker (init.test.ts): initialises the backend it is given and trains one step
// of a tiny separable-conv model, so that the training kernels run inside the thread too.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../workers/backend/index.ts';

const info = await initBackend(workerData.backend);
const model = tfl.sequential();
model.add(tfl.layers.separableConv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 3, activation: 'relu' }));
model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
model.add(tfl.layers.globalAveragePooling2d({}));
model.add(tfl.layers.dense({ units: 1, activation: 'sigmoid' }));
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
const loss = await model.trainOnBatch(tf.ones([2, 12, 12, 3]), tf.tensor2d([0, 1], [2, 1]));
parentPort!.postMessage({ info, active: tf.getBackend(), loss });
