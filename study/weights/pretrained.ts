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
import { PRETRAINED, type PretrainedName } from '../models.ts';

export { PRETRAINED, PRETRAINED_NAMES, type PretrainedFile, type PretrainedName } from '../models.ts';

/** `$MELANOMA_WEIGHTS`, else `~/.cache/melanoma/weights`. */
export function weightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MELANOMA_WEIGHTS && env.MELANOMA_WEIGHTS.trim() !== '' ? env.MELANOMA_WEIGHTS : join(homedir(), '.cache', 'melanoma', 'weights');
}

/** Where a model's file is downloaded from: `$MELANOMA_WEIGHTS_URL/<file>` when set, else the Keras Applications bucket. */
export function pretrainedUrl(name: PretrainedName, env: NodeJS.ProcessEnv = process.env): string {
  const mirror = env.MELANOMA_WEIGHTS_URL?.trim();
  const { file, url } = PRETRAINED[name];
  return mirror ? `${mirror.replace(/\/+$/, '')}/${file}` : url;
}

/** A TensorFlow.js layers model's topology file. */
export const MODEL_JSON = 'model.json';

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
  const { file, tfjsFolder } = PRETRAINED[name];
  const h5: WeightsLocation = { format: 'h5', path: join(dir, file) };
  if (tfjsFolder === null) return [h5];
  return [h5, { format: 'tfjs', path: join(dir, MODEL_JSON) }, { format: 'tfjs', path: join(dir, tfjsFolder, MODEL_JSON) }];
}

export function locatePretrained(name: PretrainedName, weights: string | null | undefined, env: NodeJS.ProcessEnv = process.env): WeightsLocation {
  const hint =
    `get them with \`melanoma weights download ${name}\` (on a machine with internet access; ` +
    `\`melanoma weights list\` shows the cache) or pass --weights FILE_OR_FOLDER`;
  if (weights != null) {
    if (!existsSync(weights)) throw new UserError(`weights ${weights} do not exist; ${hint}.`);
    if (statSync(weights).isFile()) {
      if (weights.endsWith('.h5')) return { format: 'h5', path: weights };
      const tfjs = PRETRAINED[name].tfjsFolder !== null;
      if (tfjs && basename(weights) === MODEL_JSON) return { format: 'tfjs', path: weights };
      throw new UserError(`weights ${weights}: expected a Keras .h5 file${tfjs ? ' or a TensorFlow.js model.json' : ''}.`);
    }
    const found = candidates(name, weights).find((c) => existsSync(c.path));
    if (found) return found;
    throw new UserError(
      `no ${name} weights in ${weights} (looked for ${candidates(name, weights)
        .map((c) => c.path)
        .join(', ')}); ${hint}.`,
    );
  }
  const dirs = defaultWeightDirs(env);
  for (const dir of dirs) {
    const found = candidates(name, dir).find((c) => existsSync(c.path));
    if (found) return found;
  }
  throw new UserError(`the ${name} model needs its ImageNet weights ${PRETRAINED[name].file}, not found in ${dirs.join(' or ')}; ${hint}.`);
}
