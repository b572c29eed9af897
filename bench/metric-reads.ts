/**
 * The results page's reads at scale: `--runs` runs (default 10,000) in `--experiments` experiments, each run with
 * 10 to 40 epochs of train and val metrics and its final evaluation, loaded with SQL into a fresh PGlite folder
 * and/or a fresh database on $MELANOMA_TEST_PG_URL; one experiment also gets every image's prediction for each of
 * its runs (the real dataset's 3,297 images) and one run its curves. Then each of the page's views is read through
 * web/queries.ts (the API's own functions): the median time of `--repeat` reads, and every SQL statement it sent
 * with its EXPLAIN ANALYZE plan. Last, the same numbers as long rows (run, epoch or final split, metric, value: the
 * layout MLflow uses, and the other way the metric list could shape the database) answer the three reads that
 * aggregate metrics, beside the same reads over the columns, to compare the two layouts.
 *
 *   npx tsx bench/metric-reads.ts [--db pglite|postgres|both] [--runs 10000] [--experiments 100] [--repeat 5]
 *     [--plans all|summary|none] [--no-analyze]
 *
 * Tables are ANALYZEd after loading (PGlite has no autovacuum: a long-lived PGlite database is planned without
 * statistics unless someone runs ANALYZE; the plans without are printed with --no-analyze).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'postgres';
import { openDatabase, type Database } from '../db/index.ts';
import { METRIC_NAMES } from '../study/run.ts';
import { median } from '../study/statistics.ts';
import * as q from '../web/queries.ts';

const { values: opts } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    runs: { type: 'string', default: '10000' },
    experiments: { type: 'string', default: '100' },
    repeat: { type: 'string', default: '5' },
    plans: { type: 'string', default: 'all' },
    'no-analyze': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const EXPERIMENTS = Number(opts.experiments);
const REPEAT = Number(opts.repeat);
if (!(RUNS > 0 && EXPERIMENTS > 0 && RUNS % EXPERIMENTS === 0)) throw new Error(`--runs ${RUNS} must be a positive multiple of --experiments ${EXPERIMENTS}`);
const PER_EXPERIMENT = RUNS / EXPERIMENTS;
const MODELS = ['baseline', 'augmented', 'xception', 'xception-ft', 'mobilenet'];
/** The real dataset's split sizes: every run of the read experiment predicts each image. */
const IMAGES = { train: 2110, val: 527, test: 660 };

// ---------------------------------------------------------------------------------------------------------------
// Loading

/** Every run: completed but for every 50th (failed) and the last run of each experiment (running). */
const LOAD = [
  `insert into experiments (name, config, dataset_fingerprint) select 'bench-' || e, '{}', 'fp' from generate_series(1, ${EXPERIMENTS}) e`,
  `insert into runs (experiment_id, model, run_index, status, seed, spec, started_at, finished_at, duration_seconds, best_epoch, stopped_early)
   select e.id, (array[${MODELS.map((m) => `'${m}'`).join(', ')}])[1 + i % ${MODELS.length}], i / ${MODELS.length},
          case when i = ${PER_EXPERIMENT - 1} then 'running' when i % 50 = 49 then 'failed' else 'completed' end,
          i, '{"gpu": null}'::jsonb, now() - interval '1 day', now(), 3600, 5, true
   from experiments e, generate_series(0, ${PER_EXPERIMENT - 1}) i`,
  `insert into epoch_metrics (run_id, epoch, split, ${METRIC_NAMES.map((m) => `"${m}"`).join(', ')}, seconds, learning_rate, improved)
   select r.id, ep, s.split,
          ${METRIC_NAMES.map((_, k) => `0.5 + 0.4 * (1 - exp(-ep / 10.0)) + ((r.id * 31 + ep * 17 + ${k + 1} * 5) % 100) / 5000.0`).join(',\n          ')},
          60 + (r.id * 13 + ep * 7) % 20, 0.001, ep % 4 = 1
   from runs r cross join lateral generate_series(1, 10 + (r.id * 7919) % 31) ep cross join (values ('train'), ('val')) s(split)`,
  `insert into evaluations (run_id, split, n, ${METRIC_NAMES.map((m) => `"${m}"`).join(', ')}, tp, fp, tn, fn)
   select r.id, s.split, s.n, ${METRIC_NAMES.map((_, k) => `0.7 + ((r.id * 37 + ${k + 1} * 11) % 100) / 500.0`).join(', ')},
          s.n / 3, s.n / 6, s.n / 3, s.n - s.n / 3 - s.n / 6 - s.n / 3
   from runs r cross join (values ('train', ${IMAGES.train}), ('val', ${IMAGES.val}), ('test', ${IMAGES.test})) s(split, n) where r.status = 'completed'`,
];

/** The read experiment: the middle one. Its completed runs predict every image; its first run has curves. */
const READ_EXPERIMENT = Math.ceil(EXPERIMENTS / 2);
const PREDICTIONS = `
  insert into predictions (run_id, split, image, label, probability)
  select r.id, s.split, s.split || '/' || (case when i % 9 < 4 then 'malignant' else 'benign' end) || '/' || i || '.jpg',
         (i % 9 < 4)::integer, least(1, greatest(0, (case when i % 9 < 4 then 0.65 else 0.35 end) + ((r.id * 7 + i * 13) % 61 - 30) / 100.0))
  from runs r
  cross join (values ('train', ${IMAGES.train}), ('val', ${IMAGES.val}), ('test', ${IMAGES.test})) s(split, n)
  cross join lateral generate_series(1, s.n) i
  where r.experiment_id = ${READ_EXPERIMENT} and r.status = 'completed'`;
const CURVES = `
  insert into curve_points (run_id, split, kind, idx, x, y, threshold)
  select r, s.split, k.kind, i, i / 199.0, sqrt(i / 199.0), 1 - i / 199.0
  from (select min(id) as r from runs where experiment_id = ${READ_EXPERIMENT}) first
  cross join (values ('train'), ('val'), ('test')) s(split) cross join (values ('roc'), ('pr')) k(kind) cross join generate_series(0, 199) i`;

/** The same numbers as long rows: one row per run, epoch (or final split), split and metric. */
const unpivot = (table: string, keys: string) => `
  select ${keys}, m.metric, m.value from ${table} t
  cross join lateral (values ${METRIC_NAMES.map((m) => `('${m}', t."${m}")`).join(', ')}) as m(metric, value)`;
const LONG = [
  `create table long_epoch_metric_values as ${unpivot('epoch_metrics', 't.run_id, t.epoch, t.split')}`,
  'alter table long_epoch_metric_values add primary key (run_id, epoch, split, metric)',
  `create table long_epochs as select distinct on (run_id, epoch) run_id, epoch, seconds, learning_rate, improved
     from epoch_metrics order by run_id, epoch, split = 'val' desc`,
  'alter table long_epochs add primary key (run_id, epoch)',
  `create table long_evaluation_metric_values as ${unpivot('evaluations', 't.run_id, t.split')}`,
  'alter table long_evaluation_metric_values add primary key (run_id, split, metric)',
];

// ---------------------------------------------------------------------------------------------------------------
// Reading

interface Statement {
  text: string;
  params: unknown[];
}

/** A raw SQL runner next to the Database, and a way to record what its Drizzle queries send. */
interface Probe {
  exec(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  record<T>(fn: () => Promise<T>): Promise<{ value: T; statements: Statement[] }>;
}

function probe(database: Database): Probe {
  const client = (database.db as unknown as { $client: PGlite | Sql }).$client;
  let recording: Statement[] | null = null;
  if (database.kind === 'pglite') {
    const pg = client as PGlite;
    const query = pg.query.bind(pg);
    pg.query = ((text: string, params?: unknown[], options?: unknown) => {
      recording?.push({ text, params: params ?? [] });
      return query(text, params as never, options as never);
    }) as PGlite['query'];
    return {
      exec: async (text, params = []) => (await query<Record<string, unknown>>(text, params)).rows,
      record: async (fn) => recorded(fn),
    };
  }
  const sql = client as Sql;
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((text: string, params?: unknown[], options?: unknown) => {
    recording?.push({ text, params: params ?? [] });
    return unsafe(text, params as never, options as never);
  }) as Sql['unsafe'];
  return {
    exec: async (text, params = []) => [...(await unsafe(text, params as never[]))] as Record<string, unknown>[],
    record: async (fn) => recorded(fn),
  };

  async function recorded<T>(fn: () => Promise<T>) {
    recording = [];
    try {
      const value = await fn();
      return { value, statements: recording };
    } finally {
      recording = null;
    }
  }
}

/** The page's views and the API reads behind each (web/api.ts's routes call these). */
function views(experimentId: number, runId: number): { name: string; read(d: Database): Promise<unknown> }[] {
  return [
    { name: 'experiment list   GET /api/experiments', read: (d) => q.listExperiments(d) },
    { name: 'experiment        GET /api/experiments/:id', read: (d) => q.getExperiment(d, experimentId) },
    { name: 'summary           GET /api/experiments/:id/summary', read: (d) => q.experimentSummary(d, experimentId) },
    { name: 'all-models bands  GET /api/experiments/:id/bands', read: (d) => q.experimentBands(d, experimentId) },
    { name: 'compare (a model) GET /api/experiments/:id/compare', read: (d) => q.compareRuns(d, experimentId, 'baseline') },
    { name: 'ensemble          GET /api/experiments/:id/ensemble', read: (d) => q.ensemble(d, experimentId, 'test') },
    { name: 'misclassified     GET /api/experiments/:id/misclassified', read: (d) => q.misclassified(d, experimentId, 'baseline', 'test', 24) },
    { name: 'run               GET /api/runs/:id', read: (d) => q.getRun(d, runId) },
    { name: 'run epochs        GET /api/runs/:id/epochs', read: (d) => q.runEpochs(d, runId) },
    { name: 'run curves        GET /api/runs/:id/curves', read: (d) => q.runCurves(d, runId) },
  ];
}

/** The three reads that aggregate metrics, over the columns (as db/ reads them) and over long rows. */
function layoutReads(experimentId: number): { name: string; columns: string; long: string }[] {
  const perMetric = (f: (m: string) => string) => METRIC_NAMES.map(f).join(', ');
  return [
    {
      name: 'bands (every model, split, epoch and metric)',
      columns: `select r.model, em.split, em.epoch, ${perMetric((m) => `count(em."${m}"), avg(em."${m}"), stddev_samp(em."${m}")`)}
                from epoch_metrics em join runs r on r.id = em.run_id
                where r.experiment_id = ${experimentId} and r.status in ('completed', 'running') group by r.model, em.split, em.epoch`,
      long: `select r.model, v.split, v.epoch, v.metric, count(*)::integer as n, avg(v.value) as mean, stddev_samp(v.value) as std
             from long_epoch_metric_values v join runs r on r.id = v.run_id
             where r.experiment_id = ${experimentId} and r.status in ('completed', 'running') group by r.model, v.split, v.epoch, v.metric`,
    },
    {
      name: 'metric_summary of one experiment',
      columns: `select * from metric_summary where experiment_id = ${experimentId}`,
      long: `select r.model, v.split, v.metric, count(*)::integer as n, avg(v.value) as mean, stddev_samp(v.value) as stddev
             from long_evaluation_metric_values v join runs r on r.id = v.run_id
             where r.status = 'completed' and r.experiment_id = ${experimentId} group by r.model, v.split, v.metric`,
    },
    {
      name: "run_overview of one experiment (each run's test metrics)",
      columns: `select * from run_overview where experiment_id = ${experimentId}`,
      long: `select r.id, test.*, (select count(*)::integer from long_epochs ep where ep.run_id = r.id) as epochs
             from runs r left join lateral (
               select ${perMetric((m) => `max(v.value) filter (where v.metric = '${m}') as "test_${m}"`)}
               from long_evaluation_metric_values v where v.run_id = r.id and v.split = 'test') test on true
             where r.experiment_id = ${experimentId}`,
    },
  ];
}

const ms = (x: number) => x.toFixed(1).padStart(8);
const thousands = (n: number) => n.toLocaleString('en-US');

async function explain(p: Probe, s: Statement): Promise<{ plan: string; executionMs: number }> {
  const rows = await p.exec(`explain (analyze, buffers off, costs off) ${s.text}`, s.params);
  const lines = rows.map((r) => String(Object.values(r)[0]));
  const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(lines.join('\n'))?.[1] ?? NaN);
  return { plan: lines.join('\n'), executionMs };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function bench(kind: 'pglite' | 'postgres', target: string): Promise<void> {
  const database = await openDatabase(target);
  const p = probe(database);
  try {
    const out = (line = '') => process.stdout.write(`${line}\n`);
    const loadStart = performance.now();
    for (const statement of [...LOAD, PREDICTIONS, CURVES]) await p.exec(statement);
    if (!opts['no-analyze']) await p.exec('analyze');
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const counts = async (table: string) => Number((await p.exec(`select count(*)::bigint as n from ${table}`))[0]!.n);
    const size = async (table: string) => Number((await p.exec(`select pg_total_relation_size('${table}') as b`))[0]!.b) / 2 ** 20;
    const tables = ['runs', 'epoch_metrics', 'evaluations', 'predictions'];
    const runId = Number((await p.exec(`select min(id) as id from runs where experiment_id = ${READ_EXPERIMENT}`))[0]!.id);
    const epochsTotal = Number((await p.exec("select count(*)::bigint as n from epoch_metrics where split = 'val'"))[0]!.n);
    out(
      `## ${kind}: ${thousands(RUNS)} runs (${EXPERIMENTS} experiments of ${PER_EXPERIMENT}), ${(epochsTotal / RUNS).toFixed(1)} epochs a run on average, ${METRIC_NAMES.length} metrics; loaded in ${loadSeconds.toFixed(0)} s${opts['no-analyze'] ? ', not analyzed' : ''}`,
    );
    out();
    for (const t of tables) out(`  ${t.padEnd(26)} ${thousands(await counts(t)).padStart(11)} rows ${(await size(t)).toFixed(0).padStart(6)} MiB`);
    out();
    out(
      `The page's reads of experiment ${READ_EXPERIMENT} (${PER_EXPERIMENT} runs) and its run ${runId}: median of ${REPEAT} reads, and each SQL statement's execution time (EXPLAIN ANALYZE)`,
    );
    out();
    const plans: string[] = [];
    for (const view of views(READ_EXPERIMENT, Number(runId))) {
      const { statements } = await p.record(() => view.read(database));
      const times: number[] = [];
      for (let i = 0; i < REPEAT; i++) times.push(await timed(() => view.read(database)));
      const explained = [];
      for (const s of statements) explained.push({ s, ...(await explain(p, s)) });
      out(`  ${view.name.padEnd(58)} ${ms(median(times))} ms   statements: ${explained.map((e) => e.executionMs.toFixed(1)).join(' + ')} ms`);
      for (const [i, e] of explained.entries()) {
        if (opts.plans === 'all' || e.executionMs >= 5)
          plans.push(
            `### ${kind}: ${view.name.trim()}, statement ${i + 1} (${e.executionMs.toFixed(1)} ms)\n${e.s.text.replace(/\s+/g, ' ').trim()}\n${e.plan}\n`,
          );
      }
    }
    out();
    for (const statement of LONG) await p.exec(statement);
    if (!opts['no-analyze']) for (const t of ['long_epoch_metric_values', 'long_epochs', 'long_evaluation_metric_values']) await p.exec(`analyze ${t}`);
    out(`The same numbers as long rows (one row per metric): execution time (EXPLAIN ANALYZE) of the reads that aggregate metrics, median of ${REPEAT}`);
    const longSize = (await size('long_epoch_metric_values')) + (await size('long_epochs'));
    out(
      `  epoch metrics: ${(await size('epoch_metrics')).toFixed(0)} MiB as columns, ${longSize.toFixed(0)} MiB as long rows (values and epochs, with their keys)`,
    );
    for (const r of layoutReads(READ_EXPERIMENT)) {
      const run = async (text: string) => {
        const xs: number[] = [];
        for (let i = 0; i < REPEAT; i++) xs.push((await explain(p, { text, params: [] })).executionMs);
        return median(xs);
      };
      out(`  ${r.name.padEnd(58)} columns ${ms(await run(r.columns))} ms   long rows ${ms(await run(r.long))} ms`);
      if (opts.plans === 'all') plans.push(`### ${kind}: ${r.name}, long rows\n${(await explain(p, { text: r.long, params: [] })).plan}\n`);
    }
    out();
    if (opts.plans !== 'none') for (const plan of plans) out(plan);
  } finally {
    await database.close();
  }
}

const which = opts.db === 'both' ? (['pglite', 'postgres'] as const) : ([opts.db] as ('pglite' | 'postgres')[]);
for (const kind of which) {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'melanoma-bench-reads-'));
    try {
      await bench('pglite', join(dir, 'db'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const server = process.env.MELANOMA_TEST_PG_URL;
    if (!server) throw new Error('--db postgres needs $MELANOMA_TEST_PG_URL (a server this bench may create a database on)');
    const { scratchPgDatabase } = await import('../test/db/fixtures.ts');
    const scratch = await scratchPgDatabase(server);
    try {
      await bench('postgres', scratch.url);
    } finally {
      await scratch.drop();
    }
  }
}
