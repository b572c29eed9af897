/**
 * The database schema, the single source of truth: `npm run db:generate` turns changes here into a new SQL
 * migration under db/migrations/, which every `openDatabase` applies.
 *
 * Tracking model: an experiment (one `orchestrate` invocation, resumable by name) has runs (a model trained once
 * with one seed), a run has per-epoch metrics (train and val), final evaluations (train, val, test), the ROC and
 * PR curves behind them and every image's predicted probability. The metrics are those of
 * study/metrics/definitions.ts: every table and view with one column per metric has its columns generated from that
 * list, so a metric added there reaches the database through `npm run db:generate` (docs/performance.md measures
 * this layout against one row per metric). The views aggregate completed runs per model (mean ± sample std) and
 * per image.
 */
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  type PgDoublePrecisionBuilderInitial,
  pgView,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
import { METRIC_NAMES, type MetricName, type ModelName, RUN_STATUSES, type RunSpec, type RunStatus, type Split } from '../study/run.ts';

export { RUN_STATUSES, type RunStatus };
export const CURVE_KINDS = ['roc', 'pr'] as const;
export type CurveKind = (typeof CURVE_KINDS)[number];

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

for (const m of METRIC_NAMES) if (!/^[a-z][a-z0-9_]*$/.test(m)) throw new Error(`metric name '${m}' is not a plain SQL identifier`);

/**
 * Nullable double columns named (in SQL and in TypeScript alike) by `names` for every metric of
 * study/metrics/definitions.ts, in the list's order. Nullable: a run recorded before a metric existed has none.
 */
function metricColumns<const T extends string>(names: (metric: MetricName) => T[]): Record<T, PgDoublePrecisionBuilderInitial<string>> {
  const columns = METRIC_NAMES.flatMap((m) => names(m).map((name) => [name, doublePrecision(name)]));
  return Object.fromEntries(columns) as unknown as Record<T, PgDoublePrecisionBuilderInitial<string>>;
}

export const experiments = pgTable('experiments', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull().unique(),
  config: jsonb('config').$type<Record<string, unknown>>().notNull(),
  datasetFingerprint: text('dataset_fingerprint'),
  datasetDir: text('dataset_dir'),
  codeVersion: text('code_version'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  finishedAt: timestamptz('finished_at'),
});

export const runs = pgTable(
  'runs',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    experimentId: integer('experiment_id')
      .notNull()
      .references(() => experiments.id, { onDelete: 'cascade' }),
    model: text('model').$type<ModelName>().notNull(),
    runIndex: integer('run_index').notNull(),
    /** For `-ft` models: the run of the base model with the same run index, whose best checkpoint it starts from. */
    baseRunId: integer('base_run_id').references((): AnyPgColumn => runs.id, { onDelete: 'cascade' }),
    status: text('status').$type<RunStatus>().notNull().default('pending'),
    seed: integer('seed').notNull(),
    spec: jsonb('spec').$type<RunSpec>().notNull(),
    /** The worker slot (GPU or CPU worker) that ran or runs it. */
    slot: text('slot'),
    /** The machine whose orchestrator ran or runs it (its host name). */
    host: text('host'),
    /**
     * The Slurm job of that orchestrator as squeue and scancel name it: `<array job id>_<task id>` for a task of an
     * array job, else the job id; null outside Slurm.
     */
    slurmJob: text('slurm_job'),
    backend: text('backend'),
    backendDetail: text('backend_detail'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    /** When the last event of the current attempt arrived. */
    lastEventAt: timestamptz('last_event_at'),
    /**
     * The orchestrator process that holds the run while it is `running` (`host:pid:random`), null otherwise. Only
     * the owner may record the run's events and outcome.
     */
    owner: text('owner'),
    /** The owner's last heartbeat: a running run whose heartbeat is older than the lease has a dead owner. */
    heartbeatAt: timestamptz('heartbeat_at'),
    durationSeconds: doublePrecision('duration_seconds'),
    bestEpoch: integer('best_epoch'),
    stoppedEarly: boolean('stopped_early'),
    checkpointDir: text('checkpoint_dir'),
    paramsTotal: integer('params_total'),
    paramsTrainable: integer('params_trainable'),
  },
  (t) => [
    unique('runs_experiment_model_run_index_key').on(t.experimentId, t.model, t.runIndex),
    index('runs_experiment_status_idx').on(t.experimentId, t.status),
    check('runs_status_check', sql`${t.status} in ('pending', 'running', 'completed', 'failed', 'interrupted')`),
  ],
);

/**
 * One row per run, epoch and split (train, val): a column per metric of study/metrics/definitions.ts (null where
 * the run was recorded before the metric existed).
 */
export const epochMetrics = pgTable(
  'epoch_metrics',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    epoch: integer('epoch').notNull(),
    split: text('split').$type<'train' | 'val'>().notNull(),
    ...metricColumns((m) => [m]),
    /** Wall time of the whole epoch (training and validation). */
    seconds: doublePrecision('seconds').notNull(),
    learningRate: doublePrecision('learning_rate').notNull(),
    /** Val ROC AUC improved at this epoch (the checkpoint was saved). */
    improved: boolean('improved').notNull(),
  },
  (t) => [
    primaryKey({ name: 'epoch_metrics_pkey', columns: [t.runId, t.epoch, t.split] }),
    check('epoch_metrics_split_check', sql`${t.split} in ('train', 'val')`),
  ],
);

/** The final evaluation of a run's best checkpoint, per split: every metric, and the confusion matrix at 0.5. */
export const evaluations = pgTable(
  'evaluations',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    split: text('split').$type<Split>().notNull(),
    n: integer('n').notNull(),
    ...metricColumns((m) => [m]),
    tp: integer('tp').notNull(),
    fp: integer('fp').notNull(),
    tn: integer('tn').notNull(),
    fn: integer('fn').notNull(),
  },
  (t) => [primaryKey({ name: 'evaluations_pkey', columns: [t.runId, t.split] }), check('evaluations_split_check', sql`${t.split} in ('train', 'val', 'test')`)],
);

/** ROC (x = false-positive rate, y = true-positive rate) and PR (x = recall, y = precision) curves. */
export const curvePoints = pgTable(
  'curve_points',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    split: text('split').$type<Split>().notNull(),
    kind: text('kind').$type<CurveKind>().notNull(),
    idx: integer('idx').notNull(),
    x: doublePrecision('x').notNull(),
    y: doublePrecision('y').notNull(),
    threshold: doublePrecision('threshold').notNull(),
  },
  (t) => [
    primaryKey({ name: 'curve_points_pkey', columns: [t.runId, t.split, t.kind, t.idx] }),
    check('curve_points_kind_check', sql`${t.kind} in ('roc', 'pr')`),
  ],
);

/**
 * The best checkpoint's predicted probability of melanoma for every image of every split (the numbers the final
 * evaluation and its curves come from). `image` is the path in the dataset, e.g. 'test/malignant/1.jpg'; float32,
 * as the model computed it.
 */
export const predictions = pgTable(
  'predictions',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    split: text('split').$type<Split>().notNull(),
    image: text('image').notNull(),
    label: smallint('label').$type<0 | 1>().notNull(),
    probability: real('probability').notNull(),
  },
  (t) => [
    primaryKey({ name: 'predictions_pkey', columns: [t.runId, t.split, t.image] }),
    check('predictions_split_check', sql`${t.split} in ('train', 'val', 'test')`),
    check('predictions_label_check', sql`${t.label} in (0, 1)`),
  ],
);

/**
 * How well a COMPLETED run's probabilities are calibrated (study/probability-calibration.ts), per split (val, test),
 * from its stored predictions: Brier score and expected calibration error (10 equal-width bins of p), before and
 * after temperature scaling with the temperature fitted on the run's val split (the same on both rows; null, and
 * the scaled numbers with it, when val lacks a class). Written with the run's final evaluations, and for runs
 * stored before this table from their predictions when the database is opened (db/calibration.ts).
 */
export const runCalibrations = pgTable(
  'run_calibrations',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    split: text('split').$type<'val' | 'test'>().notNull(),
    n: integer('n').notNull(),
    brier: doublePrecision('brier').notNull(),
    ece: doublePrecision('ece').notNull(),
    temperature: doublePrecision('temperature'),
    brierScaled: doublePrecision('brier_scaled'),
    eceScaled: doublePrecision('ece_scaled'),
  },
  (t) => [
    primaryKey({ name: 'run_calibrations_pkey', columns: [t.runId, t.split] }),
    check('run_calibrations_split_check', sql`${t.split} in ('val', 'test')`),
  ],
);

/** `log` events of a run (messages from the worker), in arrival order. */
export const runLogs = pgTable(
  'run_logs',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    loggedAt: timestamptz('logged_at').notNull().defaultNow(),
    message: text('message').notNull(),
  },
  (t) => [index('run_logs_run_id_idx').on(t.runId)],
);

/**
 * Every attempt of a run that failed, with its error: a retried run keeps the errors of its earlier attempts here
 * (runs.error holds the last one only and is cleared when the run is claimed again). `retried` says whether the
 * run went back to the queue after it; a failure that would repeat (bad data, a bad flag) is not retried.
 */
export const failedAttempts = pgTable(
  'failed_attempts',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    slot: text('slot'),
    failedAt: timestamptz('failed_at').notNull().defaultNow(),
    error: text('error').notNull(),
    retried: boolean('retried').notNull(),
  },
  (t) => [primaryKey({ name: 'failed_attempts_pkey', columns: [t.runId, t.attempt] })],
);

/**
 * Long format: one row per experiment, model, split and metric over the final evaluations of COMPLETED runs.
 * `stddev` is the sample standard deviation (n - 1), null for a single run; `n` counts the runs with the metric.
 */
export const metricSummary = pgView('metric_summary', {
  experimentId: integer('experiment_id').notNull(),
  experiment: text('experiment').notNull(),
  model: text('model').$type<ModelName>().notNull(),
  split: text('split').$type<Split>().notNull(),
  metric: text('metric').$type<MetricName>().notNull(),
  n: integer('n').notNull(),
  mean: doublePrecision('mean').notNull(),
  stddev: doublePrecision('stddev'),
  min: doublePrecision('min').notNull(),
  max: doublePrecision('max').notNull(),
}).as(sql`
  select r.experiment_id, e.name as experiment, r.model, ev.split, m.metric,
         count(*)::integer as n, avg(m.value) as mean, stddev_samp(m.value) as stddev,
         min(m.value) as min, max(m.value) as max
  from evaluations ev
  join runs r on r.id = ev.run_id
  join experiments e on e.id = r.experiment_id
  cross join lateral (values ${sql.raw(METRIC_NAMES.map((m) => `('${m}', ev."${m}")`).join(', '))}) as m(metric, value)
  where r.status = 'completed' and m.value is not null
  group by r.experiment_id, e.name, r.model, ev.split, m.metric
`);

/**
 * Wide format of metric_summary: one row per experiment, model and split; `<metric>_mean` and `<metric>_std` for
 * every metric of study/metrics/definitions.ts (over the runs that have it).
 */
export const metricSummaryWide = pgView('metric_summary_wide', {
  experimentId: integer('experiment_id').notNull(),
  experiment: text('experiment').notNull(),
  model: text('model').$type<ModelName>().notNull(),
  split: text('split').$type<Split>().notNull(),
  n: integer('n').notNull(),
  ...metricColumns((m) => [`${m}_mean`, `${m}_std`]),
}).as(sql`
  select r.experiment_id, e.name as experiment, r.model, ev.split, count(*)::integer as n,
         ${sql.raw(METRIC_NAMES.map((m) => `avg(ev."${m}") as "${m}_mean", stddev_samp(ev."${m}") as "${m}_std"`).join(',\n         '))}
  from evaluations ev
  join runs r on r.id = ev.run_id
  join experiments e on e.id = r.experiment_id
  where r.status = 'completed'
  group by r.experiment_id, e.name, r.model, ev.split
`);

/**
 * One row per experiment, model, split and image over the COMPLETED runs: how many runs classified it wrongly at
 * 0.5 (positive when p > 0.5) and the mean and sample std of its probability, e.g. the melanomas every run missed.
 */
export const imageSummary = pgView('image_summary', {
  experimentId: integer('experiment_id').notNull(),
  model: text('model').$type<ModelName>().notNull(),
  split: text('split').$type<Split>().notNull(),
  image: text('image').notNull(),
  label: smallint('label').$type<0 | 1>().notNull(),
  n: integer('n').notNull(),
  wrong: integer('wrong').notNull(),
  meanProbability: doublePrecision('mean_probability').notNull(),
  stdProbability: doublePrecision('std_probability'),
}).as(sql`
  select r.experiment_id, r.model, p.split, p.image, p.label, count(*)::integer as n,
         (count(*) filter (where (p.probability > 0.5) <> (p.label = 1)))::integer as wrong,
         avg(p.probability::double precision) as mean_probability,
         stddev_samp(p.probability::double precision) as std_probability
  from predictions p
  join runs r on r.id = p.run_id
  where r.status = 'completed'
  group by r.experiment_id, r.model, p.split, p.image, p.label
`);

/** One row per run: where it stands and its headline numbers (`test_<metric>` for every metric). */
export const runOverview = pgView('run_overview', {
  runId: integer('run_id').notNull(),
  experimentId: integer('experiment_id').notNull(),
  experiment: text('experiment').notNull(),
  model: text('model').$type<ModelName>().notNull(),
  runIndex: integer('run_index').notNull(),
  seed: integer('seed').notNull(),
  status: text('status').$type<RunStatus>().notNull(),
  slot: text('slot'),
  backend: text('backend'),
  attempts: integer('attempts').notNull(),
  epochs: integer('epochs').notNull(),
  bestEpoch: integer('best_epoch'),
  stoppedEarly: boolean('stopped_early'),
  startedAt: timestamptz('started_at'),
  finishedAt: timestamptz('finished_at'),
  durationSeconds: doublePrecision('duration_seconds'),
  valRocAuc: doublePrecision('val_roc_auc'),
  ...metricColumns((m) => [`test_${m}`]),
  error: text('error'),
}).as(sql`
  select r.id as run_id, r.experiment_id, e.name as experiment, r.model, r.run_index, r.seed, r.status,
         r.slot, r.backend, r.attempts,
         (select count(*)::integer from epoch_metrics em where em.run_id = r.id and em.split = 'val') as epochs,
         r.best_epoch, r.stopped_early, r.started_at, r.finished_at, r.duration_seconds,
         val.roc_auc as val_roc_auc,
         ${sql.raw(METRIC_NAMES.map((m) => `test."${m}" as "test_${m}"`).join(', '))},
         r.error
  from runs r
  join experiments e on e.id = r.experiment_id
  left join evaluations val on val.run_id = r.id and val.split = 'val'
  left join evaluations test on test.run_id = r.id and test.split = 'test'
`);

/**
 * Mean and sample std over the COMPLETED runs of run_calibrations, per experiment, model and split: Brier score,
 * ECE and the val-fitted temperature, before and after temperature scaling.
 */
export const calibrationSummary = pgView('calibration_summary', {
  experimentId: integer('experiment_id').notNull(),
  experiment: text('experiment').notNull(),
  model: text('model').$type<ModelName>().notNull(),
  split: text('split').$type<'val' | 'test'>().notNull(),
  n: integer('n').notNull(),
  brierMean: doublePrecision('brier_mean').notNull(),
  brierStd: doublePrecision('brier_std'),
  eceMean: doublePrecision('ece_mean').notNull(),
  eceStd: doublePrecision('ece_std'),
  temperatureMean: doublePrecision('temperature_mean'),
  temperatureStd: doublePrecision('temperature_std'),
  brierScaledMean: doublePrecision('brier_scaled_mean'),
  brierScaledStd: doublePrecision('brier_scaled_std'),
  eceScaledMean: doublePrecision('ece_scaled_mean'),
  eceScaledStd: doublePrecision('ece_scaled_std'),
}).as(sql`
  select r.experiment_id, e.name as experiment, r.model, c.split, count(*)::integer as n,
         avg(c.brier) as brier_mean, stddev_samp(c.brier) as brier_std,
         avg(c.ece) as ece_mean, stddev_samp(c.ece) as ece_std,
         avg(c.temperature) as temperature_mean, stddev_samp(c.temperature) as temperature_std,
         avg(c.brier_scaled) as brier_scaled_mean, stddev_samp(c.brier_scaled) as brier_scaled_std,
         avg(c.ece_scaled) as ece_scaled_mean, stddev_samp(c.ece_scaled) as ece_scaled_std
  from run_calibrations c
  join runs r on r.id = c.run_id
  join experiments e on e.id = r.experiment_id
  where r.status = 'completed'
  group by r.experiment_id, e.name, r.model, c.split
`);
