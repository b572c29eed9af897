/**
 * The reads behind the JSON API, shaped for the page: db/'s query functions where they exist (metric_summary,
 * run_overview, a run's epochs, evaluations, curves, predictions and logs, image_summary), plain SQL over
 * db/schema.ts for the rest (experiment list with run counts, models and times; per-epoch mean ± std bands; the
 * predictions behind a model's ensemble, scored by study/metrics). SELECTs only: the web page never writes.
 * Every function returns null for an unknown id.
 */
import * as store from '../db/index.ts';
import type { Database } from '../db/index.ts';
import {
  describeSource, isProtocolName, LEGACY_PROTOCOL, resolveProtocol, settingRows, type Overrides, type ProtocolName, type ResolvedProtocol,
} from '../study/protocol.ts';
import {
  DECISION_RULE, OPERATING_POINT_DEFINITION, modelsAtThreshold, operatingPoints, operatingPointsReport, type ModelAtThreshold,
  type OperatingPoint, type OperatingPointsReport,
} from '../study/operating-points.ts';
import { evaluateBinary } from '../study/metrics/index.ts';
import { METRIC_NAMES, MODEL_NAMES, type ConfusionMatrix, type MetricName, type ModelName, type Split } from '../study/run.ts';

type Row = Record<string, unknown>;

/** A metric as JSON: NaN (e.g. the ROC AUC of a split with one class) and missing values become null. */
export type Num = number | null;
export type NullableMetrics = Record<MetricName, Num>;

export interface RunCounts {
  total: number;
  /** Completed runs. */
  done: number;
  failed: number;
  running: number;
  pending: number;
  interrupted: number;
}

/** 'running' while a run runs; 'incomplete' when runs are left pending or interrupted; 'empty' without runs. */
export type ExperimentStatus = 'running' | 'incomplete' | 'completed' | 'empty';

export interface ExperimentListItem {
  id: number;
  name: string;
  status: ExperimentStatus;
  dataDir: string | null;
  datasetFingerprint: string | null;
  models: ModelName[];
  counts: RunCounts;
  createdAt: string;
  /** First run start (null before any run started). */
  startedAt: string | null;
  finishedAt: string | null;
  /** From the first run start to the experiment's end, or to now while it runs. */
  seconds: number | null;
}

export interface RunRow {
  id: number;
  model: ModelName;
  repeat: number;
  seed: number;
  status: string;
  slot: string | null;
  gpu: number | null;
  backend: string | null;
  attempts: number;
  epochs: number;
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  valRocAuc: Num;
  test: NullableMetrics | null;
  error: string | null;
}

export interface ExperimentDetail extends ExperimentSettings {
  runs: RunRow[];
  protocol: ExperimentProtocol;
}

/** The protocol an experiment ran, as the page shows it: one row per model of the experiment and setting. */
export interface ExperimentProtocol {
  name: ProtocolName;
  /** Recorded before protocols: its runs followed the legacy protocol, whose settings are shown. */
  legacy: boolean;
  overrides: Overrides;
  rows: { model: ModelName; setting: string; value: string; source: string; kind: 'article' | 'choice' | 'override' }[];
}

/** The stored protocol of an experiment (config.protocol), or the legacy protocol's for one recorded before protocols. */
export function experimentProtocol(config: Record<string, unknown>, models: readonly ModelName[]): ExperimentProtocol {
  const stored = config.protocol as Partial<ResolvedProtocol> | undefined;
  const legacy = !stored || !isProtocolName(stored.name) || !stored.models;
  const resolved: ResolvedProtocol = legacy
    ? resolveProtocol(LEGACY_PROTOCOL, {
        epochs: typeof config.epochs === 'number' ? config.epochs : undefined,
        imageSize: typeof config.imageSize === 'number' ? config.imageSize : undefined,
        batchSize: typeof config.batchSize === 'number' ? config.batchSize : undefined,
      })
    : (stored as ResolvedProtocol);
  const shown = models.filter((m) => resolved.models[m] !== undefined);
  return {
    name: resolved.name,
    legacy,
    overrides: resolved.overrides ?? {},
    rows: settingRows(resolved.models, shown).map((r) => ({
      model: r.model,
      setting: r.setting.trim(),
      value: r.value,
      source: describeSource(r.source),
      kind: 'article' in r.source ? 'article' : 'choice' in r.source ? 'choice' : 'override',
    })),
  };
}

export interface SummaryRow {
  model: ModelName;
  split: Split;
  metric: MetricName;
  n: number;
  mean: Num;
  /** Sample standard deviation; null for a single run. */
  std: Num;
  min: Num;
  max: Num;
}

export interface SplitEvaluationRow {
  split: Split;
  n: number;
  metrics: NullableMetrics;
  confusion: ConfusionMatrix;
}

export interface RunDetail {
  id: number;
  experimentId: number;
  experimentName: string;
  model: ModelName;
  repeat: number;
  baseRunId: number | null;
  status: string;
  seed: number;
  spec: Record<string, unknown>;
  slot: string | null;
  gpu: number | null;
  backend: string | null;
  backendDetail: string | null;
  attempts: number;
  params: { total: number; trainable: number } | null;
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  checkpointDir: string | null;
  datasetFingerprint: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  lastEventAt: string | null;
  /** The owning process's last heartbeat (every 5 s while it holds the run). */
  heartbeatAt: string | null;
  seconds: number | null;
  error: string | null;
  evaluations: SplitEvaluationRow[];
  /** The latest log messages of the run (at most 50), oldest first. */
  logs: { at: string; attempt: number; message: string }[];
  /** Every failed attempt of the run, oldest first, with its error and whether the run was tried again. */
  failedAttempts: { attempt: number; at: string; slot: string | null; retried: boolean; error: string }[];
}

export interface EpochRow {
  epoch: number;
  train: NullableMetrics | null;
  val: NullableMetrics | null;
  seconds: number;
  learningRate: number;
  /** Val ROC AUC improved: the checkpoint was saved at this epoch. */
  improved: boolean;
}

export interface RunEpochs {
  runId: number;
  status: string;
  /** The run's best epoch, or while it trains the last epoch that improved. */
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  epochs: EpochRow[];
}

export interface CurveRow {
  split: Split;
  kind: 'roc' | 'pr';
  auc: Num;
  x: number[];
  y: number[];
  thresholds: number[];
}

export interface BandPoint {
  epoch: number;
  /** Runs that reached this epoch. */
  n: number;
  mean: Num;
  std: Num;
}

export interface CompareView {
  experimentId: number;
  model: ModelName;
  /** Every run of the model with its history (failed ones too, for the overlay). */
  runs: { id: number; repeat: number; status: string; bestEpoch: number | null; stoppedEarly: boolean | null; epochs: EpochRow[] }[];
  /** Mean and sample std per epoch over the completed and running runs, per split and metric. */
  bands: Record<'train' | 'val', Record<MetricName, BandPoint[]>>;
}

const num = (v: unknown): Num => {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
};
const int = (v: unknown): number => Number(v);
const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const modelOrder = (m: string) => {
  const i = MODEL_NAMES.indexOf(m as ModelName);
  return i < 0 ? MODEL_NAMES.length : i;
};

/** Seconds between two instants; `to` null means now. */
function secondsBetween(from: string | null, to: string | null): number | null {
  if (!from) return null;
  const end = to ? Date.parse(to) : Date.now();
  return Math.max(0, (end - Date.parse(from)) / 1000);
}

export async function experimentExists(d: Database, id: number): Promise<boolean> {
  return (await d.query('select 1 from experiments where id = $1', [id])).length > 0;
}

/** The first of `ids` that is no experiment, or undefined when all are. */
export async function firstUnknownExperiment(d: Database, ids: number[]): Promise<number | undefined> {
  const found = await d.query<{ id: number }>('select id from experiments where id = any($1::integer[])', [ids]);
  const known = new Set(found.map((r) => int(r.id)));
  return ids.find((id) => !known.has(id));
}

/** The experiment's first model in the study's order (for the compare page without ?model=). */
export function firstModel(d: Database, experimentId: number): Promise<{ model: ModelName }[]> {
  return d.query(
    `select model from runs where experiment_id = $1
     order by array_position($2::text[], model), model limit 1`,
    [experimentId, [...MODEL_NAMES]],
  );
}

export async function runExists(d: Database, id: number): Promise<boolean> {
  return (await d.query('select 1 from runs where id = $1', [id])).length > 0;
}

const EXPERIMENT_SQL = `
  select e.id, e.name, e.config, e.code_version, e.dataset_dir, e.dataset_fingerprint, e.created_at, e.finished_at,
         count(r.id)::integer as total,
         (count(*) filter (where r.status = 'completed'))::integer as done,
         (count(*) filter (where r.status = 'failed'))::integer as failed,
         (count(*) filter (where r.status = 'running'))::integer as running,
         (count(*) filter (where r.status = 'pending'))::integer as pending,
         (count(*) filter (where r.status = 'interrupted'))::integer as interrupted,
         min(r.started_at) as first_start,
         max(r.finished_at) as last_finish,
         coalesce(array_agg(distinct r.model) filter (where r.model is not null), '{}') as models
  from experiments e
  left join runs r on r.experiment_id = e.id`;

function experimentItem(r: Row): ExperimentSettings {
  const counts: RunCounts = {
    total: int(r.total),
    done: int(r.done),
    failed: int(r.failed),
    running: int(r.running),
    pending: int(r.pending),
    interrupted: int(r.interrupted),
  };
  const status: ExperimentStatus =
    counts.total === 0 ? 'empty' : counts.running > 0 ? 'running' : counts.pending + counts.interrupted > 0 ? 'incomplete' : 'completed';
  const startedAt = iso(r.first_start);
  const finishedAt = iso(r.finished_at);
  const end = status === 'running' ? null : (finishedAt ?? iso(r.last_finish));
  const models = (Array.isArray(r.models) ? (r.models as string[]) : []).sort((a, b) => modelOrder(a) - modelOrder(b)) as ModelName[];
  return {
    id: int(r.id),
    name: String(r.name),
    status,
    dataDir: text(r.dataset_dir),
    datasetFingerprint: text(r.dataset_fingerprint),
    models,
    counts,
    createdAt: iso(r.created_at)!,
    startedAt,
    finishedAt,
    seconds: status === 'running' || end ? secondsBetween(startedAt, end) : null,
    config: (r.config ?? {}) as Record<string, unknown>,
    codeVersion: text(r.code_version),
  };
}

export async function listExperiments(d: Database): Promise<ExperimentListItem[]> {
  const rows = await d.query(`${EXPERIMENT_SQL} group by e.id order by e.created_at desc, e.id desc`);
  return rows.map((r) => {
    const { config: _config, codeVersion: _codeVersion, ...item } = experimentItem(r);
    return item;
  });
}

export async function getExperiment(d: Database, id: number): Promise<ExperimentDetail | null> {
  const [row] = await d.query(`${EXPERIMENT_SQL} where e.id = $1 group by e.id`, [id]);
  if (!row) return null;
  const runs = await store.listRuns(d, id);
  const gpus = await d.query<{ id: number; gpu: number | null }>(`select id, (spec->>'gpu')::integer as gpu from runs where experiment_id = $1`, [id]);
  const gpuOf = new Map(gpus.map((g) => [int(g.id), g.gpu === null ? null : int(g.gpu)]));
  const runRows: RunRow[] = runs.map((r) => {
    const startedAt = iso(r.startedAt);
    return {
      id: r.runId,
      model: r.model,
      repeat: r.runIndex,
      seed: r.seed,
      status: r.status,
      slot: r.slot,
      gpu: gpuOf.get(r.runId) ?? null,
      backend: r.backend,
      attempts: r.attempts,
      epochs: r.epochs,
      bestEpoch: r.bestEpoch,
      stoppedEarly: r.stoppedEarly,
      startedAt,
      finishedAt: iso(r.finishedAt),
      seconds: num(r.durationSeconds) ?? (r.status === 'running' ? secondsBetween(startedAt, null) : null),
      valRocAuc: num(r.valRocAuc),
      test:
        r.testLoss === null
          ? null
          : { loss: num(r.testLoss), accuracy: num(r.testAccuracy), precision: num(r.testPrecision), recall: num(r.testRecall), roc_auc: num(r.testRocAuc), pr_auc: num(r.testPrAuc) },
      error: r.error,
    };
  });
  const item = experimentItem(row);
  return { ...item, runs: runRows, protocol: experimentProtocol(item.config, item.models) };
}

const summaryRow = (r: store.MetricSummaryRow): SummaryRow => ({
  model: r.model,
  split: r.split,
  metric: r.metric as MetricName,
  n: r.n,
  mean: num(r.mean),
  std: num(r.stddev),
  min: num(r.min),
  max: num(r.max),
});

export async function experimentSummary(d: Database, id: number): Promise<{ experimentId: number; rows: SummaryRow[] } | null> {
  if (!(await experimentExists(d, id))) return null;
  return { experimentId: id, rows: (await store.experimentSummary(d, id)).map(summaryRow) };
}

export interface ExperimentSettings extends ExperimentListItem {
  config: Record<string, unknown>;
  codeVersion: string | null;
}

export interface ExperimentComparison {
  /** In the order asked for. */
  experiments: ExperimentSettings[];
  rows: (SummaryRow & { experimentId: number })[];
}

/** Experiments side by side: each one's settings and its summary (metric_summary). Null if one id is no experiment. */
export async function compareExperiments(d: Database, ids: number[]): Promise<ExperimentComparison | null> {
  const found = await d.query(`${EXPERIMENT_SQL} where e.id = any($1::integer[]) group by e.id`, [ids]);
  const byId = new Map(found.map((r) => [int(r.id), experimentItem(r)]));
  if (ids.some((id) => !byId.has(id))) return null;
  const summaries = await Promise.all(ids.map(async (id) => (await store.experimentSummary(d, id)).map((r) => ({ experimentId: id, ...summaryRow(r) }))));
  return { experiments: ids.map((id) => byId.get(id)!), rows: summaries.flat() };
}

const LOG_LINES = 50;

export async function getRun(d: Database, id: number): Promise<RunDetail | null> {
  const r = await store.getRun(d, id);
  if (!r) return null;
  const [evals, logs, failures, [experiment]] = await Promise.all([
    store.runEvaluations(d, id),
    store.runLogMessages(d, id),
    store.runFailedAttempts(d, id),
    d.query('select dataset_fingerprint from experiments where id = $1', [r.experimentId]),
  ]);
  const spec = r.spec as unknown as Record<string, unknown>;
  const startedAt = iso(r.startedAt);
  return {
    id: r.id,
    experimentId: r.experimentId,
    experimentName: r.experiment,
    model: r.model,
    repeat: r.runIndex,
    baseRunId: r.baseRunId,
    status: r.status,
    seed: r.seed,
    spec,
    slot: r.slot,
    gpu: typeof spec.gpu === 'number' ? spec.gpu : null,
    backend: r.backend,
    backendDetail: r.backendDetail,
    attempts: r.attempts,
    params: r.paramsTotal === null ? null : { total: r.paramsTotal, trainable: r.paramsTrainable ?? 0 },
    bestEpoch: r.bestEpoch,
    stoppedEarly: r.stoppedEarly,
    checkpointDir: r.checkpointDir,
    datasetFingerprint: text(experiment?.dataset_fingerprint),
    startedAt,
    finishedAt: iso(r.finishedAt),
    lastEventAt: iso(r.lastEventAt),
    heartbeatAt: iso(r.heartbeatAt),
    seconds: num(r.durationSeconds) ?? (r.status === 'running' ? secondsBetween(startedAt, null) : null),
    error: r.error,
    evaluations: evals.map((e) => ({
      split: e.split,
      n: e.n,
      metrics: { loss: num(e.loss), accuracy: num(e.accuracy), precision: num(e.precision), recall: num(e.recall), roc_auc: num(e.rocAuc), pr_auc: num(e.prAuc) },
      confusion: { tp: e.tp, fp: e.fp, tn: e.tn, fn: e.fn },
    })),
    logs: logs.slice(-LOG_LINES).map((l) => ({ at: iso(l.loggedAt)!, attempt: l.attempt, message: l.message })),
    failedAttempts: failures.map((f) => ({ attempt: f.attempt, at: iso(f.failedAt)!, slot: f.slot, retried: f.retried, error: f.error })),
  };
}

/** Epoch rows (one per epoch and split, ordered by epoch) → one entry per epoch with its train and val metrics. */
function groupEpochs(rows: store.EpochMetricsRow[]): EpochRow[] {
  const list: EpochRow[] = [];
  for (const r of rows) {
    let e = list.at(-1);
    if (!e || e.epoch !== r.epoch) {
      e = { epoch: r.epoch, train: null, val: null, seconds: r.seconds, learningRate: r.learningRate, improved: false };
      list.push(e);
    }
    const split = r.split as 'train' | 'val';
    e[split] = { loss: num(r.loss), accuracy: num(r.accuracy), precision: num(r.precision), recall: num(r.recall), roc_auc: num(r.rocAuc), pr_auc: num(r.prAuc) };
    if (split === 'val') e.improved = r.improved;
  }
  return list;
}

function currentBest(bestEpoch: number | null, epochs: EpochRow[]): number | null {
  if (bestEpoch !== null) return bestEpoch;
  return epochs.filter((e) => e.improved).at(-1)?.epoch ?? null;
}

export async function runEpochs(d: Database, id: number): Promise<RunEpochs | null> {
  const r = await store.getRun(d, id);
  if (!r) return null;
  const epochs = groupEpochs(await store.runEpochs(d, id));
  return { runId: id, status: r.status, bestEpoch: currentBest(r.bestEpoch, epochs), stoppedEarly: r.stoppedEarly, epochs };
}

export async function runCurves(d: Database, id: number): Promise<{ runId: number; curves: CurveRow[] } | null> {
  if (!(await runExists(d, id))) return null;
  const [curves, evals] = await Promise.all([store.runCurves(d, id), store.runEvaluations(d, id)]);
  return {
    runId: id,
    curves: curves.map((c) => {
      const e = evals.find((x) => x.split === c.split);
      return { split: c.split, kind: c.kind, auc: e ? num(c.kind === 'roc' ? e.rocAuc : e.prAuc) : null, x: c.x, y: c.y, thresholds: c.thresholds };
    }),
  };
}

export async function compareRuns(d: Database, experimentId: number, model: ModelName): Promise<CompareView | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  const runs = (await store.listRuns(d, experimentId)).filter((r) => r.model === model);
  const rows = await store.runsEpochs(d, runs.map((r) => r.runId));
  const epochs = runs.map((r) => groupEpochs(rows.filter((e) => e.runId === r.runId)));
  const bands = (await epochBands(d, experimentId, model)).get(model) ?? emptyBands();
  return {
    experimentId,
    model,
    runs: runs.map((r, i) => ({
      id: r.runId,
      repeat: r.runIndex,
      status: r.status,
      bestEpoch: currentBest(r.bestEpoch, epochs[i]),
      stoppedEarly: r.stoppedEarly,
      epochs: epochs[i],
    })),
    bands,
  };
}


type Bands = CompareView['bands'];
const emptyBands = (): Bands =>
  Object.fromEntries((['train', 'val'] as const).map((split) => [split, Object.fromEntries(METRIC_NAMES.map((m) => [m, []]))])) as unknown as Bands;

/**
 * Mean and sample std per epoch of every metric, per model and split, over the completed and running runs of an
 * experiment (of one model when given).
 */
async function epochBands(d: Database, experimentId: number, model?: ModelName): Promise<Map<ModelName, Bands>> {
  const bandRows = await d.query(
    `select r.model, em.split, em.epoch, count(*)::integer as n,
            avg(em.loss) as loss_mean, stddev_samp(em.loss) as loss_std,
            avg(em.accuracy) as accuracy_mean, stddev_samp(em.accuracy) as accuracy_std,
            avg(em.precision) as precision_mean, stddev_samp(em.precision) as precision_std,
            avg(em.recall) as recall_mean, stddev_samp(em.recall) as recall_std,
            avg(em.roc_auc) as roc_auc_mean, stddev_samp(em.roc_auc) as roc_auc_std,
            avg(em.pr_auc) as pr_auc_mean, stddev_samp(em.pr_auc) as pr_auc_std
     from epoch_metrics em
     join runs r on r.id = em.run_id
     where r.experiment_id = $1 and ($2::text is null or r.model = $2) and r.status in ('completed', 'running')
     group by r.model, em.split, em.epoch
     order by r.model, em.split, em.epoch`,
    [experimentId, model ?? null],
  );
  const out = new Map<ModelName, Bands>();
  for (const b of bandRows) {
    const m = b.model as ModelName;
    if (!out.has(m)) out.set(m, emptyBands());
    const bands = out.get(m)!;
    for (const metric of METRIC_NAMES) {
      bands[b.split as 'train' | 'val'][metric].push({ epoch: int(b.epoch), n: int(b.n), mean: num(b[`${metric}_mean`]), std: num(b[`${metric}_std`]) });
    }
  }
  return out;
}

export interface ExperimentBands {
  experimentId: number;
  /** Per model (the study's order): completed and running runs with epochs, and their mean ± std per epoch. */
  models: { model: ModelName; runs: number; bands: Bands }[];
}

/** Every model's mean ± std bands per epoch (the all-models chart of the experiment page). */
export async function experimentBands(d: Database, experimentId: number): Promise<ExperimentBands | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  const [bands, counts] = await Promise.all([
    epochBands(d, experimentId),
    d.query<{ model: ModelName; runs: number }>(
      `select r.model, count(distinct r.id)::integer as runs from runs r join epoch_metrics em on em.run_id = r.id
       where r.experiment_id = $1 and r.status in ('completed', 'running') group by r.model`,
      [experimentId],
    ),
  ]);
  return {
    experimentId,
    models: [...bands]
      .sort(([a], [b]) => modelOrder(a) - modelOrder(b))
      .map(([model, b]) => ({ model, runs: counts.find((c) => c.model === model)?.runs ?? 0, bands: b })),
  };
}

export interface PredictionsView {
  runId: number;
  split: Split;
  /** The fingerprint of the dataset the run was evaluated on (its experiment's). */
  datasetFingerprint: string;
  predictions: { image: string; label: 0 | 1; probability: number }[];
}

/** Every image's probability in one split of a run (empty for runs stored before predictions were). */
export async function runPredictions(d: Database, id: number, split: Split): Promise<PredictionsView | null> {
  const [row] = await d.query<{ fp: string }>(
    'select e.dataset_fingerprint as fp from runs r join experiments e on e.id = r.experiment_id where r.id = $1',
    [id],
  );
  if (!row) return null;
  return { runId: id, split, datasetFingerprint: row.fp, predictions: await store.runPredictions(d, id, split) };
}

export interface MisclassifiedView {
  experimentId: number;
  model: ModelName;
  split: Split;
  datasetFingerprint: string;
  /** Completed runs of the model with predictions stored for the split. */
  runs: number;
  images: { image: string; label: 0 | 1; n: number; wrong: number; meanProbability: number; stdProbability: Num }[];
}

/** The images of a split that the completed runs of a model get wrong most often (image_summary). */
export async function misclassified(
  d: Database,
  experimentId: number,
  model: ModelName,
  split: Split,
  limit: number,
): Promise<MisclassifiedView | null> {
  const [row] = await d.query<{ fp: string }>('select dataset_fingerprint as fp from experiments where id = $1', [experimentId]);
  if (!row) return null;
  const [counted] = await d.query<{ n: number }>(
    `select count(distinct p.run_id)::integer as n from predictions p join runs r on r.id = p.run_id
     where r.experiment_id = $1 and r.model = $2 and p.split = $3 and r.status = 'completed'`,
    [experimentId, model, split],
  );
  const rows = await store.hardestImages(d, experimentId, model, split, limit);
  return {
    experimentId,
    model,
    split,
    datasetFingerprint: row.fp,
    runs: counted.n,
    images: rows.map((r) => ({
      image: r.image,
      label: r.label,
      n: r.n,
      wrong: r.wrong,
      meanProbability: r.meanProbability,
      stdProbability: num(r.stdProbability),
    })),
  };
}

export interface EnsembleView {
  experimentId: number;
  split: Split;
  /** Per model: the metrics of each image's mean probability over the model's completed runs with predictions. */
  models: { model: ModelName; runs: number; n: number; metrics: NullableMetrics; confusion: ConfusionMatrix }[];
}

/**
 * The ensemble of a model's repeated runs: each image's probability averaged over the completed runs, scored by
 * the same metric code as every run (study/metrics). Images some run lacks are left out.
 */
export async function ensemble(d: Database, experimentId: number, split: Split): Promise<EnsembleView | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  // Averaged in SQL: one row per model and image instead of one per run and image (3,297 per run).
  const rows = await d.query<{ model: ModelName; runs: number; label: number; probability: number }>(
    `with p as (
       select r.model, p.run_id, p.image, p.label, p.probability::double precision as probability
       from predictions p join runs r on r.id = p.run_id
       where r.experiment_id = $1 and r.status = 'completed' and p.split = $2
     ), per_model as (select model, count(distinct run_id)::integer as runs from p group by model)
     select p.model, m.runs, min(p.label)::integer as label, avg(p.probability) as probability
     from p join per_model m on m.model = p.model
     group by p.model, m.runs, p.image
     having count(*) = m.runs
     order by p.model, p.image`,
    [experimentId, split],
  );
  const byModel = new Map<ModelName, { runs: number; labels: number[]; probabilities: number[] }>();
  for (const r of rows) {
    let m = byModel.get(r.model);
    if (!m) {
      m = { runs: int(r.runs), labels: [], probabilities: [] };
      byModel.set(r.model, m);
    }
    m.labels.push(int(r.label));
    m.probabilities.push(Number(r.probability));
  }
  const models = [...byModel]
    .sort(([a], [b]) => MODEL_NAMES.indexOf(a) - MODEL_NAMES.indexOf(b))
    .map(([model, m]) => {
      const e = evaluateBinary(m.labels, m.probabilities);
      const metrics = Object.fromEntries(METRIC_NAMES.map((k) => [k, num(e.metrics[k])])) as NullableMetrics;
      return { model, runs: m.runs, n: m.labels.length, metrics, confusion: e.confusion };
    });
  return { experimentId, split, models };
}

// Operating points (study/operating-points.ts): thresholds chosen on val for a target specificity or sensitivity,
// measured on test; and every model at a threshold the reader picks.

export type ExperimentOperatingPoints = { experimentId: number } & OperatingPointsReport;

export async function experimentOperatingPoints(d: Database, experimentId: number): Promise<ExperimentOperatingPoints | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  return { experimentId, ...operatingPointsReport(await store.completedRunScores(d, experimentId, ['val', 'test'])) };
}

export interface ExperimentAtThreshold {
  experimentId: number;
  split: Split;
  threshold: number;
  rule: string;
  models: ModelAtThreshold[];
}

export async function experimentAtThreshold(d: Database, experimentId: number, split: Split, threshold: number): Promise<ExperimentAtThreshold | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  const runs = await store.completedRunScores(d, experimentId, [split]);
  return { experimentId, split, threshold, rule: DECISION_RULE, models: modelsAtThreshold(runs, split, threshold) };
}

export interface RunOperatingPoints {
  runId: number;
  rule: string;
  definition: string;
  /** Empty while the run has no val and test predictions (not finished, or recorded before predictions were kept). */
  points: OperatingPoint[];
}

export async function runOperatingPoints(d: Database, id: number): Promise<RunOperatingPoints | null> {
  if (!(await runExists(d, id))) return null;
  const [val, test] = await Promise.all([store.runPredictions(d, id, 'val'), store.runPredictions(d, id, 'test')]);
  const scored = (rows: typeof val) => ({ labels: rows.map((r) => r.label), probabilities: rows.map((r) => r.probability) });
  return {
    runId: id,
    rule: DECISION_RULE,
    definition: OPERATING_POINT_DEFINITION,
    points: val.length && test.length ? operatingPoints(scored(val), scored(test)) : [],
  };
}
