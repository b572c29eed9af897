/**
 * The study's protocols as data: every training setting of every model, each with where it comes from — a line
 * of the article (`../shared/study/README.md` renders each line), or the project's own choice with the reason.
 *
 * - `seed`: the article as written and as its Keras code behaved (the default).
 * - `extended`: the project's earlier choices (100 epochs everywhere, ImageNet input scaling, the activation
 *   cache, ten fine-tuning runs), kept for comparison. Experiments recorded before protocols existed are
 *   `extended`.
 *
 * The MobileNetV2 pair stands in for the Xception pair in both, with the settings of the model it replaces.
 */
import type { ArticleModel } from './article.ts';
import { FINE_TUNES, MODEL_NAMES, MODELS, pretrainedOf, settingsModel, STANDS_IN_FOR, type ModelName } from './models.ts';
import { article, choice, set, type Setting, type Source } from './setting.ts';

export type { Setting, Source };

export const PROTOCOL_NAMES = ['seed', 'extended'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];
export const DEFAULT_PROTOCOL: ProtocolName = 'seed';
/** The protocol of an experiment or run recorded before protocols existed: what the project then did. */
export const LEGACY_PROTOCOL: ProtocolName = 'extended';

/** Pixel values the network sees: `[0, 1]` (the generators' rescale=1/255), or `[-1, 1]` (ImageNet weights' own). */
export const INPUT_SCALINGS = ['[0, 1]', '[-1, 1]'] as const;
export type InputScaling = (typeof INPUT_SCALINGS)[number];

/**
 * The validation subset of each train class folder (files in string order): `first` is what Keras'
 * `flow_from_directory(subset='validation')` takes, `split = (0, fraction)`; `last` is the article's sentence.
 */
export interface ValidationRule {
  fraction: number;
  take: 'first' | 'last';
}

/** Keras' ImageDataGenerator parameters, as study/data/augment.ts applies them. */
export interface AugmentationParams {
  rotationRange: number;
  zoomRange: number;
  widthShiftRange: number;
  heightShiftRange: number;
  horizontalFlip: boolean;
  verticalFlip: boolean;
  brightnessRange: [number, number];
  fill: 'constant';
}

/** The parameters in Keras' order (a stored copy, jsonb, keeps its keys in another). */
export const AUGMENTATION_KEYS = [
  'rotationRange',
  'zoomRange',
  'widthShiftRange',
  'heightShiftRange',
  'horizontalFlip',
  'verticalFlip',
  'brightnessRange',
  'fill',
] as const satisfies readonly (keyof AugmentationParams)[];

export type AugmentationSettings = { [K in keyof AugmentationParams]: Setting<AugmentationParams[K]> };

export interface ModelProtocol {
  architecture: Setting<string>;
  /** Repeated runs (seeds) of the model in one experiment. */
  runs: Setting<number>;
  epochs: Setting<number>;
  /** Early stopping: epochs without a val ROC AUC gain. */
  patience: Setting<number>;
  learningRate: Setting<number>;
  batchSize: Setting<number>;
  imageSize: Setting<number>;
  /** Whether training images are augmented (val and test never are). */
  augment: Setting<boolean>;
  /** The augmentation's parameters; null when `augment` is off. */
  augmentation: AugmentationSettings | null;
  inputScaling: Setting<InputScaling>;
  validation: Setting<ValidationRule>;
  outputBias: Setting<string>;
  /** For a `-ft` model: the model whose best checkpoint it starts from, and the base layers it unfreezes. */
  fineTune: { base: Setting<ModelName>; unfrozen: Setting<string> } | null;
  /** For the MobileNetV2 pair: the Xception model it replaces (and whose settings it takes). */
  standsInFor: ModelName | null;
}

export interface Protocol {
  name: ProtocolName;
  description: string;
  models: Record<ModelName, ModelProtocol>;
}

// ---- Settings both protocols share -------------------------------------------------------------------------

const IMAGE_SIZE = set(224, article('21: images 224 x 224, kept at that size'));
const BATCH_SIZE = set(32, article('27: batches of 32'));
const PATIENCE = set(10, article('70, 271: EarlyStopping after 10 epochs without a val AUC gain'));
const OUTPUT_BIAS = set('log(malignant / benign) of the training split', article('63: initial output bias from the class ratio'));
const UNIT_INPUTS = set<InputScaling>('[0, 1]', article('27: the generators rescale pixels from [0, 255] to [0, 1]'));
const ADAM_DEFAULT = set(1e-3, article("77-99: Adam at its default learning rate (Keras' 1e-3)"));

/** The article names rotation, zoom, flips and brightness (157) but gives values only for rotation and fill. */
const AUGMENTATION: AugmentationSettings = {
  rotationRange: set(30, article('161: rotation range 30 degrees')),
  zoomRange: set(0.2, choice('the article names zoom (157) without a value; 0.2 is the value most Keras examples use')),
  widthShiftRange: set(0.2, choice('the article\'s "self-explanatory" parameters (161) are not given; 0.2, as for zoom')),
  heightShiftRange: set(0.2, choice('the article\'s "self-explanatory" parameters (161) are not given; 0.2, as for zoom')),
  horizontalFlip: set(true, choice('the article names flips (157) without saying which; a lesion has no left or right')),
  verticalFlip: set(true, choice('the article names flips (157) without saying which; a lesion has no up or down')),
  brightnessRange: set([0.8, 1.2], choice('the article names brightness (157) without a range; ±20%, like zoom')),
  fill: set('constant', article("161: fill_mode='constant', black (0)")),
};

const KERAS_SPLIT = set<ValidationRule>(
  { fraction: 0.2, take: 'first' },
  article("23, 157, 165: Keras' ImageDataGenerator validation_split, whose subset='validation' is the first 20% of each class folder in sorted order"),
);
const SENTENCE_SPLIT = set<ValidationRule>(
  { fraction: 0.2, take: 'last' },
  article('23: "the last 20% of the data in the training folder" (the sentence; the Keras code took the first 20%)'),
);

// ---- seed: the article as written and as its Keras code behaved ------------------------------------------------

/** The protocol's settings of a model from its registry record; a stand-in takes those of the model it replaces. */
function seedModel(model: ModelName): ModelProtocol {
  const record = MODELS[model];
  const replaced = settingsModel(model);
  const pretrained = pretrainedOf(model) !== null;
  const epochs: Record<ArticleModel, Setting<number>> = {
    baseline: set(50, article('103: 50 epochs')),
    augmented: set(25, article('215-217: the ten augmented runs, 25 epochs each')),
    xception: set(100, article('271: 100 epochs')),
    'xception-ft': set(100, choice("the article gives no epoch count for fine-tuning, which stopped early after about 17 minutes (337); xception's 100 (271)")),
  };
  const runs: Record<ArticleModel, Setting<number>> = {
    baseline: set(10, article('143-149: 10 runs')),
    augmented: set(10, article('215-217: 10 runs')),
    xception: set(10, article('359-363: 10 runs each of baseline, augmented and Xception')),
    'xception-ft': set(1, article('345-349: one run; ten were left "for future work"')),
  };
  const learningRate: Record<ArticleModel, Setting<number>> = {
    baseline: ADAM_DEFAULT,
    augmented: ADAM_DEFAULT,
    xception: set(1e-4, choice("the article lowers the rate (261) without a value; a tenth of Adam's default")),
    'xception-ft': set(1e-5, choice('the article says "very low" (337) without a value; a tenth of the frozen model\'s')),
  };
  const augment: Record<ArticleModel, Setting<boolean>> = {
    baseline: set(false, article('155-169: augmentation comes with the augmented model')),
    augmented: set(true, article('155-169')),
    xception: set(true, article('279: "the Xception model using data augmentation"')),
    'xception-ft': set(true, choice('the article fine-tunes the xception model of 279 and never names another generator (319-337)')),
  };
  return {
    architecture: record.architecture,
    runs: runs[replaced],
    epochs: epochs[replaced],
    patience: PATIENCE,
    learningRate: learningRate[replaced],
    batchSize: BATCH_SIZE,
    imageSize: IMAGE_SIZE,
    augment: augment[replaced],
    augmentation: augment[replaced].value ? AUGMENTATION : null,
    inputScaling: pretrained
      ? set<InputScaling>('[0, 1]', article('27, 279: the pretrained base is fed the same [0, 1] generators; no preprocess_input'))
      : UNIT_INPUTS,
    validation: KERAS_SPLIT,
    outputBias: OUTPUT_BIAS,
    fineTune: record.fineTune && { base: record.fineTune.base as Setting<ModelName>, unfrozen: record.fineTune.unfrozen },
    standsInFor: STANDS_IN_FOR[model] ?? null,
  };
}

// ---- extended: the project's earlier choices -----------------------------------------------------------------

function extendedModel(model: ModelName): ModelProtocol {
  const s = seedModel(model);
  const pretrained = pretrainedOf(model) !== null;
  const noAugment = set(
    false,
    choice(
      'without augmentation the frozen trunk gives every image the same activations each epoch: computed once and cached, every epoch is a pass over the head only',
    ),
  );
  return {
    ...s,
    runs: set(
      10,
      choice(
        FINE_TUNES[model]
          ? 'ten runs of fine-tuning: the "future work" the article left (349)'
          : 'ten runs of every model, as the article ran its three main models (359-363)',
      ),
    ),
    epochs: set(100, choice('up to 100 epochs for every model, as the article trained Xception (271); early stopping ends most runs sooner')),
    augment: model === 'augmented' ? s.augment : pretrained ? noAugment : s.augment,
    augmentation: model === 'augmented' ? s.augmentation : null,
    inputScaling: pretrained
      ? set<InputScaling>(
          '[-1, 1]',
          choice("Keras' ImageNet weights were trained on [-1, 1] inputs (its preprocess_input); the base gets what it was trained on"),
        )
      : s.inputScaling,
    validation: SENTENCE_SPLIT,
  };
}

function build(name: ProtocolName, description: string, of: (model: ModelName) => ModelProtocol): Protocol {
  return { name, description, models: Object.fromEntries(MODEL_NAMES.map((m) => [m, of(m)])) as Record<ModelName, ModelProtocol> };
}

export const PROTOCOLS: Record<ProtocolName, Protocol> = {
  seed: build('seed', 'the article as written and as its Keras code behaved', seedModel),
  extended: build(
    'extended',
    "the project's earlier choices, kept for comparison: 100 epochs everywhere, ImageNet input scaling, cached frozen-trunk activations, ten fine-tuning runs",
    extendedModel,
  ),
};

// ---- Resolving: a protocol with the flags that override it ---------------------------------------------------

/** Settings a flag may override, for every model at once. */
export interface Overrides {
  runs?: number;
  epochs?: number;
  patience?: number;
  learningRate?: number;
  batchSize?: number;
  imageSize?: number;
}

/** The flag that overrides each setting, as `melanoma run` and `orchestrate` take it (cli/options.ts defines them). */
export const OVERRIDE_FLAGS: Record<keyof Overrides, string> = {
  runs: '--runs',
  epochs: '--epochs',
  patience: '--patience',
  learningRate: '--learning-rate',
  batchSize: '--batch-size',
  imageSize: '--image-size',
};

/** The overrides among a command's parsed flags (commander names each after its flag: --learning-rate, learningRate). */
export function overridesIn(flags: Overrides): Overrides {
  return Object.fromEntries((Object.keys(OVERRIDE_FLAGS) as (keyof Overrides)[]).filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
}

/** A protocol as an experiment uses it: its settings after the overrides, which are recorded with it. */
export interface ResolvedProtocol {
  name: ProtocolName;
  models: Record<ModelName, ModelProtocol>;
  overrides: Overrides;
}

export function isProtocolName(value: unknown): value is ProtocolName {
  return (PROTOCOL_NAMES as readonly unknown[]).includes(value);
}

export function resolveProtocol(name: ProtocolName, overrides: Overrides = {}): ResolvedProtocol {
  // A flag that repeats the protocol's value for every model overrides nothing, so it is not recorded as one.
  const differs = (key: keyof Overrides, value: number) => MODEL_NAMES.some((m) => PROTOCOLS[name].models[m][key].value !== value);
  const given = Object.fromEntries(
    Object.entries(overrides).filter(([k, v]) => v !== undefined && v !== null && differs(k as keyof Overrides, v as number)),
  ) as Overrides;
  const models = Object.fromEntries(
    MODEL_NAMES.map((model) => {
      const m = { ...PROTOCOLS[name].models[model] };
      for (const [key, value] of Object.entries(given) as [keyof Overrides, number][]) {
        m[key] = { value, source: { override: `${OVERRIDE_FLAGS[key]} ${value}` } };
      }
      return [model, m];
    }),
  ) as Record<ModelName, ModelProtocol>;
  return { name, models, overrides: given };
}

/** The plain values a run needs, as RunSpec carries them. */
export interface RunSettings {
  epochs: number;
  patience: number;
  learningRate: number;
  batchSize: number;
  imageSize: number;
  augment: AugmentationParams | null;
  inputScaling: InputScaling;
  validation: ValidationRule;
}

export function runSettings(model: ModelProtocol): RunSettings {
  const augmentation =
    model.augment.value && model.augmentation
      ? (Object.fromEntries(Object.entries(model.augmentation).map(([k, s]) => [k, s.value])) as unknown as AugmentationParams)
      : null;
  return {
    epochs: model.epochs.value,
    patience: model.patience.value,
    learningRate: model.learningRate.value,
    batchSize: model.batchSize.value,
    imageSize: model.imageSize.value,
    augment: augmentation,
    inputScaling: model.inputScaling.value,
    validation: model.validation.value,
  };
}

/** The settings of `model` in `protocol` (absent: a run recorded before protocols, so the legacy protocol). */
export function protocolSettings(model: ModelName, protocol: ProtocolName | undefined): RunSettings {
  return runSettings(PROTOCOLS[protocol ?? LEGACY_PROTOCOL].models[model]);
}

/** The validation rule of a protocol (the same for all its models: one dataset split per experiment). */
export function validationRule(protocol: ProtocolName = DEFAULT_PROTOCOL): ValidationRule {
  return PROTOCOLS[protocol].models.baseline.validation.value;
}

/** A source in one line: 'article 103: 50 epochs', "project's choice: why", 'override: --epochs 3'. */
export function describeSource(source: Source): string {
  if ('article' in source) return `article ${source.article}`;
  if ('choice' in source) return `project's choice: ${source.choice}`;
  return `override: ${source.override}`;
}

/** One row per (model, setting): the table the README, `melanoma protocol show` and the experiment page show. */
export interface SettingRow {
  model: ModelName;
  setting: string;
  value: string;
  source: Source;
}

export function formatValue(value: unknown): string {
  if (typeof value === 'number') return value > 0 && value < 0.01 ? value.toExponential() : String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value && typeof value === 'object' && 'take' in value && 'fraction' in value) {
    const v = value as ValidationRule;
    return `${v.take} ${Math.round(v.fraction * 100)}% of each class folder (sorted)`;
  }
  return String(value);
}

/** The rows of the `only` models (a protocol recorded before a model joined the registry has none for it). */
export function settingRows(models: Partial<Record<ModelName, ModelProtocol>>, only: readonly ModelName[] = MODEL_NAMES): SettingRow[] {
  const rows: SettingRow[] = [];
  for (const model of only) {
    const m = models[model];
    if (!m) continue;
    const add = (setting: string, s: Setting<unknown>) => rows.push({ model, setting, value: formatValue(s.value), source: s.source });
    add('architecture', m.architecture);
    add('runs', m.runs);
    add('epochs', m.epochs);
    add('patience', m.patience);
    add('learning rate', m.learningRate);
    add('batch size', m.batchSize);
    add('image size', m.imageSize);
    add('augmentation', m.augment);
    if (m.augment.value && m.augmentation) {
      for (const k of AUGMENTATION_KEYS) add(`  ${k}`, m.augmentation[k]);
    }
    add('input scaling', m.inputScaling);
    add('validation', m.validation);
    add('output bias', m.outputBias);
    if (m.fineTune) {
      add('starts from', m.fineTune.base);
      add('unfrozen', m.fineTune.unfrozen);
    }
    if (m.standsInFor)
      rows.push({
        model,
        setting: 'stands in for',
        value: m.standsInFor,
        source: { choice: `MobileNetV2 replaces ${m.standsInFor} where its weights are missing, with ${m.standsInFor}'s settings` },
      });
  }
  return rows;
}

/** The default protocol's image size and batch size, for commands that are not a run (summaries, benchmarks, the page). */
export const DEFAULT_IMAGE_SIZE = PROTOCOLS[DEFAULT_PROTOCOL].models.baseline.imageSize.value;
export const DEFAULT_BATCH_SIZE = PROTOCOLS[DEFAULT_PROTOCOL].models.baseline.batchSize.value;
