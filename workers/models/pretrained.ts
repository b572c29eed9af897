/**
 * Finds the ImageNet weights for the pretrained models. `--weights` may name the file itself or a folder holding
 * it; without it the weights cache (`$MELANOMA_WEIGHTS`, else ~/.cache/melanoma/weights) is searched, then the
 * shared weights folder next to the project (../shared/weights), where the offline machines keep them.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../../common/errors.ts';
import { MODEL_JSON } from './file-io.ts';
import { PRETRAINED, weightsCacheDir, type PretrainedName } from './weights-download.ts';

/** The TensorFlow.js export of MobileNetV2 0.35 (a folder with model.json + weights.bin). */
export const MOBILENET_TFJS_FOLDER = 'mobilenet_v2_035_224';

export const SHARED_WEIGHTS_DIR = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'weights');

export interface WeightsLocation {
  format: 'h5' | 'tfjs';
  /** The .h5 file, or the model.json. */
  path: string;
}

export function defaultWeightDirs(): string[] {
  return [weightsCacheDir(), SHARED_WEIGHTS_DIR].filter((d, i, all) => all.indexOf(d) === i);
}

/** Where a model's weights could be in one folder, in order of preference. */
function candidates(name: PretrainedName, dir: string): WeightsLocation[] {
  const h5: WeightsLocation = { format: 'h5', path: join(dir, PRETRAINED[name].file) };
  if (name === 'xception') return [h5];
  return [h5, { format: 'tfjs', path: join(dir, MODEL_JSON) }, { format: 'tfjs', path: join(dir, MOBILENET_TFJS_FOLDER, MODEL_JSON) }];
}

export function locatePretrained(name: PretrainedName, weights: string | null | undefined): WeightsLocation {
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
  const dirs = defaultWeightDirs();
  for (const dir of dirs) {
    const found = candidates(name, dir).find((c) => existsSync(c.path));
    if (found) return found;
  }
  throw new UserError(`the ${name} model needs its ImageNet weights ${PRETRAINED[name].file}, not found in ${dirs.join(' or ')}; ${hint}.`);
}
