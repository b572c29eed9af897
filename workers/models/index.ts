/**
 * The study's models, each built from its registry record (study/models.ts). Every model takes images in [0,1]
 * (batch, size, size, 3) and outputs P(malignant). The pretrained ones are a base (Xception or MobileNetV2 with
 * ImageNet weights, always run in inference mode so that its batch normalisations keep their ImageNet statistics,
 * as Keras' `base(x, training=False)`) followed by a Flatten → Dense(16) → Dense(1) head; a fine-tuning model
 * starts from the best checkpoint of its base model's run and also trains the base layers its record names.
 */
import { existsSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../../common/errors.ts';
import { FINE_TUNES, MODELS, pretrainedOf, trainsBaseLayer, type BuilderName, type ModelName } from '../../study/models.ts';
import type { InputScaling } from '../../study/protocol.ts';
import { buildAugmented, buildBaseline } from './baseline.ts';
import { fileSaveHandler, modelJsonPath, readNamedWeights } from './file-io.ts';
import { buildFlattenHead } from './head.ts';
import { countParams } from './init.ts';
import { buildMobileNetV2Base } from './mobilenet.ts';
import { locatePretrained, type WeightsLocation } from '../../study/weights/pretrained.ts';
import { assignWeightsByName, type LoadReport } from './weights-by-name.ts';
import { loadH5Weights, type H5LoadOptions } from './weights-h5.ts';
import { buildXceptionBase, xceptionH5LayerNames } from './xception.ts';

/**
 * How each network a registry record names is built: a whole network trained from scratch, or a pretrained base
 * that gets the study's head (with how its Keras HDF5 weight file maps onto it).
 */
type Builder =
  | { kind: 'whole'; build(spec: { imageSize: number; seed: number; outputBias: number }): tfl.LayersModel }
  | { kind: 'base'; build(imageSize: number, seed: number, inputScaling: InputScaling): tfl.LayersModel; h5: H5LoadOptions };

export const BUILDERS: Record<BuilderName, Builder> = {
  'separable-cnn': { kind: 'whole', build: buildBaseline },
  'separable-cnn-dropout': { kind: 'whole', build: buildAugmented },
  xception: { kind: 'base', build: buildXceptionBase, h5: { renameLayers: xceptionH5LayerNames } },
  'mobilenet-v2': { kind: 'base', build: (imageSize, seed, inputScaling) => buildMobileNetV2Base(imageSize, seed, inputScaling), h5: {} },
};

export interface StudyModel {
  name: ModelName;
  /** Pretrained part, always applied with training=false (frozen BN); null for baseline/augmented. */
  base: tfl.LayersModel | null;
  /** Takes the base's output (or the images for baseline/augmented). */
  head: tfl.LayersModel;
  /** Images in [0,1] -> P(malignant); shares its weights with base + head; what is saved. */
  model: tfl.LayersModel;
  trainableParams: number;
  totalParams: number;
  /** Where the starting weights came from (ImageNet file or the base run's checkpoint); null when random. */
  loaded: { from: string; tensors: number; params: number } | null;
}

export interface BuildOptions {
  imageSize: number;
  seed: number;
  /** log(pos/neg) of the training split: the output bias that makes the untrained model predict the prior. */
  outputBias: number;
  /** ImageNet weights: a file or a folder holding it; null/undefined = the default locations. */
  weights?: string | null;
  /** Checkpoint folder of the base run, for fine-tuning models. */
  initFrom?: string | null;
  /** Pixel values the base sees: '[-1, 1]' (ImageNet's, the default) or '[0, 1]' (the images as given). */
  inputScaling?: InputScaling;
  /** Tests and summaries only: keep the random initial weights instead of loading ImageNet weights / initFrom. */
  randomWeights?: boolean;
}

/** Head initialisers count from here so that they never share a seed with the base's layers. */
const HEAD_SEED_OFFSET = 1_000_003;

export async function buildModel(name: ModelName, opts: BuildOptions): Promise<StudyModel> {
  if (!Number.isFinite(opts.outputBias)) throw new UserError(`output bias ${opts.outputBias} is not a finite number.`);
  const builder = BUILDERS[MODELS[name].builder];
  if (builder.kind === 'whole') {
    const net = builder.build({ imageSize: opts.imageSize, seed: opts.seed, outputBias: opts.outputBias });
    return finish(name, null, net, net, null);
  }

  const baseModel = FINE_TUNES[name];
  const pretrained = pretrainedOf(name);
  // Where the starting weights come from is settled before the (large) model is built.
  let weightsAt: WeightsLocation | null = null;
  if (!opts.randomWeights && baseModel && !opts.initFrom) {
    throw new UserError(`${name} fine-tunes the best checkpoint of a ${baseModel} run: pass its checkpoint folder (--init-from DIR).`);
  }
  if (!opts.randomWeights && baseModel && !existsSync(modelJsonPath(opts.initFrom!))) {
    throw new UserError(`${name}: no checkpoint at ${opts.initFrom} (expected the model.json of a ${baseModel} run).`);
  }
  if (!opts.randomWeights && !baseModel && pretrained) weightsAt = locatePretrained(pretrained, opts.weights);

  const base = builder.build(opts.imageSize, opts.seed, opts.inputScaling ?? '[-1, 1]');
  const head = buildFlattenHead(base.outputShape.slice(1) as number[], opts.seed + HEAD_SEED_OFFSET, opts.outputBias);
  runInInferenceMode(base);

  const input = tfl.input({ shape: [opts.imageSize, opts.imageSize, 3], name: 'images' });
  const output = head.apply(base.apply(input)) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: name.replace('-', '_') });

  let loaded: StudyModel['loaded'] = null;
  try {
    if (weightsAt) {
      const report = weightsAt.format === 'h5' ? await loadH5Weights(base, weightsAt.path, builder.h5) : await loadWeightsByName(base, weightsAt.path);
      loaded = { from: weightsAt.path, tensors: report.tensors, params: report.params };
    } else if (!opts.randomWeights && opts.initFrom) {
      const report = await loadWeightsByName(model, opts.initFrom);
      loaded = { from: modelJsonPath(opts.initFrom), tensors: report.tensors, params: report.params };
    }
  } catch (err) {
    model.dispose();
    throw err;
  }

  if (baseModel) {
    base.trainable = true;
    for (const layer of base.layers) layer.trainable = trainsBaseLayer(name, layer.name);
  } else {
    base.trainable = false;
  }
  return finish(name, base, head, model, loaded);
}

function finish(name: ModelName, base: tfl.LayersModel | null, head: tfl.LayersModel, model: tfl.LayersModel, loaded: StudyModel['loaded']): StudyModel {
  return { name, base, head, model, trainableParams: countParams(model.trainableWeights), totalParams: model.countParams(), loaded };
}

/**
 * Makes every call of `base` run in inference mode, whatever the caller asks (fit() asks for training mode): its
 * batch normalisations then use and keep their stored statistics, also for the layers `-ft` unfreezes.
 */
function runInInferenceMode(base: tfl.LayersModel): void {
  const call = base.call.bind(base);
  base.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
}

/** TensorFlow.js format (model.json + weights.bin) in `dir`, written with node:fs. */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(fileSaveHandler(dir));
}

/**
 * Loads the weights of a saved model (a folder with model.json, or the model.json itself) into `model`, matching
 * `<layer>/<param>` names; every weight of `model` must be there with the same shape. Extra ones are ignored.
 */
export async function loadWeightsByName(model: tfl.LayersModel, dir: string): Promise<LoadReport> {
  const source = readNamedWeights(dir);
  try {
    return assignWeightsByName(model, source, modelJsonPath(dir));
  } finally {
    for (const t of source.values()) t.dispose();
  }
}

export interface LayerSummary {
  name: string;
  className: string;
  outputShape: string;
  params: number;
  trainable: boolean;
}

/** Keras' summary with nested models expanded: one row per layer, and the parameter counts. */
export function summarize(model: tfl.LayersModel): { layers: LayerSummary[]; total: number; trainable: number } {
  const trainableIds = new Set(model.trainableWeights.map((w) => w.id));
  const rows: LayerSummary[] = [];
  const visit = (container: tfl.LayersModel, parentTrainable: boolean, nested: boolean) => {
    for (const layer of container.layers) {
      const effective = parentTrainable && layer.trainable;
      if (layer instanceof tfl.LayersModel) {
        visit(layer, effective, true);
        continue;
      }
      if (nested && layer.getClassName() === 'InputLayer') continue;
      rows.push({
        name: layer.name,
        className: layer.getClassName(),
        outputShape: formatShape(layer.outputShape),
        params: layer.countParams(),
        trainable: layer.weights.length > 0 ? layer.weights.some((w) => trainableIds.has(w.id)) : effective,
      });
    }
  };
  visit(model, model.trainable, false);
  return { layers: rows, total: model.countParams(), trainable: countParams(model.trainableWeights) };
}

function formatShape(shape: tfl.Shape | tfl.Shape[]): string {
  const one = (s: tfl.Shape) => `(${s.map((d) => (d == null ? 'None' : String(d))).join(', ')})`;
  return Array.isArray(shape[0]) ? (shape as tfl.Shape[]).map(one).join(', ') : one(shape as tfl.Shape);
}

export type { LoadReport };
