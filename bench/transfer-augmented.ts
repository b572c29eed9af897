/**
 * An epoch of a transfer model in the seed protocol (augmented training images: the frozen trunk runs on every
 * batch, outside the gradient tape; val activations computed once) against the same epoch in the extended protocol
 * (the head trains on cached frozen-trunk activations), on the real data, through the run's own sources
 * (workers/train/sources.ts) and training step.
 *
 *   npx tsx bench/transfer-augmented.ts --data ../shared/data/melanoma [--model mobilenet] [--backend wasm]
 *     [--size 224] [--steps N] [--weights PATH]
 *
 * Images are decoded into the image cache first (a run's later epochs find them there). An epoch = the training
 * steps over the training split + the val pass. With --steps N only the first N training steps are timed and the
 * epoch's training time is extrapolated from them (said so in the output). The one-time cost of the cache (the
 * trunk over every train and val image) is reported on its own. Prints JSON.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { protocolSettings, type ProtocolName } from '../study/protocol.ts';
import { initBackend } from '../workers/backend/index.ts';
import { indexDataset, resolveDataDir } from '../study/data/dataset.ts';
import { ImageCache } from '../study/data/image-cache.ts';
import { buildModel } from '../workers/models/index.ts';
import type { BackendName, ModelName } from '../study/run.ts';
import { predictAll } from '../workers/train/fit.ts';
import type { InputSource } from '../workers/train/inputs.ts';
import { runSources } from '../workers/train/sources.ts';
import { kerasAdam, makeTrainStep } from '../workers/train/step.ts';

const { values: opts } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', default: 'mobilenet' },
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '224' },
    steps: { type: 'string' },
    weights: { type: 'string' },
  },
});
const size = Number(opts.size);
const model = opts.model as ModelName;
const backend = await initBackend(opts.backend as BackendName);
const started = performance.now();
const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** The timed part of one epoch: `steps` training steps (all when absent), then the val pass. */
async function epoch(protocol: ProtocolName, cache: ImageCache) {
  const settings = protocolSettings(model, protocol);
  const data = await indexDataset(resolveDataDir(opts.data), { validation: settings.validation });
  const m = await buildModel(model, { imageSize: size, seed: 1, outputBias: 0, weights: opts.weights ?? null, inputScaling: settings.inputScaling });
  const { sourceOf } = runSources(m, data, {
    imageSize: size,
    batchSize: settings.batchSize,
    seed: 1,
    augment: settings.augment,
    cache,
    saveAugmentedDir: null,
    featureCacheDir: null,
    featureBudgetBytes: 4 * 2 ** 30,
    backend: backend.name,
  });
  let t0 = performance.now();
  const train = await sourceOf('train', true);
  const val = await sourceOf('val', false);
  const setupSeconds = seconds(t0);
  const optimizer = kerasAdam(settings.learningRate);
  const step = makeTrainStep(m, optimizer, train.base);
  const total = Math.ceil(train.size / settings.batchSize);
  const steps = Math.min(total, opts.steps ? Number(opts.steps) : total);
  const run = async (source: InputSource, epochNumber: number, limit: number) => {
    let done = 0;
    for await (const b of source.batches({ epoch: epochNumber, training: true })) {
      if (done === limit) {
        tf.dispose([b.x, b.y]);
        break;
      }
      const p = step(b.x, b.y);
      await p.data();
      tf.dispose([p, b.x, b.y]);
      done++;
    }
  };
  await run(train, 0, 1); // warm-up: kernel set-up, first allocations
  t0 = performance.now();
  await run(train, 1, steps);
  const trainSeconds = seconds(t0);
  t0 = performance.now();
  await predictAll(m, val);
  const valSeconds = seconds(t0);
  const epochTrainSeconds = (trainSeconds * total) / steps;
  optimizer.dispose();
  m.model.dispose();
  return {
    protocol,
    trainingInputs: train.base === 'all' ? 'augmented images through the frozen trunk every step' : 'cached frozen-trunk activations',
    inputScaling: settings.inputScaling,
    setupSeconds,
    stepsTimed: steps,
    stepsPerEpoch: total,
    extrapolated: steps < total,
    trainSeconds,
    msPerStep: (1000 * trainSeconds) / steps,
    valSeconds,
    epochSeconds: epochTrainSeconds + valSeconds,
  };
}

// Decode every training and val image once, as a run's first epoch does; both protocols then read them from memory.
const cache = new ImageCache(size, 2 * 2 ** 30);
const t0 = performance.now();
{
  const data = await indexDataset(resolveDataDir(opts.data));
  const { imageSource } = await import('../workers/train/inputs.ts');
  for (const split of ['train', 'val'] as const) {
    const source = imageSource(data.splits[split], { imageSize: size, batchSize: 32, seed: 1, augment: null, cache });
    for await (const b of source.batches({ epoch: 0, training: false })) tf.dispose([b.x, b.y]);
  }
}
const decodeSeconds = seconds(t0);
const seed = await epoch('seed', cache);
const extended = await epoch('extended', cache);
console.log(
  JSON.stringify(
    {
      backend: `${backend.name} (${backend.detail})`,
      model,
      imageSize: size,
      decodeSeconds,
      seed,
      extended,
      seedOverCached: seed.epochSeconds / extended.epochSeconds,
      totalSeconds: seconds(started),
    },
    null,
    2,
  ),
);
