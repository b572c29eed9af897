/**
 * The answers of the JSON API (their types: web/api-types.ts), shaped for the page from db/'s typed reads (every
 * SELECT lives in db/): metric values keyed by the names of study/metrics/definitions.ts, NaN and missing values as
 * null, times as ISO text. The ensembles are scored by the same metric code as every run (study/metrics). The web
 * page never writes. Every function returns null for an unknown id.
 */
import * as store from '../db/index.ts';
import type { Database } from '../db/index.ts';
import { legacyOverrides, recordedProtocol } from '../study/experiment-config.ts';
import { describeSource, LEGACY_PROTOCOL, resolveProtocol, settingRows } from '../study/protocol.ts';
import { DECISION_RULE, OPERATING_POINT_DEFINITION, modelsAtThreshold, operatingPoints, operatingPointsReport } from '../study/operating-points.ts';
import { evaluateBinary } from '../study/metrics/index.ts';
import { METRIC_NAMES, MODEL_NAMES, type ModelName, type Split } from '../study/run.ts';
import type {
  Bands,
  CompareView,
  EpochRow,
  EnsembleView,
  ExperimentAtThreshold,
  ExperimentBands,
  ExperimentComparison,
  ExperimentDetail,
  ExperimentListItem,
  ExperimentOperatingPoints,
  ExperimentProtocol,
  ExperimentSettings,
  ExperimentStatus,
  ExperimentSummary,
  MisclassifiedView,
  NullableMetrics,
  Num,
  PredictionsView,
  RunCounts,
  RunCurves,
  RunDetail,
  RunEpochs,
  RunOperatingPoints,
  RunRow,
  SummaryRow,
} from './api-types.ts';

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

const num = (v: number | null | undefined): Num => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const iso = (v: Date | null): string | null => (v === null ? null : v.toISOString());
const modelOrder = (m: string) => {
  const i = MODEL_NAMES.indexOf(m as ModelName);
  return i < 0 ? MODEL_NAMES.length : i;
};

/** Stored metrics as JSON: NaN and metrics the run lacks become null. */
const nullable = (m: store.StoredMetrics): NullableMetrics => Object.fromEntries(METRIC_NAMES.map((k) => [k, num(m[k])])) as NullableMetrics;

/** Seconds between two instants; `to` null means now. */
function secondsBetween(from: string | null, to: string | null): number | null {
  if (!from) return null;
  const end = to ? Date.parse(to) : Date.now();
  return Math.max(0, (end - Date.parse(from)) / 1000);
}

function experimentItem(r: store.ExperimentListItem): ExperimentSettings {
  const counts: RunCounts = {
    total: r.runs,
    done: r.completed,
    failed: r.failed,
    running: r.running,
    pending: r.pending,
    interrupted: r.interrupted,
  };
  const status: ExperimentStatus =
    counts.total === 0 ? 'empty' : counts.running > 0 ? 'running' : counts.pending + counts.interrupted > 0 ? 'incomplete' : 'completed';
  const startedAt = iso(r.firstStartedAt);
  const finishedAt = iso(r.finishedAt);
  const end = status === 'running' ? null : (finishedAt ?? iso(r.lastFinishedAt));
  return {
    id: r.id,
    name: r.name,
    status,
    dataDir: r.datasetDir,
    datasetFingerprint: r.datasetFingerprint,
    models: [...r.models].sort((a, b) => modelOrder(a) - modelOrder(b)),
    counts,
    createdAt: r.createdAt.toISOString(),
    startedAt,
    finishedAt,
    seconds: status === 'running' || end ? secondsBetween(startedAt, end) : null,
    config: r.config ?? {},
    codeVersion: r.codeVersion,
  };
}

export async function listExperiments(d: Database): Promise<ExperimentListItem[]> {
  return (await store.listExperiments(d)).map((r) => {
    const { config: _config, codeVersion: _codeVersion, ...item } = experimentItem(r);
    return item;
  });
}

export async function getExperiment(d: Database, id: number): Promise<ExperimentDetail | null> {
  const [row] = await store.listExperiments(d, { ids: [id] });
  if (!row) return null;
  const [runs, placementOf] = await Promise.all([store.listRuns(d, id), store.runPlacements(d, id)]);
  const runRows: RunRow[] = runs.map((r) => {
    const startedAt = iso(r.startedAt);
    const test = store.overviewTestMetrics(r);
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
      test: test && nullable(test),
      error: r.error,
    };
  });
  const item = experimentItem(row);
  return { ...item, runs: runRows, protocol: experimentProtocol(item.config, item.models) };
}

const summaryRow = (r: store.MetricSummaryRow): SummaryRow => ({
  model: r.model,
  split: r.split,
  metric: r.metric,
  n: r.n,
  mean: num(r.mean),
  std: num(r.stddev),
  min: num(r.min),
  max: num(r.max),
});

export async function experimentSummary(d: Database, id: number): Promise<ExperimentSummary | null> {
  if (!(await store.experimentExists(d, id))) return null;
  return { experimentId: id, rows: (await store.experimentSummary(d, id)).map(summaryRow) };
}

/** Experiments side by side: each one's settings and its summary (metric_summary). Null if one id is no experiment. */
export async function compareExperiments(d: Database, ids: number[]): Promise<ExperimentComparison | null> {
  const found = await store.listExperiments(d, { ids });
  const byId = new Map(found.map((r) => [r.id, experimentItem(r)]));
  if (ids.some((id) => !byId.has(id))) return null;
  const summaries = await Promise.all(ids.map(async (id) => (await store.experimentSummary(d, id)).map((r) => ({ experimentId: id, ...summaryRow(r) }))));
  return { experiments: ids.map((id) => byId.get(id)!), rows: summaries.flat() };
}

const LOG_LINES = 50;

export async function getRun(d: Database, id: number): Promise<RunDetail | null> {
  const r = await store.getRun(d, id);
  if (!r) return null;
  const [evals, logs, failures, fingerprint] = await Promise.all([
    store.runEvaluations(d, id),
    store.runLogMessages(d, id),
    store.runFailedAttempts(d, id),
    store.runDatasetFingerprint(d, id),
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
    datasetFingerprint: fingerprint ?? null,
    startedAt,
    finishedAt: iso(r.finishedAt),
    lastEventAt: iso(r.lastEventAt),
    heartbeatAt: iso(r.heartbeatAt),
    seconds: num(r.durationSeconds) ?? (r.status === 'running' ? secondsBetween(startedAt, null) : null),
    error: r.error,
    evaluations: evals.map((e) => ({ split: e.split, n: e.n, metrics: nullable(e.metrics), confusion: e.confusion })),
    logs: logs.slice(-LOG_LINES).map((l) => ({ at: l.loggedAt.toISOString(), attempt: l.attempt, message: l.message })),
    failedAttempts: failures.map((f) => ({ attempt: f.attempt, at: f.failedAt.toISOString(), slot: f.slot, retried: f.retried, error: f.error })),
  };
}

const epochRow = (e: store.StoredEpoch): EpochRow => ({
  epoch: e.epoch,
  train: e.train && nullable(e.train),
  val: e.val && nullable(e.val),
  seconds: e.seconds,
  learningRate: e.learningRate,
  improved: e.improved,
});

function currentBest(bestEpoch: number | null, epochs: EpochRow[]): number | null {
  if (bestEpoch !== null) return bestEpoch;
  return epochs.filter((e) => e.improved).at(-1)?.epoch ?? null;
}

export async function runEpochs(d: Database, id: number): Promise<RunEpochs | null> {
  const r = await store.getRun(d, id);
  if (!r) return null;
  const epochs = (await store.runEpochs(d, id)).map(epochRow);
  return { runId: id, status: r.status, bestEpoch: currentBest(r.bestEpoch, epochs), stoppedEarly: r.stoppedEarly, epochs };
}

export async function runCurves(d: Database, id: number): Promise<RunCurves | null> {
  if (!(await store.runExists(d, id))) return null;
  const [curves, evals] = await Promise.all([store.runCurves(d, id), store.runEvaluations(d, id)]);
  return {
    runId: id,
    curves: curves.map((c) => {
      const e = evals.find((x) => x.split === c.split);
      return {
        split: c.split,
        kind: c.kind,
        auc: e ? num(e.metrics[c.kind === 'roc' ? 'roc_auc' : 'pr_auc']) : null,
        x: c.x,
        y: c.y,
        thresholds: c.thresholds,
      };
    }),
  };
}

export async function compareRuns(d: Database, experimentId: number, model: ModelName): Promise<CompareView | null> {
  if (!(await store.experimentExists(d, experimentId))) return null;
  const runs = (await store.listRuns(d, experimentId)).filter((r) => r.model === model);
  const stored = await store.runsEpochs(
    d,
    runs.map((r) => r.runId),
  );
  const bands = bandsByModel(await store.epochBands(d, experimentId, model)).get(model) ?? emptyBands();
  return {
    experimentId,
    model,
    runs: runs.map((r) => {
      const epochs = stored.filter((e) => e.runId === r.runId).map(epochRow);
      return { id: r.runId, repeat: r.runIndex, status: r.status, bestEpoch: currentBest(r.bestEpoch, epochs), stoppedEarly: r.stoppedEarly, epochs };
    }),
    bands,
  };
}

const emptyBands = (): Bands =>
  Object.fromEntries((['train', 'val'] as const).map((split) => [split, Object.fromEntries(METRIC_NAMES.map((m) => [m, []]))])) as unknown as Bands;

/** db's band rows (by model, split, epoch) as one Bands per model. */
function bandsByModel(rows: store.EpochBandRow[]): Map<ModelName, Bands> {
  const out = new Map<ModelName, Bands>();
  for (const b of rows) {
    if (!out.has(b.model)) out.set(b.model, emptyBands());
    out.get(b.model)![b.split][b.metric].push({ epoch: b.epoch, n: b.n, mean: num(b.mean), std: num(b.std) });
  }
  return out;
}

/** Every model's mean ± std bands per epoch (the all-models chart of the experiment page). */
export async function experimentBands(d: Database, experimentId: number): Promise<ExperimentBands | null> {
  if (!(await store.experimentExists(d, experimentId))) return null;
  const [rows, counts] = await Promise.all([store.epochBands(d, experimentId), store.runsWithEpochs(d, experimentId)]);
  return {
    experimentId,
    models: [...bandsByModel(rows)]
      .sort(([a], [b]) => modelOrder(a) - modelOrder(b))
      .map(([model, b]) => ({ model, runs: counts.find((c) => c.model === model)?.runs ?? 0, bands: b })),
  };
}

/** Every image's probability in one split of a run (empty for runs stored before predictions were). */
export async function runPredictions(d: Database, id: number, split: Split): Promise<PredictionsView | null> {
  const fingerprint = await store.runDatasetFingerprint(d, id);
  if (fingerprint === undefined) return null;
  return { runId: id, split, datasetFingerprint: fingerprint, predictions: await store.runPredictions(d, id, split) };
}

/** The images of a split that the completed runs of a model get wrong most often (image_summary). */
export async function misclassified(d: Database, experimentId: number, model: ModelName, split: Split, limit: number): Promise<MisclassifiedView | null> {
  const experiment = await store.getExperiment(d, experimentId);
  if (!experiment) return null;
  const [runs, rows] = await Promise.all([store.runsWithPredictions(d, experimentId, model, split), store.hardestImages(d, experimentId, model, split, limit)]);
  return {
    experimentId,
    model,
    split,
    datasetFingerprint: experiment.datasetFingerprint,
    runs,
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
 * the same metric code as every run (study/metrics). Images some run lacks are left out.
 */
export async function ensemble(d: Database, experimentId: number, split: Split): Promise<EnsembleView | null> {
  if (!(await store.experimentExists(d, experimentId))) return null;
  const models = (await store.ensembleInputs(d, experimentId, split)).map((m) => {
    const e = evaluateBinary(m.labels, m.probabilities);
    return { model: m.model, runs: m.runs, n: m.labels.length, metrics: nullable(e.metrics), confusion: e.confusion };
  });
  return { experimentId, split, models };
}

// Operating points (study/operating-points.ts): thresholds chosen on val for a target specificity or sensitivity,
// measured on test; and every model at a threshold the reader picks.

export async function experimentOperatingPoints(d: Database, experimentId: number): Promise<ExperimentOperatingPoints | null> {
  if (!(await store.experimentExists(d, experimentId))) return null;
  return { experimentId, ...operatingPointsReport(await store.completedRunScores(d, experimentId, ['val', 'test'])) };
}

export async function experimentAtThreshold(d: Database, experimentId: number, split: Split, threshold: number): Promise<ExperimentAtThreshold | null> {
  if (!(await store.experimentExists(d, experimentId))) return null;
  const runs = await store.completedRunScores(d, experimentId, [split]);
  return { experimentId, split, threshold, rule: DECISION_RULE, models: modelsAtThreshold(runs, split, threshold) };
}

export async function runOperatingPoints(d: Database, id: number): Promise<RunOperatingPoints | null> {
  if (!(await store.runExists(d, id))) return null;
  const [val, test] = await Promise.all([store.runPredictions(d, id, 'val'), store.runPredictions(d, id, 'test')]);
  const scored = (rows: typeof val) => ({ labels: rows.map((r) => r.label), probabilities: rows.map((r) => r.probability) });
  return {
    runId: id,
    rule: DECISION_RULE,
    definition: OPERATING_POINT_DEFINITION,
    points: val.length && test.length ? operatingPoints(scored(val), scored(test)) : [],
  };
}
