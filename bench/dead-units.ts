/**
 * Dead ReLU units of the study's small networks (`baseline`, `augmented`): a unit (a channel of a separable
 * convolution, a neuron of the Dense(16) layer) is dead on a batch when it outputs 0 for every image of it, at every
 * pixel. Once every unit of one layer is dead, the model predicts one constant and no gradient reaches below it.
 *
 *   npx tsx bench/dead-units.ts replay [--model baseline] [--seed 3] [--backend wasm] [--steps 66] [--size 224]
 *     [--protocol seed] [--data DIR] [--json FILE]
 *     replays the first `steps` training steps of a run's epoch 1 as `melanoma run` takes them: the same initial
 *     weights (a function of the seed), the same batches in the same order (augmented for `augmented`), the same
 *     Adam and loss (workers/train/step.ts). Before each step it prints the batch's loss and, per ReLU layer, how
 *     many units are dead on that batch; at the end, the training loss over the steps done, which for a whole
 *     epoch is the `loss` of epoch 1 in the run's history.csv (that checks the replay is the run's).
 *
 *   npx tsx bench/dead-units.ts checkpoint DIR [--model baseline] [--split val] [--images 64] [--backend wasm]
 *     the dead units of saved weights (a run's best/ folder) on the first `images` images of a split.
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../workers/backend/index.ts';
import { buildModel, loadWeightsByName, type StudyModel } from '../workers/models/index.ts';
import { binaryCrossEntropy, kerasAdam, makeTrainStep } from '../workers/train/step.ts';
import { imageSource, type InputSource } from '../workers/train/inputs.ts';
import { indexDataset, resolveDataDir, type DatasetIndex } from '../study/data/dataset.ts';
import { evaluateBinary } from '../study/metrics/index.ts';
import { protocolSettings, type ProtocolName, type RunSettings } from '../study/protocol.ts';
import { seedThread } from '../workers/train/run.ts';
import type { BackendName, ModelName, Split } from '../study/run.ts';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', default: 'baseline' },
    seed: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string' },
    size: { type: 'string', default: '224' },
    protocol: { type: 'string', default: 'seed' },
    data: { type: 'string' },
    split: { type: 'string', default: 'val' },
    images: { type: 'string', default: '64' },
    json: { type: 'string' },
  },
});

/** A ReLU layer's units dead on a batch, of how many, and its largest output on the batch. */
interface LayerDead {
  layer: string;
  dead: number;
  units: number;
  max: number;
}

interface StepRow {
  step: number;
  loss: number;
  meanProbability: number;
  layers: LayerDead[];
}

/** The layers whose activation is a ReLU, in order: the separable convolutions and the Dense(16). */
function reluLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.filter((l) => (l.getConfig() as { activation?: string }).activation === 'relu');
}

/** A model from the network's input to the outputs of its ReLU layers (sharing the weights). */
function probeOf(model: tfl.LayersModel, layers: tfl.layers.Layer[]): tfl.LayersModel {
  return tfl.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tfl.SymbolicTensor) });
}

/** Per layer, the units whose output is 0 for every image and pixel of x (inference mode). */
async function deadUnits(probe: tfl.LayersModel, layers: tfl.layers.Layer[], x: tf.Tensor): Promise<LayerDead[]> {
  const maxima = tf.tidy(() => {
    const outs = probe.predict(x) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(outs) ? outs : [outs]).map((o) => tf.max(o, [...Array(o.rank - 1).keys()]));
  });
  const values = await Promise.all(maxima.map((m) => m.data()));
  tf.dispose(maxima);
  return values.map((v, i) => ({ layer: layers[i]!.name, dead: v.filter((m) => m === 0).length, units: v.length, max: Math.max(...v) }));
}

function formatLayers(layers: LayerDead[]): string {
  return layers.map((l) => `${l.layer} ${l.dead}/${l.units} (max ${l.max.toExponential(1)})`).join('  ');
}

async function setUp(model: ModelName, settings: RunSettings, seed: number, imageSize: number) {
  const info = await initBackend(opts.backend as BackendName);
  const data = await indexDataset(resolveDataDir(opts.data), { validation: settings.validation });
  const malignant = data.splits.train.filter((r) => r.label === 1).length;
  const m = await buildModel(model, { imageSize, seed, outputBias: Math.log(malignant / (data.splits.train.length - malignant)) });
  const layers = reluLayers(m.model);
  return { info, data, m, layers, probe: probeOf(m.model, layers) };
}

function source(data: DatasetIndex, split: Split, settings: RunSettings, seed: number, imageSize: number, training: boolean): InputSource {
  const augment = training ? settings.augment : null;
  return imageSource(data.splits[split], { imageSize, batchSize: settings.batchSize, seed, augment, cache: null });
}

async function replay(): Promise<void> {
  const model = opts.model as ModelName;
  const seed = Number(opts.seed);
  const imageSize = Number(opts.size);
  const settings = protocolSettings(model, opts.protocol as ProtocolName);
  seedThread(seed); // as executeRun does: tfjs' unseeded draws come from the seeded Math.random
  const { info, data, m, layers, probe } = await setUp(model, settings, seed, imageSize);
  const train = source(data, 'train', settings, seed, imageSize, true);
  const steps = Math.min(Number(opts.steps ?? Infinity), Math.ceil(train.size / settings.batchSize));
  console.log(`${model} seed ${seed}, ${imageSize} px, ${info.name} (${info.detail}), lr ${settings.learningRate}: ${steps} steps of epoch 1`);

  const optimizer = kerasAdam(settings.learningRate);
  const trainStep = makeTrainStep(m as StudyModel, optimizer, train.base);
  const rows: StepRow[] = [];
  const labels: number[] = [];
  const probs: number[] = [];
  let step = 0;
  for await (const batch of train.batches({ epoch: 1, training: true })) {
    if (step >= steps) {
      tf.dispose([batch.x, batch.y]);
      break;
    }
    const dead = await deadUnits(probe, layers, batch.x);
    const p = trainStep(batch.x, batch.y);
    const [loss, values] = await Promise.all([tf.tidy(() => binaryCrossEntropy(batch.y, p)).data<'float32'>(), p.data<'float32'>()]);
    const meanProbability = values.reduce((a, b) => a + b, 0) / values.length;
    rows.push({ step, loss: loss[0]!, meanProbability, layers: dead });
    labels.push(...batch.labels);
    probs.push(...values);
    console.log(`step ${String(step).padStart(3)}  loss ${loss[0]!.toFixed(4)}  mean p ${meanProbability.toFixed(3)}  dead: ${formatLayers(dead)}`);
    tf.dispose([batch.x, batch.y, p]);
    step++;
  }
  const trainLoss = evaluateBinary(Float32Array.from(labels), Float32Array.from(probs)).metrics.loss;
  console.log(`training loss over these ${step} steps (history.csv's epoch-1 loss when they are the whole epoch): ${trainLoss}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ model, seed, imageSize, backend: info.name, trainLoss, rows }, null, 1));
}

async function checkpoint(dir: string): Promise<void> {
  const model = opts.model as ModelName;
  const imageSize = Number(opts.size);
  const settings = protocolSettings(model, opts.protocol as ProtocolName);
  const { data, m, layers, probe } = await setUp(model, settings, 0, imageSize);
  const report = await loadWeightsByName(m.model, dir);
  const split = opts.split as Split;
  const images = Number(opts.images);
  const records = data.splits[split].slice(0, images);
  const batches = imageSource(records, { imageSize, batchSize: records.length, seed: 0, augment: null, cache: null }).batches({ epoch: 0, training: false });
  for await (const batch of batches) {
    const dead = await deadUnits(probe, layers, batch.x);
    console.log(`${report.tensors} tensors from ${dir}; dead on the first ${batch.n} ${split} images: ${formatLayers(dead)}`);
    tf.dispose([batch.x, batch.y]);
  }
}

const [command, arg] = positionals;
if (command === 'replay') await replay();
else if (command === 'checkpoint' && arg) await checkpoint(arg);
else {
  console.error('usage: npx tsx bench/dead-units.ts replay [options] | checkpoint DIR [options] (see the comment at the top)');
  process.exit(2);
}
