/**
 * The reads behind the JSON API, shaped for the page: db/'s query functions where they exist (metric_summary,
 * run_overview, a run's epochs, evaluations, curves, predictions and logs, image_summary), plain SQL over
 * db/schema.ts for the rest (experiment list with run counts, models and times; per-epoch mean ± std bands; the
 * predictions behind a model's ensemble, scored by workers/metrics). SELECTs only: the web page never writes.
 * Every function returns null for an unknown id.
 */
import * as store from '../db/index.ts';
import type { Database } from '../db/index.ts';
import { onlyRow } from '../db/sql-helpers.ts';
import { legacyOverrides, recordedProtocol } from '../study/experiment-config.ts';
import { describeSource, LEGACY_PROTOCOL, resolveProtocol, settingRows } from '../study/protocol.ts';
import { DECISION_RULE, OPERATING_POINT_DEFINITION, modelsAtThreshold, operatingPoints, operatingPointsReport } from '../study/operating-points.ts';
import { evaluateBinary } from '../workers/metrics/index.ts';
import { METRIC_NAMES, MODEL_NAMES, type MetricName, type ModelName, type Split } from '../study/run.ts';
import type {
  Bands, CompareView, EpochRow, EnsembleView, ExperimentAtThreshold, ExperimentBands, ExperimentComparison, ExperimentDetail,
  ExperimentListItem, ExperimentOperatingPoints, ExperimentProtocol, ExperimentSettings, ExperimentStatus, ExperimentSummary,
  MisclassifiedView, NullableMetrics, Num, PredictionsView, RunCounts, RunCurves, RunDetail, RunEpochs, RunOperatingPoints, RunRow,
  SummaryRow,
} from './api-types.ts';

type Row = Record<string, unknown>;

/** The stored protocol of an experiment (config.protocol), or the legacy protocol's for one recorded before protocols. */
export function experimentProtocol(config: Record<string, unknown>, models: readonly ModelName[]): ExperimentProtocol {
  const stored = recordedProtocol(config);
  const legacy = stored === null;
  const resolved = stored ?? resolveProtocol(LEGACY_PROTOCOL, legacyOverrides(config));
  const shown = models.filter((m) => resolved.models[m] !== undefined);
  return {
    name: resolved.name,
    legacy,
    overrides: resolved.overrides,
    rows: settingRows(resolved.models, shown).map((r) => ({
      model: r.model,
      setting: r.setting.trim(),
      value: r.value,
      source: describeSource(r.source),
      kind: 'article' in r.source ? 'article' : 'choice' in r.source ? 'choice' : 'override',
    })),
  };
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
  const placements = await d.query<{ id: number; gpu: number | null; host: string | null; slurm_job: string | null }>(
    `select id, (spec->>'gpu')::integer as gpu, host, slurm_job from runs where experiment_id = $1`,
    [id],
  );
  const placementOf = new Map(placements.map((p) => [int(p.id), { gpu: p.gpu === null ? null : int(p.gpu), host: p.host, slurmJob: p.slurm_job }]));
  const runRows: RunRow[] = runs.map((r) => {
    const startedAt = iso(r.startedAt);
    return {
      id: r.runId,
      model: r.model,
      repeat: r.runIndex,
      seed: r.seed,
      status: r.status,
      slot: r.slot,
      gpu: placementOf.get(r.runId)?.gpu ?? null,
      host: placementOf.get(r.runId)?.host ?? null,
      slurmJob: placementOf.get(r.runId)?.slurmJob ?? null,
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

export async function experimentSummary(d: Database, id: number): Promise<ExperimentSummary | null> {
  if (!(await experimentExists(d, id))) return null;
  return { experimentId: id, rows: (await store.experimentSummary(d, id)).map(summaryRow) };
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
    host: r.host,
    slurmJob: r.slurmJob,
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

export async function runCurves(d: Database, id: number): Promise<RunCurves | null> {
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
  const bands = (await epochBands(d, experimentId, model)).get(model) ?? emptyBands();
  return {
    experimentId,
    model,
    runs: runs.map((r) => {
      const epochs = groupEpochs(rows.filter((e) => e.runId === r.runId));
      return { id: r.runId, repeat: r.runIndex, status: r.status, bestEpoch: currentBest(r.bestEpoch, epochs), stoppedEarly: r.stoppedEarly, epochs };
    }),
    bands,
  };
}

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

/** Every image's probability in one split of a run (empty for runs stored before predictions were). */
export async function runPredictions(d: Database, id: number, split: Split): Promise<PredictionsView | null> {
  const [row] = await d.query<{ fp: string }>(
    'select e.dataset_fingerprint as fp from runs r join experiments e on e.id = r.experiment_id where r.id = $1',
    [id],
  );
  if (!row) return null;
  return { runId: id, split, datasetFingerprint: row.fp, predictions: await store.runPredictions(d, id, split) };
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
  const counted = onlyRow(
    await d.query<{ n: number }>(
      `select count(distinct p.run_id)::integer as n from predictions p join runs r on r.id = p.run_id
       where r.experiment_id = $1 and r.model = $2 and p.split = $3 and r.status = 'completed'`,
      [experimentId, model, split],
    ),
    'counting the runs with predictions',
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

/**
 * The ensemble of a model's repeated runs: each image's probability averaged over the completed runs, scored by
 * the same metric code as every run (workers/metrics). Images some run lacks are left out.
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

export async function experimentOperatingPoints(d: Database, experimentId: number): Promise<ExperimentOperatingPoints | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  return { experimentId, ...operatingPointsReport(await store.completedRunScores(d, experimentId, ['val', 'test'])) };
}

export async function experimentAtThreshold(d: Database, experimentId: number, split: Split, threshold: number): Promise<ExperimentAtThreshold | null> {
  if (!(await experimentExists(d, experimentId))) return null;
  const runs = await store.completedRunScores(d, experimentId, [split]);
  return { experimentId, split, threshold, rule: DECISION_RULE, models: modelsAtThreshold(runs, split, threshold) };
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
