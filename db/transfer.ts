/**
 * Carries an experiment between databases (PGlite or PostgreSQL, in either direction): `exportExperiment` reads it
 * whole in one snapshot, `importExperiment` writes it in one transaction, mapping natural keys (experiment name,
 * model and run index) to the target's ids.
 *
 * Import merges: a run the target lacks is added; a run the file has further along (completed in the file, pending
 * or partial in the target, say) replaces the target's, with all its rows; otherwise the target's run stays as it is.
 * A completed run is never replaced, so importing the same file twice changes nothing, and "import, run more,
 * export" on another machine carries its new runs back. An experiment of the same name recorded on another dataset,
 * under another protocol or with another configuration is refused and nothing is written.
 */
import { type SQL, sql } from 'drizzle-orm';
import { UserError } from '../common/errors.ts';
import { FINE_TUNES, METRIC_NAMES, SPLITS, type MetricName } from '../study/run.ts';
import { writeRunCalibration } from './calibration.ts';
import type { Database } from './client.ts';
import { configDifferences, protocolName } from './experiments.ts';
import type { RunStatus } from './schema.ts';
import { type DbOrTx, onlyRow, selectRows } from './sql-helpers.ts';
import { type ExperimentFile, type ExperimentRecord, float32, orderedMetrics, type RunRecord } from './transfer-format.ts';

type Row = Record<string, unknown>;

const rows = <T = Row>(tx: DbOrTx, query: SQL): Promise<T[]> => selectRows<T>(tx, query);

/** A timestamptz as ISO 8601 text in UTC with its microseconds (a JS Date would drop them). */
const iso = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
const splitOrder = (column: string) => sql.raw(`array_position(array[${SPLITS.map((s) => `'${s}'`).join(', ')}]::text[], ${column})`);

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * The experiment named `name`, whole, in one consistent snapshot; null when there is none. A run in flight (running,
 * held by a lease) is written as `interrupted`, without its lease: whichever machine imports it runs it again.
 */
export async function exportExperiment(database: Database, name: string): Promise<ExperimentFile | null> {
  return database.db.transaction(
    async (tx) => {
      const [e] = await rows(
        tx,
        sql`select id, name, config::text as config, dataset_fingerprint, dataset_dir, code_version,
                   ${iso('created_at')} as created_at, ${iso('finished_at')} as finished_at
            from experiments where name = ${name}`,
      );
      if (!e) return null;
      const experiment: ExperimentRecord = {
        name: String(e.name),
        config: JSON.parse(String(e.config)),
        datasetFingerprint: str(e.dataset_fingerprint),
        datasetDir: str(e.dataset_dir),
        codeVersion: str(e.code_version),
        createdAt: String(e.created_at),
        finishedAt: str(e.finished_at),
      };
      const id = Number(e.id);
      const runRows = await rows(
        tx,
        sql`select r.id, r.model, r.run_index, b.run_index as base_run_index, r.status, r.seed, r.spec::text as spec, r.slot, r.host, r.slurm_job,
                   r.backend, r.backend_detail, r.attempts, r.error, ${iso('r.started_at')} as started_at,
                   ${iso('r.finished_at')} as finished_at, ${iso('r.last_event_at')} as last_event_at,
                   ${iso('r.heartbeat_at')} as heartbeat_at, r.duration_seconds,
                   r.best_epoch, r.stopped_early, r.checkpoint_dir, r.params_total, r.params_trainable
            from runs r left join runs b on b.id = r.base_run_id
            where r.experiment_id = ${id} order by r.model collate "C", r.run_index`,
      );
      const ofExperiment = sql`(select id from runs where experiment_id = ${id})`;
      const byRun = <T>(list: Row[], map: (r: Row) => T) => {
        const out = new Map<number, T[]>();
        for (const r of list) {
          const runId = Number(r.run_id);
          if (!out.has(runId)) out.set(runId, []);
          out.get(runId)!.push(map(r));
        }
        return (runId: number) => out.get(runId) ?? [];
      };
      // A split's metrics from its row: those the run has (null columns are metrics added after it was recorded).
      const metrics = (r: Row) => orderedMetrics(Object.fromEntries(METRIC_NAMES.flatMap((m) => (r[m] === null ? [] : [[m, num(r[m])]]))));
      const epochRows = byRun(
        await rows(tx, sql`select * from epoch_metrics where run_id in ${ofExperiment} order by run_id, epoch, ${splitOrder('split')}`),
        (r) => r,
      );
      // One entry per epoch: its train and val rows, and the val row's time, rate and improvement (the train row's
      // where the epoch has no val row).
      const epochsOf = (runId: number): RunRecord['epochs'] => {
        const out: RunRecord['epochs'] = [];
        for (const r of epochRows(runId)) {
          let e = out.at(-1);
          if (!e || e.epoch !== num(r.epoch)) {
            e = { epoch: num(r.epoch), seconds: 0, learningRate: 0, improved: false, train: {}, val: {} };
            out.push(e);
          }
          const split = r.split as 'train' | 'val';
          e[split] = metrics(r);
          if (split === 'val' || Object.keys(e.val).length === 0)
            Object.assign(e, { seconds: num(r.seconds), learningRate: num(r.learning_rate), improved: Boolean(r.improved) });
        }
        return out;
      };
      const evaluationsOf = byRun(
        await rows(tx, sql`select * from evaluations where run_id in ${ofExperiment} order by run_id, ${splitOrder('split')}`),
        (r) => ({
          split: r.split as RunRecord['evaluations'][number]['split'],
          n: num(r.n),
          tp: num(r.tp),
          fp: num(r.fp),
          tn: num(r.tn),
          fn: num(r.fn),
          metrics: metrics(r),
        }),
      );
      const curvesOf = byRun(
        await rows(
          tx,
          sql`select run_id, split, kind, array_agg(x order by idx)::float8[] as x, array_agg(y order by idx)::float8[] as y,
                     array_agg(threshold order by idx)::float8[] as threshold, array_agg(idx order by idx) as idx
              from curve_points where run_id in ${ofExperiment}
              group by run_id, split, kind order by run_id, ${splitOrder('split')}, kind collate "C"`,
        ),
        (r) => {
          const idx = (r.idx as unknown[]).map(Number);
          if (idx.some((v, i) => v !== i)) throw new Error(`run ${r.run_id}: the ${r.split} ${r.kind} curve's points are not numbered 0, 1, 2, ...`);
          return {
            split: r.split as RunRecord['curves'][number]['split'],
            kind: r.kind as 'roc' | 'pr',
            x: numbers(r.x),
            y: numbers(r.y),
            threshold: numbers(r.threshold),
          };
        },
      );
      const predictionsOf = byRun(
        await rows(
          tx,
          sql`select run_id, split, array_agg(image order by image collate "C") as image, array_agg(label order by image collate "C") as label,
                     array_agg(probability order by image collate "C") as probability
              from predictions where run_id in ${ofExperiment}
              group by run_id, split order by run_id, ${splitOrder('split')}`,
        ),
        (r) => ({
          split: r.split as RunRecord['predictions'][number]['split'],
          image: (r.image as unknown[]).map(String),
          label: (r.label as unknown[]).map((v) => (Number(v) === 1 ? 1 : 0) as 0 | 1),
          probability: numbers(r.probability).map(float32),
        }),
      );
      const logsOf = byRun(
        await rows(
          tx,
          sql`select run_id, attempt, ${iso('logged_at')} as logged_at, message from run_logs where run_id in ${ofExperiment} order by run_id, id`,
        ),
        (r) => ({ attempt: num(r.attempt), loggedAt: String(r.logged_at), message: String(r.message) }),
      );
      const failedAttemptsOf = byRun(
        await rows(
          tx,
          sql`select run_id, attempt, slot, ${iso('failed_at')} as failed_at, error, retried from failed_attempts where run_id in ${ofExperiment} order by run_id, attempt`,
        ),
        (r) => ({ attempt: num(r.attempt), slot: str(r.slot), failedAt: String(r.failed_at), error: String(r.error), retried: Boolean(r.retried) }),
      );
      const runs: RunRecord[] = runRows.map((r) => {
        const runId = Number(r.id);
        const inFlight = r.status === 'running';
        return {
          model: r.model as RunRecord['model'],
          runIndex: num(r.run_index),
          baseRunIndex: numOrNull(r.base_run_index),
          status: inFlight ? 'interrupted' : (r.status as RunRecord['status']),
          seed: num(r.seed),
          spec: JSON.parse(String(r.spec)),
          slot: str(r.slot),
          host: str(r.host),
          slurmJob: str(r.slurm_job),
          backend: str(r.backend),
          backendDetail: str(r.backend_detail),
          attempts: num(r.attempts),
          error: str(r.error),
          startedAt: str(r.started_at),
          finishedAt: str(r.finished_at),
          lastEventAt: str(r.last_event_at),
          heartbeatAt: inFlight ? null : str(r.heartbeat_at),
          durationSeconds: numOrNull(r.duration_seconds),
          bestEpoch: numOrNull(r.best_epoch),
          stoppedEarly: r.stopped_early === null ? null : Boolean(r.stopped_early),
          checkpointDir: str(r.checkpoint_dir),
          paramsTotal: numOrNull(r.params_total),
          paramsTrainable: numOrNull(r.params_trainable),
          epochs: epochsOf(runId),
          evaluations: evaluationsOf(runId),
          curves: curvesOf(runId),
          predictions: predictionsOf(runId),
          logs: logsOf(runId),
          failedAttempts: failedAttemptsOf(runId),
        };
      });
      return { experiment, runs };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** Postgres arrays of float8 arrive as numbers, or as text ('Infinity') from some drivers. */
function numbers(v: unknown): number[] {
  return (v as unknown[]).map(Number);
}

export interface ImportOutcome {
  experimentId: number;
  /** The experiment was not in the target before. */
  created: boolean;
  added: number;
  /** Runs the file had further along, which replaced the target's. */
  updated: number;
  unchanged: number;
}

/** How far a run has come: a run replaces another only when it is further along. */
const PROGRESS: Record<RunStatus, number> = { pending: 0, running: 1, interrupted: 1, failed: 2, completed: 3 };

/**
 * Writes the file's experiment into the target in one transaction (a failure leaves the target as it was). See the
 * module comment for the merge; `source` names the file in messages.
 */
export async function importExperiment(database: Database, file: ExperimentFile, source: string): Promise<ImportOutcome> {
  checkRuns(file, source);
  const e = file.experiment;
  return database.db.transaction(async (tx) => {
    const [inserted] = await rows<{ id: number }>(
      tx,
      sql`insert into experiments (name, config, dataset_fingerprint, dataset_dir, code_version, created_at, finished_at)
          values (${e.name}, ${JSON.stringify(e.config)}::jsonb, ${e.datasetFingerprint}, ${e.datasetDir}, ${e.codeVersion},
                  ${e.createdAt}::timestamptz, ${e.finishedAt}::timestamptz)
          on conflict (name) do nothing returning id`,
    );
    let experimentId: number;
    if (inserted) {
      experimentId = Number(inserted.id);
    } else {
      const stored = onlyRow(
        await rows(tx, sql`select id, config::text as config, dataset_fingerprint from experiments where name = ${e.name} for update`),
        `reading experiment '${e.name}' after its insert conflicted`,
      );
      experimentId = Number(stored.id);
      const clash = clashOf(e, { config: JSON.parse(String(stored.config)), datasetFingerprint: str(stored.dataset_fingerprint) });
      if (clash) throw new UserError(`${source}: experiment '${e.name}' is already in the database ${clash}; nothing was imported.`);
    }

    const stored = new Map(
      (await rows(tx, sql`select id, model, run_index, status from runs where experiment_id = ${experimentId} for update`)).map((r) => [
        `${r.model}#${r.run_index}`,
        { id: Number(r.id), status: r.status as RunStatus },
      ]),
    );
    const outcome: ImportOutcome = { experimentId, created: Boolean(inserted), added: 0, updated: 0, unchanged: 0 };
    // Base runs first: a `-ft` run refers to its base run's id.
    const ordered = [...file.runs].sort((a, b) => Number(a.baseRunIndex !== null) - Number(b.baseRunIndex !== null));
    for (const run of ordered) {
      const key = `${run.model}#${run.runIndex}`;
      const existing = stored.get(key);
      if (!existing) {
        const baseRunId = run.baseRunIndex === null ? null : stored.get(`${FINE_TUNES[run.model]}#${run.baseRunIndex}`)?.id;
        if (baseRunId === undefined)
          throw new UserError(`${source}: ${run.model} run ${run.runIndex} fine-tunes a run the database and the file lack; nothing was imported.`);
        const id = await insertRun(tx, experimentId, baseRunId, run);
        stored.set(key, { id, status: run.status });
        outcome.added++;
      } else if (furtherAlong(run.status, existing.status)) {
        await replaceRun(tx, existing.id, run);
        outcome.updated++;
      } else {
        outcome.unchanged++;
      }
    }
    return outcome;
  });
}

/**
 * A running run in the target may have a live holder: only a completed run from the file replaces it (its holder's
 * next write then finds the run no longer its own, and is dropped).
 */
function furtherAlong(file: RunStatus, target: RunStatus): boolean {
  if (target === 'running') return file === 'completed';
  return PROGRESS[file] > PROGRESS[target];
}

/** Why the stored experiment cannot take the file's runs, or null when it can. */
function clashOf(file: ExperimentRecord, stored: { config: Record<string, unknown>; datasetFingerprint: string | null }): string | null {
  if (file.datasetFingerprint !== null && stored.datasetFingerprint !== null && file.datasetFingerprint !== stored.datasetFingerprint) {
    return `with another dataset (fingerprint ${stored.datasetFingerprint.slice(0, 12)}…, the file's ${file.datasetFingerprint.slice(0, 12)}…)`;
  }
  const [mine, theirs] = [protocolName(stored.config), protocolName(file.config)];
  if (mine !== theirs) return `under another protocol ('${mine}', the file's '${theirs}')`;
  const differences = configDifferences(stored.config, file.config);
  if (differences.length > 0) return `with another configuration: ${differences.join('; ')}`;
  return null;
}

/** The file's runs must be consistent before anything is written: a `-ft` run's base model is its model's base. */
function checkRuns(file: ExperimentFile, source: string): void {
  for (const run of file.runs) {
    const base = FINE_TUNES[run.model];
    if ((run.baseRunIndex !== null) !== Boolean(base)) {
      const why = base ? `has no base run (it fine-tunes ${base})` : 'names a base run, but only -ft models have one';
      throw new UserError(`${source}: ${run.model} run ${run.runIndex} ${why}; nothing was imported.`);
    }
  }
}

/** The run row's own columns from the file, as SQL values (no ids; no owner: an imported run is held by no one). */
function runColumns(run: RunRecord): Record<string, SQL> {
  const ts = (v: string | null) => sql`${v}::timestamptz`;
  return {
    status: sql`${run.status}`,
    seed: sql`${run.seed}`,
    spec: sql`${JSON.stringify(run.spec)}::jsonb`,
    slot: sql`${run.slot}`,
    host: sql`${run.host}`,
    slurm_job: sql`${run.slurmJob}`,
    backend: sql`${run.backend}`,
    backend_detail: sql`${run.backendDetail}`,
    attempts: sql`${run.attempts}`,
    error: sql`${run.error}`,
    started_at: ts(run.startedAt),
    finished_at: ts(run.finishedAt),
    last_event_at: ts(run.lastEventAt),
    owner: sql`null`,
    heartbeat_at: ts(run.heartbeatAt),
    duration_seconds: sql`${doubleParam(run.durationSeconds)}::float8`,
    best_epoch: sql`${run.bestEpoch}::integer`,
    stopped_early: sql`${run.stoppedEarly}::boolean`,
    checkpoint_dir: sql`${run.checkpointDir}`,
    params_total: sql`${run.paramsTotal}::integer`,
    params_trainable: sql`${run.paramsTrainable}::integer`,
  };
}

async function insertRun(tx: DbOrTx, experimentId: number, baseRunId: number | null, run: RunRecord): Promise<number> {
  const cols = runColumns(run);
  const names = ['experiment_id', 'model', 'run_index', 'base_run_id', ...Object.keys(cols)];
  const values = [sql`${experimentId}`, sql`${run.model}`, sql`${run.runIndex}`, sql`${baseRunId}::integer`, ...Object.values(cols)];
  const row = onlyRow(
    await rows<{ id: number }>(tx, sql`insert into runs (${sql.raw(names.join(', '))}) values (${sql.join(values, sql`, `)}) returning id`),
    `inserting ${run.model} run ${run.runIndex}`,
  );
  const id = Number(row.id);
  await insertChildren(tx, id, run);
  return id;
}

async function replaceRun(tx: DbOrTx, runId: number, run: RunRecord): Promise<void> {
  for (const table of ['epoch_metrics', 'evaluations', 'curve_points', 'predictions', 'run_calibrations', 'run_logs', 'failed_attempts']) {
    await tx.execute(sql`delete from ${sql.raw(table)} where run_id = ${runId}`);
  }
  const set = Object.entries(runColumns(run)).map(([column, value]) => sql`${sql.raw(column)} = ${value}`);
  await tx.execute(sql`update runs set ${sql.join(set, sql`, `)} where id = ${runId}`);
  await insertChildren(tx, runId, run);
}

/** NaN and ±Infinity as the text PostgreSQL reads for float8. */
function doubleParam(v: number | null): string | number | null {
  if (v === null || Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Inserts a table's rows from one JSON array parameter (jsonb_to_recordset), so a run's 3,297 predictions are one
 * statement. Numbers go through their decimal text, so a float32 probability is stored as the same float32.
 */
async function insertRecordset(tx: DbOrTx, table: string, runId: number, columns: [string, string][], items: Row[]): Promise<void> {
  if (items.length === 0) return;
  const names = columns.map(([name]) => name).join(', ');
  const types = columns.map(([name, type]) => `${name} ${type}`).join(', ');
  const payload = JSON.stringify(items, (_k, v) => (typeof v === 'number' ? (doubleParam(v) ?? v) : v));
  await tx.execute(
    sql`insert into ${sql.raw(table)} (run_id, ${sql.raw(names)})
        select ${runId}, ${sql.raw(names)} from jsonb_to_recordset(${payload}::jsonb) as x(${sql.raw(types)})`,
  );
}

/** The metric columns of an insert: every metric, null where the file's run has none. */
const METRIC_COLUMNS: [string, string][] = METRIC_NAMES.map((m) => [`"${m}"`, 'float8']);
const metricValues = (m: Partial<Record<MetricName, number>>) => Object.fromEntries(METRIC_NAMES.map((k) => [k, m[k] ?? null]));

async function insertChildren(tx: DbOrTx, runId: number, run: RunRecord): Promise<void> {
  await insertRecordset(
    tx,
    'epoch_metrics',
    runId,
    [['epoch', 'integer'], ['split', 'text'], ...METRIC_COLUMNS, ['seconds', 'float8'], ['learning_rate', 'float8'], ['improved', 'boolean']],
    run.epochs.flatMap((r) =>
      (['train', 'val'] as const)
        .filter((split) => Object.keys(r[split]).length > 0)
        .map((split) => ({ epoch: r.epoch, split, ...metricValues(r[split]), seconds: r.seconds, learning_rate: r.learningRate, improved: r.improved })),
    ),
  );
  await insertRecordset(
    tx,
    'evaluations',
    runId,
    [['split', 'text'], ['n', 'integer'], ...METRIC_COLUMNS, ['tp', 'integer'], ['fp', 'integer'], ['tn', 'integer'], ['fn', 'integer']],
    run.evaluations.map((r) => ({ split: r.split, n: r.n, ...metricValues(r.metrics), tp: r.tp, fp: r.fp, tn: r.tn, fn: r.fn })),
  );
  await insertRecordset(
    tx,
    'curve_points',
    runId,
    [
      ['split', 'text'],
      ['kind', 'text'],
      ['idx', 'integer'],
      ['x', 'float8'],
      ['y', 'float8'],
      ['threshold', 'float8'],
    ],
    run.curves.flatMap((c) => c.x.map((x, idx) => ({ split: c.split, kind: c.kind, idx, x, y: c.y[idx], threshold: c.threshold[idx] }))),
  );
  await insertRecordset(
    tx,
    'predictions',
    runId,
    [
      ['split', 'text'],
      ['image', 'text'],
      ['label', 'smallint'],
      ['probability', 'real'],
    ],
    run.predictions.flatMap((p) => p.image.map((image, i) => ({ split: p.split, image, label: p.label[i], probability: p.probability[i] }))),
  );
  // Derived from the predictions, so computed here rather than carried in the file.
  if (run.status === 'completed') await writeRunCalibration(tx, runId);
  // One statement per line, so that their ids keep the file's order.
  for (const log of run.logs) {
    await tx.execute(
      sql`insert into run_logs (run_id, attempt, logged_at, message) values (${runId}, ${log.attempt}, ${log.loggedAt}::timestamptz, ${log.message})`,
    );
  }
  for (const f of run.failedAttempts) {
    await tx.execute(sql`insert into failed_attempts (run_id, attempt, slot, failed_at, error, retried)
      values (${runId}, ${f.attempt}, ${f.slot}, ${f.failedAt}::timestamptz, ${f.error}, ${f.retried})`);
  }
}
