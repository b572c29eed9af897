/**
 * The file that carries one experiment between databases (`melanoma export` / `melanoma import`): gzip-compressed
 * lines of JSON. Line 1 is the header (format, version, the experiment's code version and creation time, and the
 * SHA-256 of the lines after it); line 2 the experiment; then one line per run, with its epochs, evaluations, curves,
 * predictions and log messages. Rows name each other by natural keys (experiment name, model and run index, epoch,
 * split, image path), never by database ids. The same experiment gives the same bytes: nothing in the file depends
 * on when or where it was written.
 *
 * Metrics travel as objects keyed by the names of study/metrics/definitions.ts ({ "loss": 0.41, "roc_auc": 0.87 }),
 * holding the metrics the run has (version 2). Version 1 files, written while the database had one column per metric
 * (the six of the time: loss ... prAuc, on one epoch row per split), are read too and come out in version 2's shape.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { UserError } from '../common/errors.ts';
import { METRIC_NAMES, MODEL_NAMES, SPLITS, type MetricName } from '../study/run.ts';
import { CURVE_KINDS, RUN_STATUSES } from './schema.ts';

export const FORMAT = 'melanoma-experiment';
export const FORMAT_VERSION = 2;
/** The versions this code reads. */
const READABLE_VERSIONS = [1, 2] as const;

/** A double: JSON has no NaN or ±Infinity (a ROC curve starts at threshold +Infinity), so they travel as strings. */
const double = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]);
const int = z.number().int();
const timestamp = z.iso.datetime({ precision: 6 });
const split = z.enum(SPLITS);
const trainOrVal = z.enum(['train', 'val']);
const json = z.record(z.string(), z.unknown());

/** A split's metrics: those the run has, by name. */
const metrics = z.partialRecord(z.enum(METRIC_NAMES), double);

const epochRow = z.strictObject({ epoch: int, seconds: double, learningRate: double, improved: z.boolean(), train: metrics, val: metrics });
const evaluationRow = z.strictObject({ split, n: int, tp: int, fp: int, tn: int, fn: int, metrics });

/** Version 1: one epoch row per split, the six metrics of the time as fields of the row. */
const v1Metrics = { loss: double, accuracy: double, precision: double, recall: double, rocAuc: double, prAuc: double };
const v1EpochRow = z.strictObject({ epoch: int, split: trainOrVal, ...v1Metrics, seconds: double, learningRate: double, improved: z.boolean() });
const v1EvaluationRow = z.strictObject({ split, n: int, ...v1Metrics, tp: int, fp: int, tn: int, fn: int });
type V1Metrics = { [K in keyof typeof v1Metrics]: number };
const fromV1 = (m: V1Metrics): Partial<Record<MetricName, number>> => ({
  loss: m.loss,
  accuracy: m.accuracy,
  precision: m.precision,
  recall: m.recall,
  roc_auc: m.rocAuc,
  pr_auc: m.prAuc,
});

/** One curve of a split as parallel arrays, points in `idx` order. */
const curve = z
  .strictObject({ split, kind: z.enum(CURVE_KINDS), x: z.array(double), y: z.array(double), threshold: z.array(double) })
  .refine((c) => c.x.length === c.y.length && c.x.length === c.threshold.length, { message: 'x, y and threshold differ in length' });
/** A split's predictions as parallel arrays, by image path; probabilities are float32 values. */
const predictionSet = z
  .strictObject({ split, image: z.array(z.string().min(1)), label: z.array(z.union([z.literal(0), z.literal(1)])), probability: z.array(z.number()) })
  .refine((p) => p.image.length === p.label.length && p.image.length === p.probability.length, {
    message: 'image, label and probability differ in length',
  });
const logRow = z.strictObject({ attempt: int, loggedAt: timestamp, message: z.string() });
const failedAttemptRow = z.strictObject({ attempt: int, slot: z.string().nullable(), failedAt: timestamp, error: z.string(), retried: z.boolean() });

export const experimentSchema = z.strictObject({
  name: z.string().trim().min(1),
  config: json,
  datasetFingerprint: z.string().nullable(),
  datasetDir: z.string().nullable(),
  codeVersion: z.string().nullable(),
  createdAt: timestamp,
  finishedAt: timestamp.nullable(),
});

const runFields = {
  model: z.enum(MODEL_NAMES),
  runIndex: int.nonnegative(),
  /** The run index of the base run a `-ft` run starts from (the base model is the `-ft` model's base). */
  baseRunIndex: int.nonnegative().nullable(),
  status: z.enum(RUN_STATUSES).exclude(['running']),
  seed: int,
  spec: json,
  slot: z.string().nullable(),
  /** Where the run's last attempt ran (files written before these were recorded have neither). */
  host: z.string().nullable().default(null),
  slurmJob: z.string().nullable().default(null),
  backend: z.string().nullable(),
  backendDetail: z.string().nullable(),
  attempts: int.nonnegative(),
  error: z.string().nullable(),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  lastEventAt: timestamp.nullable(),
  /** The last heartbeat of the run's last holder (a run is exported unheld: see exportExperiment). */
  heartbeatAt: timestamp.nullable(),
  durationSeconds: double.nullable(),
  bestEpoch: int.nullable(),
  stoppedEarly: z.boolean().nullable(),
  checkpointDir: z.string().nullable(),
  paramsTotal: int.nullable(),
  paramsTrainable: int.nullable(),
  epochs: z.array(epochRow),
  evaluations: z.array(evaluationRow),
  curves: z.array(curve),
  predictions: z.array(predictionSet),
  logs: z.array(logRow),
  failedAttempts: z.array(failedAttemptRow),
};

export const runSchema = z.strictObject(runFields);

/** A version 1 run, in version 2's shape: an epoch's train and val rows become one epoch. */
const v1RunSchema = z.strictObject({ ...runFields, epochs: z.array(v1EpochRow), evaluations: z.array(v1EvaluationRow) }).transform((run) => {
  const epochs = new Map<number, z.output<typeof epochRow>>();
  for (const { epoch, split, seconds, learningRate, improved, ...m } of run.epochs) {
    const e = epochs.get(epoch) ?? { epoch, seconds, learningRate, improved: false, train: {}, val: {} };
    if (split === 'val') Object.assign(e, { seconds, learningRate });
    e.improved ||= improved;
    e[split] = fromV1(m);
    epochs.set(epoch, e);
  }
  return {
    ...run,
    epochs: [...epochs.values()],
    evaluations: run.evaluations.map(({ split, n, tp, fp, tn, fn, ...m }) => ({ split, n, tp, fp, tn, fn, metrics: fromV1(m) })),
  };
});

const headerSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(READABLE_VERSIONS),
  /** The experiment's code version and creation time (from the data, so that a re-export gives the same bytes). */
  codeVersion: z.string().nullable(),
  createdAt: timestamp,
  runs: int.nonnegative(),
  /** SHA-256 (hex) of the uncompressed lines after the header, newlines included. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export type ExperimentRecord = z.infer<typeof experimentSchema>;
export type RunRecord = z.infer<typeof runSchema>;
export type RunRecordInput = z.input<typeof runSchema>;
export interface ExperimentFile {
  experiment: ExperimentRecord;
  runs: RunRecord[];
}

/** JSON with NaN and ±Infinity as strings (what `double` reads back). */
function line(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/**
 * The shortest decimal that reads back as the same float32 (a `real` column): 0.1 rather than 0.10000000149011612,
 * so the file holds the numbers as stored and no more digits than they have.
 */
export function float32(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return Number(f.toPrecision(9));
}

/** A split's metrics in the list's order, so that the same values give the same bytes. */
export function orderedMetrics(m: Partial<Record<MetricName, number>>): Partial<Record<MetricName, number>> {
  return Object.fromEntries(METRIC_NAMES.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]));
}

/** The file's bytes: deterministic for the same content (gzip without a name or time). */
export function encodeExperimentFile(file: ExperimentFile): Buffer {
  const body = [line(file.experiment), ...file.runs.map(line)].map((l) => l + '\n').join('');
  const header = {
    format: FORMAT,
    version: FORMAT_VERSION,
    codeVersion: file.experiment.codeVersion,
    createdAt: file.experiment.createdAt,
    runs: file.runs.length,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
  return gzipSync(line(header) + '\n' + body, { level: 9 });
}

/**
 * Reads and checks a file's bytes: decompression, the header, the checksum, then every line against the schema.
 * Any fault is a one-line UserError naming `name` (the file) and, for a bad value, the line and the field.
 */
export function decodeExperimentFile(bytes: Buffer, name: string): ExperimentFile {
  const bad = (why: string) => new UserError(`${name}: ${why}; nothing was imported.`);
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (err) {
    throw bad(`not a readable export file (gzip: ${(err as Error).message})`);
  }
  const newline = text.indexOf('\n');
  if (newline < 0) throw bad('no header line: the file is truncated or not an export file');
  const header = parse(text.slice(0, newline), 1, headerSchema, bad);
  const body = text.slice(newline + 1);
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (sha256 !== header.sha256) throw bad(`checksum mismatch (header ${header.sha256.slice(0, 12)}…, content ${sha256.slice(0, 12)}…): the file is damaged`);
  const lines = body.split('\n');
  if (lines.pop() !== '') throw bad('the last line is unterminated');
  if (lines.length !== header.runs + 1) throw bad(`the header announces ${header.runs} runs, the file holds ${lines.length - 1}`);
  const experiment = parse(lines[0] ?? '', 2, experimentSchema, bad);
  const runs = lines.slice(1).map((l, i) => parse(l, i + 3, header.version === 1 ? v1RunSchema : runSchema, bad));
  const seen = new Set<string>();
  for (const [i, run] of runs.entries()) {
    const key = `${run.model} run ${run.runIndex}`;
    if (seen.has(key)) throw bad(`line ${i + 3}: ${key} appears twice`);
    seen.add(key);
  }
  return { experiment, runs };
}

function parse<T extends z.ZodType>(text: string, lineNo: number, schema: T, bad: (why: string) => UserError): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad(`line ${lineNo} is not JSON (${(err as Error).message})`);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw bad(`line ${lineNo} does not match its schema`);
  const field =
    issue.path.length > 0
      ? issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '')
      : '(the line)';
  const what = lineNo === 1 ? 'the header' : lineNo === 2 ? 'the experiment' : 'run';
  const run = lineNo > 2 && value && typeof value === 'object' ? ` ${(value as { model?: unknown }).model} #${(value as { runIndex?: unknown }).runIndex}` : '';
  throw bad(`line ${lineNo} (${what}${run}), field ${field}: ${issue.message}`);
}
