/**
 * The registry of the study's models: one record per model holds everything known of it outside tfjs. Adding a
 * model is its network file in workers/models/ (for a new network, with its line in the builder table of
 * workers/models/index.ts) plus one record here; the protocols, `melanoma weights`, the checks before a run, the
 * image-size check and the report take it from the record.
 */
import type { ArticleModel } from './article.ts';
import { article, choice, set, type Setting } from './setting.ts';

/** An ImageNet weight file of the Keras Applications, as `melanoma weights download` fetches it. */
export interface PretrainedFile {
  file: string;
  url: string;
  /** Published md5, or null where Keras publishes none (then the file is checked by opening it). */
  md5: string | null;
  description: string;
  /** A folder that may hold a TensorFlow.js export (model.json + weights.bin) of the same weights; null: none. */
  tfjsFolder: string | null;
}

/** Layers of a pretrained base, by exact name or by name prefix. */
export interface LayerNames {
  names: readonly string[];
  prefixes: readonly string[];
}

export interface ModelRecord {
  name: string;
  /** The network that builds it: workers/models/index.ts maps each builder to its file. */
  builder: string;
  /** What the model is, with its source (a row of `melanoma protocol show`). */
  architecture: Setting<string>;
  /** The smallest input side the network accepts, and why. */
  minImageSize: { px: number; why: string };
  /** The ImageNet weights its base starts from; null for a model that starts from random weights or its base's checkpoint. */
  pretrained: PretrainedFile | null;
  /**
   * A fine-tuning model: the model whose best checkpoint of the same run index it starts from, and the layers of
   * its pretrained base it trains (shown as `unfrozen`, applied as `layers`).
   */
  fineTune: { base: Setting<string>; unfrozen: Setting<string>; layers: LayerNames } | null;
  /** The article's model it answers for where that one cannot run; it takes that model's settings in every protocol. */
  standsInFor: ArticleModel | null;
}

const KERAS_APPLICATIONS = 'https://storage.googleapis.com/tensorflow/keras-applications';
const SEPARABLE_CNN_MIN = { px: 46, why: 'four valid 3x3 convolutions each followed by 2x2 pooling' };
const XCEPTION_MIN = { px: 71, why: "Xception's valid stem and four stride-2 stages" };
const MOBILENET_MIN = { px: 32, why: "MobileNetV2's five stride-2 stages" };

const RECORDS = [
  {
    name: 'baseline',
    builder: 'separable-cnn',
    architecture: set('4 x [SeparableConv2D + MaxPooling2D], GAP, Dense(16, relu), Dense(1, sigmoid); 49,756 parameters', article('77-99')),
    minImageSize: SEPARABLE_CNN_MIN,
    pretrained: null,
    fineTune: null,
    standsInFor: null,
  },
  {
    name: 'augmented',
    builder: 'separable-cnn-dropout',
    architecture: set('the baseline + Dropout(0.5) after the convolutions', article('183: Dropout 50% after the convolution layers')),
    minImageSize: SEPARABLE_CNN_MIN,
    pretrained: null,
    fineTune: null,
    standsInFor: null,
  },
  {
    name: 'xception',
    builder: 'xception',
    architecture: set('ImageNet Xception base (include_top=False), frozen; Flatten, Dense(16, relu), Dense(1, sigmoid)', article('231-255')),
    minImageSize: XCEPTION_MIN,
    pretrained: {
      file: 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5',
      url: `${KERAS_APPLICATIONS}/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5`,
      md5: 'b0042744bf5b25fce3cb969f33bebb97',
      description: 'Xception, ImageNet, no top (Keras HDF5)',
      tfjsFolder: null,
    },
    fineTune: null,
    standsInFor: null,
  },
  {
    name: 'xception-ft',
    builder: 'xception',
    architecture: set('the xception model from its best checkpoint, block14 unfrozen', article('319-337')),
    minImageSize: XCEPTION_MIN,
    pretrained: null,
    fineTune: {
      base: set('xception', article('319-327: fine-tuning starts from the trained xception model')),
      unfrozen: set('block14 (6 layers)', article('329-335: all layers of block14, 6 layers')),
      layers: {
        names: ['block14_sepconv1', 'block14_sepconv1_bn', 'block14_sepconv1_act', 'block14_sepconv2', 'block14_sepconv2_bn', 'block14_sepconv2_act'],
        prefixes: [],
      },
    },
    standsInFor: null,
  },
  {
    name: 'mobilenet',
    builder: 'mobilenet-v2',
    architecture: set(
      'ImageNet MobileNetV2 (alpha 0.35) base, frozen; the xception head',
      choice("stands in for xception where Xception's weights cannot be had (an offline machine); the smallest ImageNet base with the same role"),
    ),
    minImageSize: MOBILENET_MIN,
    pretrained: {
      file: 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5',
      url: `${KERAS_APPLICATIONS}/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5`,
      md5: null,
      description: 'MobileNetV2 alpha 0.35, ImageNet, no top (Keras HDF5)',
      tfjsFolder: 'mobilenet_v2_035_224',
    },
    fineTune: null,
    standsInFor: 'xception',
  },
  {
    name: 'mobilenet-ft',
    builder: 'mobilenet-v2',
    architecture: set(
      'the mobilenet model from its best checkpoint, its last stage unfrozen',
      choice('stands in for xception-ft, unfreezing the last stage as xception-ft unfreezes block14'),
    ),
    minImageSize: MOBILENET_MIN,
    pretrained: null,
    fineTune: {
      base: set('mobilenet', choice('stands in for xception-ft, which starts from xception')),
      unfrozen: set('block_16_*, Conv_1, Conv_1_bn', choice("MobileNetV2's last stage, as block14 is Xception's")),
      layers: { names: ['Conv_1', 'Conv_1_bn'], prefixes: ['block_16_'] },
    },
    standsInFor: 'xception-ft',
  },
  {
    name: 'mobilenet-ft2',
    builder: 'mobilenet-v2',
    architecture: set(
      'the mobilenet model from its best checkpoint, its last two stages unfrozen',
      choice('a second fine-tuning depth for the stand-in: how much training more of the base adds beyond mobilenet-ft'),
    ),
    minImageSize: MOBILENET_MIN,
    pretrained: null,
    fineTune: {
      base: set('mobilenet', choice('fine-tunes the trained mobilenet model, as mobilenet-ft does')),
      unfrozen: set(
        'block_13_* to block_16_*, Conv_1, Conv_1_bn',
        choice(
          "MobileNetV2's last two stages (160 and 320 filters) and its last 1x1 convolution: one stage deeper than mobilenet-ft. " +
            'The trained part starts at block_13, a stride-2 block with no skip connection around it, so no residual path crosses from frozen into trained layers',
        ),
      ),
      layers: { names: ['Conv_1', 'Conv_1_bn'], prefixes: ['block_13_', 'block_14_', 'block_15_', 'block_16_'] },
    },
    standsInFor: 'xception-ft',
  },
] as const satisfies readonly ModelRecord[];

export type ModelName = (typeof RECORDS)[number]['name'];
/** The networks the records name; workers/models/index.ts has one builder for each. */
export type BuilderName = (typeof RECORDS)[number]['builder'];
/** The models whose records carry an ImageNet file: `melanoma weights download <name>`. */
export type PretrainedName = Extract<(typeof RECORDS)[number], { pretrained: object }>['name'];

/** Every model in registry order: bases before the models that fine-tune them. */
export const MODEL_NAMES: readonly ModelName[] = RECORDS.map((r) => r.name);
export const MODELS = Object.fromEntries(RECORDS.map((r) => [r.name, r])) as Record<ModelName, ModelRecord & { name: ModelName; builder: BuilderName }>;
export const PRETRAINED_NAMES = RECORDS.flatMap((r) => (r.pretrained ? [r.name] : [])) as readonly PretrainedName[];
/** The ImageNet file of each pretrained model. */
export const PRETRAINED = Object.fromEntries(RECORDS.flatMap((r) => (r.pretrained ? [[r.name, r.pretrained]] : []))) as Record<PretrainedName, PretrainedFile>;

export function isModelName(value: unknown): value is ModelName {
  return (MODEL_NAMES as readonly unknown[]).includes(value);
}

/** Whether `model` starts from its own ImageNet file (a fine-tuning model starts from its base's checkpoint). */
export function isPretrainedName(model: string): model is PretrainedName {
  return (PRETRAINED_NAMES as readonly string[]).includes(model);
}

/** A fine-tuning model starts from the best weights of the same run index of its base model. */
export const FINE_TUNES: Partial<Record<ModelName, ModelName>> = Object.fromEntries(
  RECORDS.flatMap((r) => (r.fineTune ? [[r.name, r.fineTune.base.value]] : [])),
);

/** The MobileNetV2 models stand in for the Xception pair where Xception's weights are missing. */
export const STANDS_IN_FOR: Partial<Record<ModelName, ArticleModel>> = Object.fromEntries(
  RECORDS.flatMap((r) => (r.standsInFor ? [[r.name, r.standsInFor]] : [])),
);

/** The models of the article itself, the study's default: every model that stands in for none. */
export const ARTICLE_MODELS = MODEL_NAMES.filter((m) => STANDS_IN_FOR[m] === undefined) as readonly ArticleModel[];

/** The model whose protocol settings `model` takes: the article's model it stands in for, else itself. */
export function settingsModel(model: ModelName): ArticleModel {
  return STANDS_IN_FOR[model] ?? (model as ArticleModel);
}

/** The model whose ImageNet file `model` starts from, directly or through the base it fine-tunes; null for none. */
export function pretrainedOf(model: ModelName): PretrainedName | null {
  let m: ModelName | undefined = model;
  while (m !== undefined) {
    if (MODELS[m].pretrained) return m as PretrainedName;
    m = FINE_TUNES[m];
  }
  return null;
}

/** Whether a fine-tuning model trains the base layer `layer` (a frozen model trains none). */
export function trainsBaseLayer(model: ModelName, layer: string): boolean {
  const unfrozen = MODELS[model].fineTune?.layers;
  return unfrozen !== undefined && (unfrozen.names.includes(layer) || unfrozen.prefixes.some((p) => layer.startsWith(p)));
}

/** The models that stand in for `model` (an article's model), in registry order. */
export function standInsFor(model: ArticleModel): ModelName[] {
  return MODEL_NAMES.filter((m) => STANDS_IN_FOR[m] === model);
}

// A record names its base and the article's model by name: both must be there (a base before its fine-tune).
for (const [i, r] of RECORDS.entries()) {
  const base = r.fineTune?.base.value;
  if (base !== undefined && !RECORDS.slice(0, i).some((b) => b.name === base))
    throw new Error(`model ${r.name}: its base ${base} is not a model listed before it.`);
  if (r.standsInFor !== null && STANDS_IN_FOR[r.standsInFor as ModelName] !== undefined) throw new Error(`model ${r.name} stands in for a stand-in.`);
}

/**
 * What to run when the ImageNet file of `name` cannot be had: in a study (`orchestrate --models`), its stand-ins in
 * place of the models that need it, else the study without them; for one run (`melanoma run --model`), its stand-in,
 * else a model that needs no pretrained weights.
 */
export function withoutPretrained(name: PretrainedName, scope: 'study' | 'run'): string {
  const users = MODEL_NAMES.filter((m) => pretrainedOf(m) === name);
  const standIn = (m: ModelName): ModelName | undefined => ((ARTICLE_MODELS as readonly string[]).includes(m) ? standInsFor(m as ArticleModel)[0] : undefined);
  const own = standIn(name);
  if (scope === 'run') {
    if (own) return `or train ${own} instead (--model ${own})`;
    return `or train a model without pretrained weights (--model ${MODEL_NAMES.filter((m) => pretrainedOf(m) === null).join(' or ')})`;
  }
  const models = ARTICLE_MODELS.map((m) => (users.includes(m) ? standIn(m) : m));
  if (own && models.every((m) => m !== undefined)) return `or run the study with ${own} instead: --models ${models.join(',')}`;
  return `or leave ${users.join(', ')} out of --models`;
}
