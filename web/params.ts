/** Validation of path and query parameters (zod); a bad value becomes a 400 that names the parameter. */
import { z } from 'zod';
import { MAX_TTA } from '../study/prediction.ts';
import { METRIC_NAMES, MODEL_NAMES, SPLITS } from '../study/run.ts';
import { badRequest } from './http-errors.ts';

/** A database id in a path: a positive integer written in decimal digits only. */
export const idParam = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, 'must be a positive integer')
  .transform(Number);

/** A file id of the dataset listing: a non-negative integer. */
export const fileIdParam = z
  .string()
  .regex(/^(0|[1-9]\d{0,8})$/, 'must be a non-negative integer')
  .transform(Number);

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be an integer from ${min} to ${max}`).max(max, `must be an integer from ${min} to ${max}`));

export const compareQuery = z.strictObject({
  model: z.enum(MODEL_NAMES, { error: `must be one of ${MODEL_NAMES.join(', ')}` }),
});

/** The compare page: the API's model plus the view's own settings (kept in the URL by the page). */
export const comparePageQuery = z.strictObject({
  model: z.enum(MODEL_NAMES, { error: `must be one of ${MODEL_NAMES.join(', ')}` }).optional(),
  split: z.enum(['train', 'val'], { error: 'must be train or val' }).optional(),
  mode: z.enum(['bands', 'overlay'], { error: 'must be bands or overlay' }).optional(),
});

/** Experiments to compare: up to 20 distinct ids, comma-separated, in the order they are shown. */
export const MAX_COMPARED = 20;
const experimentList = z
  .string()
  .regex(/^[1-9]\d{0,15}(,[1-9]\d{0,15})*$/, 'must be experiment ids separated by commas, e.g. 1,3')
  .transform((s) => [...new Set(s.split(',').map(Number))])
  .pipe(z.array(z.number()).max(MAX_COMPARED, `must name at most ${MAX_COMPARED} experiments`));

export const experimentsCompareQuery = z.strictObject({ experiments: experimentList });

/** The experiments comparison page: the API's list plus the view's own settings (kept in the URL by the page). */
export const experimentsComparePageQuery = z.strictObject({
  experiments: experimentList,
  split: z.enum(SPLITS, { error: `must be one of ${SPLITS.join(', ')}` }).optional(),
  metric: z.enum(METRIC_NAMES, { error: `must be one of ${METRIC_NAMES.join(', ')}` }).optional(),
  model: z.enum(MODEL_NAMES, { error: `must be one of ${MODEL_NAMES.join(', ')}` }).optional(),
  historySplit: z.enum(['train', 'val'], { error: 'must be train or val' }).optional(),
});

export const imageQuery = z.strictObject({ size: intIn(16, 512).optional() });

/** One split, test by default: a run's predictions, an experiment's ensemble. */
export const splitQuery = z.strictObject({
  split: z.enum(SPLITS, { error: `must be one of ${SPLITS.join(', ')}` }).optional(),
});

/** The images a model's runs get wrong most often: the model, a split (test by default), how many (24 by default). */
export const misclassifiedQuery = z.strictObject({
  model: z.enum(MODEL_NAMES, { error: `must be one of ${MODEL_NAMES.join(', ')}` }),
  split: z.enum(SPLITS, { error: `must be one of ${SPLITS.join(', ')}` }).optional(),
  limit: intIn(1, 500).optional(),
});

/** Every model at one threshold: the threshold (a decimal from 0 to 1) and a split (test by default). */
export const thresholdQuery = z.strictObject({
  threshold: z
    .string()
    .regex(/^(0|1|0?\.\d{1,9}|1\.0{1,9})$/, 'must be a decimal number from 0 to 1, e.g. 0.35')
    .transform(Number),
  split: z.enum(SPLITS, { error: `must be one of ${SPLITS.join(', ')}` }).optional(),
});

export const augmentedQuery = z.strictObject({
  seed: intIn(0, 2 ** 31 - 1).optional(),
  epoch: intIn(1, 10_000).optional(),
  size: intIn(16, 512).optional(),
});

/** A new image through an experiment's runs: the model (default: the best by mean val ROC AUC), the test-time views. */
export const predictQuery = z.strictObject({
  model: z.enum(MODEL_NAMES, { error: `must be one of ${MODEL_NAMES.join(', ')}` }).optional(),
  tta: intIn(1, MAX_TTA).optional(),
});

/** The predict page: the experiment chosen first. */
export const predictPageQuery = z.strictObject({ experiment: idParam.optional() });

/** No query parameters allowed. */
export const noQuery = z.strictObject({});

/** Parses `value` with `schema`; a failure throws a 400 naming `what` and the offending parameter. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown ${what} parameter(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
    const name = i.path.length ? `${what} parameter '${i.path.join('.')}'` : what;
    return `${name} ${i.message}`;
  });
  throw badRequest(`bad request: ${issues.join('; ')}.`);
}
