/**
 * A short measurement of how fast each model trains and predicts on this thread's backend, for the orchestrator's
 * estimate of an experiment's time (orchestrator/estimate.ts): a few timed steps per model on random inputs of the
 * run's shape, down each path a run takes (images through the whole model; a frozen trunk's activations computed
 * once, then the layers above it). Random weights: the speed does not depend on them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend/index.ts';
import { findBadImages } from '../study/data/check.ts';
import { indexDataset } from '../study/data/dataset.ts';
import { buildModel } from './models/index.ts';
import { frozenTrunk } from './models/trunk.ts';
import type { BackendName, ModelName } from '../study/run.ts';
import { forward, kerasAdam, makeTrainStep, type BaseToApply } from './train/step.ts';
import type { CalibrationReport, ModelSpeed } from '../study/calibration.ts';

export interface CalibrationRequest {
  backend: BackendName;
  imageSize: number;
  batchSize: number;
  models: ModelName[];
  /** The models whose training images are augmented: a transfer model among them trains through its trunk. */
  augmented: ModelName[];
  /** Timed steps per measurement, after one untimed step. */
  steps: number;
  /** The dataset, a sample of whose images are decoded to time the decoding a slot's first run does. */
  dataDir?: string;
}

const DECODE_SAMPLE = 64;

/** Images per second decoded and resized as a run's first decoding does (check.ts, on all cores). */
async function decodeSpeed(dataDir: string, imageSize: number): Promise<number | null> {
  const index = await indexDataset(dataDir);
  const sample = index.splits.train.slice(0, DECODE_SAMPLE);
  if (sample.length === 0) return null;
  const t0 = performance.now();
  await findBadImages(sample, { imageSize });
  return (sample.length * 1000) / (performance.now() - t0);
}

async function imagesPerSecond(batch: number, steps: number, run: () => tf.Tensor): Promise<number> {
  const once = async () => {
    const out = run();
    await out.data();
    out.dispose();
  };
  await once();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await once();
  return (batch * steps * 1000) / (performance.now() - t0);
}

export async function calibrate(o: CalibrationRequest): Promise<CalibrationReport> {
  const started = performance.now();
  const backend = await initBackend(o.backend);
  const backendSeconds = (performance.now() - started) / 1000;
  const decodeImages = o.dataDir ? await decodeSpeed(o.dataDir, o.imageSize) : null;
  const speeds: ModelSpeed[] = [];
  const y = tf.tensor2d(
    Array.from({ length: o.batchSize }, (_, i) => i % 2),
    [o.batchSize, 1],
  );
  for (const model of o.models) {
    const m = await buildModel(model, { imageSize: o.imageSize, seed: 1, outputBias: 0, randomWeights: true, initFrom: null });
    const x = tf.randomUniform([o.batchSize, o.imageSize, o.imageSize, 3], 0, 1, 'float32', 1);
    const optimizer = kerasAdam(1e-4);
    const split = m.base ? frozenTrunk(m.base) : null;
    // Only the paths a run takes: a transfer model predicts (and, unaugmented, trains) above its cached trunk.
    const throughImages = !split || o.augmented.includes(model);
    const viaImages = throughImages ? makeTrainStep(m, optimizer, 'all') : null;
    const speed: ModelSpeed = {
      model,
      trainImages: viaImages ? await imagesPerSecond(o.batchSize, o.steps, () => viaImages(x, y)) : null,
      predictImages: split ? null : await imagesPerSecond(o.batchSize, o.steps, () => tf.tidy(() => forward(m, x, false, 'all'))),
      trunk: null,
      trainAboveTrunk: null,
      predictAboveTrunk: null,
    };
    if (split) {
      speed.trunk = await imagesPerSecond(o.batchSize, o.steps, () => tf.tidy(() => split.trunk.apply(x, { training: false }) as tf.Tensor));
      const features = tf.tidy(() => split.trunk.apply(x, { training: false }) as tf.Tensor);
      const above: BaseToApply = split.rest;
      if (!throughImages) {
        const viaFeatures = makeTrainStep(m, optimizer, above);
        speed.trainAboveTrunk = await imagesPerSecond(o.batchSize, o.steps, () => viaFeatures(features, y));
      }
      speed.predictAboveTrunk = await imagesPerSecond(o.batchSize, o.steps, () => tf.tidy(() => forward(m, features, false, above)));
      features.dispose();
    }
    speeds.push(speed);
    x.dispose();
    optimizer.dispose();
    m.model.dispose();
  }
  y.dispose();
  return { backend: backend.name, backendDetail: backend.detail, speeds, seconds: (performance.now() - started) / 1000, backendSeconds, decodeImages };
}
