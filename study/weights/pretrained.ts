/**
 * Finds the ImageNet weights for the pretrained models. `--weights` may name the file itself or a folder holding
 * it; without it the weights cache (`$MELANOMA_WEIGHTS`, else ~/.cache/melanoma/weights) is searched, then the
 * shared weights folder next to the project (../shared/weights), where the offline machines keep them.
 * The files come from the Keras Applications bucket, or from `$MELANOMA_WEIGHTS_URL` (a folder URL of a mirror
 * that serves them under the same file names).
 * Free of tfjs, so the orchestrator can check for the weights before it starts any run.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../../common/errors.ts';
import { homedir } from 'node:os';

const KERAS_APPLICATIONS = 'https://storage.googleapis.com/tensorflow/keras-applications';

export interface PretrainedFile {
  file: string;
  url: string;
  /** Published md5, or null where Keras publishes none (then the file is checked by opening it). */
  md5: string | null;
  description: string;
}

export const PRETRAINED_NAMES = ['xception', 'mobilenet'] as const;
export type PretrainedName = (typeof PRETRAINED_NAMES)[number];

export const PRETRAINED: Record<PretrainedName, PretrainedFile> = {
  xception: {
    file: 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5',
    url: `${KERAS_APPLICATIONS}/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5`,
    md5: 'b0042744bf5b25fce3cb969f33bebb97',
    description: 'Xception, ImageNet, no top (Keras HDF5)',
  },
  mobilenet: {
    file: 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5',
    url: `${KERAS_APPLICATIONS}/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5`,
    md5: null,
    description: 'MobileNetV2 alpha 0.35, ImageNet, no top (Keras HDF5)',
  },
};

/** `$MELANOMA_WEIGHTS`, else `~/.cache/melanoma/weights`. */
export function weightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MELANOMA_WEIGHTS && env.MELANOMA_WEIGHTS.trim() !== '' ? env.MELANOMA_WEIGHTS : join(homedir(), '.cache', 'melanoma', 'weights');
}

/** Where a model's file is downloaded from: `$MELANOMA_WEIGHTS_URL/<file>` when set, else the Keras Applications bucket. */
export function pretrainedUrl(name: PretrainedName, env: NodeJS.ProcessEnv = process.env): string {
  const mirror = env.MELANOMA_WEIGHTS_URL?.trim();
  return mirror ? `${mirror.replace(/\/+$/, '')}/${PRETRAINED[name].file}` : PRETRAINED[name].url;
}

/** A TensorFlow.js layers model's topology file. */
export const MODEL_JSON = 'model.json';

/** The TensorFlow.js export of MobileNetV2 0.35 (a folder with model.json + weights.bin). */
export const MOBILENET_TFJS_FOLDER = 'mobilenet_v2_035_224';

export const SHARED_WEIGHTS_DIR = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'weights');

export interface WeightsLocation {
  format: 'h5' | 'tfjs';
  /** The .h5 file, or the model.json. */
  path: string;
}

export function defaultWeightDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [weightsCacheDir(env), SHARED_WEIGHTS_DIR].filter((d, i, all) => all.indexOf(d) === i);
}

/** Where a model's weights could be in one folder, in order of preference. */
function candidates(name: PretrainedName, dir: string): WeightsLocation[] {
  const h5: WeightsLocation = { format: 'h5', path: join(dir, PRETRAINED[name].file) };
  if (name === 'xception') return [h5];
  return [h5, { format: 'tfjs', path: join(dir, MODEL_JSON) }, { format: 'tfjs', path: join(dir, MOBILENET_TFJS_FOLDER, MODEL_JSON) }];
}

export function locatePretrained(name: PretrainedName, weights: string | null | undefined, env: NodeJS.ProcessEnv = process.env): WeightsLocation {
  const hint =
    `get them with \`melanoma weights download ${name}\` (on a machine with internet access; ` +
    `\`melanoma weights list\` shows the cache) or pass --weights FILE_OR_FOLDER`;
  if (weights != null) {
    if (!existsSync(weights)) throw new UserError(`weights ${weights} do not exist; ${hint}.`);
    if (statSync(weights).isFile()) {
      if (weights.endsWith('.h5')) return { format: 'h5', path: weights };
      if (name === 'mobilenet' && basename(weights) === MODEL_JSON) return { format: 'tfjs', path: weights };
      throw new UserError(`weights ${weights}: expected a Keras .h5 file${name === 'mobilenet' ? ' or a TensorFlow.js model.json' : ''}.`);
    }
    const found = candidates(name, weights).find((c) => existsSync(c.path));
    if (found) return found;
    throw new UserError(`no ${name} weights in ${weights} (looked for ${candidates(name, weights).map((c) => c.path).join(', ')}); ${hint}.`);
  }
  const dirs = defaultWeightDirs(env);
  for (const dir of dirs) {
    const found = candidates(name, dir).find((c) => existsSync(c.path));
    if (found) return found;
  }
  throw new UserError(`the ${name} model needs its ImageNet weights ${PRETRAINED[name].file}, not found in ${dirs.join(' or ')}; ${hint}.`);
}
