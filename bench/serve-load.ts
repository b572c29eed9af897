/**
 * The results page under load while runs are being written: what `orchestrate --serve` does in one process. A
 * server process opens the database, completes `--prefill` runs, then serves the page (web/server.ts) while the
 * orchestrator's scheduler and store (orchestrator/scheduler.ts, store.ts) write the remaining runs: realistic
 * event streams (test/web/run-events.ts: an epoch event every `--epoch-ms` per slot, then a final event with the
 * real dataset's 3,297 predictions and the curves behind them). This process fires `--requests` GETs over the
 * page's API routes, `--concurrency` at a time, and prints p50/p95/p99/max and the errors; then the server process
 * stops its writer and checks that every completed run holds exactly what its events carried.
 *
 *   npx tsx bench/serve-load.ts [--requests 2000] [--concurrency 8] [--db pglite|postgres|both] [--prefill 8]
 *     [--runs 40] [--slots 2] [--epochs 30] [--epoch-ms 40] [--compare-with REF]
 *
 * PGlite runs in a fresh folder; PostgreSQL (with --db postgres or both) in a fresh database on
 * $MELANOMA_TEST_PG_URL. --compare-with REF runs the same load first on the code of git revision REF (extracted to
 * a temporary folder), so a change is measured against what it replaces in one invocation.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { first } from '../common/indexing.ts';
import type { ModelName, RunEvent, RunResult, RunSpec } from '../study/run.ts';
import { scratchPgDatabase } from '../test/db/fixtures.ts';
import { runEvents, specFor } from '../test/web/run-events.ts';

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    db: { type: 'string', default: 'both' },
    prefill: { type: 'string', default: '8' },
    runs: { type: 'string', default: '40' },
    slots: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '30' },
    'epoch-ms': { type: 'string', default: '40' },
    'compare-with': { type: 'string' },
    // Internal: this file as the server process.
    serve: { type: 'boolean', default: false },
    root: { type: 'string' },
    target: { type: 'string' },
  },
});

const REPO = resolve(import.meta.dirname, '..');
const MODELS: ModelName[] = ['baseline', 'augmented', 'mobilenet', 'xception'];

/** What the server process tells this one. */
type ServerMessage =
  | { type: 'ready'; url: string; experimentId: number; runIds: number[]; models: ModelName[] }
  | { type: 'checked'; completedDuringLoad: number; completed: number; writerIdle: boolean; problems: string[] };

if (opts.serve) await serve();
else await main();

// ---------------------------------------------------------------------------------------------------------------
// The load

async function main(): Promise<void> {
  const which = opts.db === 'both' ? ['pglite', 'postgres'] : [opts.db!];
  const pgUrl = process.env.MELANOMA_TEST_PG_URL;
  const roots: { label: string; dir: string }[] = [];
  let extracted: string | null = null;
  if (opts['compare-with']) {
    const ref = opts['compare-with'];
    extracted = mkdtempSync(join(tmpdir(), 'melanoma-bench-ref-'));
    execFileSync('sh', ['-c', `git -C "${REPO}" archive --format=tar "$1" | tar -x -C "${extracted}"`, 'sh', ref]);
    symlinkSync(join(REPO, 'node_modules'), join(extracted, 'node_modules'));
    const commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', ref], { encoding: 'utf8' }).trim();
    roots.push({ label: `${ref} (${commit})`, dir: extracted });
  }
  roots.push({ label: 'this tree', dir: REPO });
  const lines: string[] = [];
  try {
    for (const db of which) {
      if (db === 'postgres' && !pgUrl) {
        lines.push('postgres: skipped (set MELANOMA_TEST_PG_URL)');
        continue;
      }
      for (const root of roots) {
        const line = await measure(db, root);
        lines.push(line);
        process.stdout.write(line + '\n');
      }
    }
  } finally {
    if (extracted) rmSync(extracted, { recursive: true, force: true });
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

async function measure(db: string, root: { label: string; dir: string }): Promise<string> {
  let target: string;
  let drop = async () => {};
  if (db === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'melanoma-bench-db-'));
    target = join(dir, 'db');
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else if (db === 'postgres') {
    ({ url: target, drop } = await scratchPgDatabase(process.env.MELANOMA_TEST_PG_URL!));
  } else throw new Error(`--db: pglite, postgres or both (got '${db}')`);
  const child = fork(import.meta.filename, ['--serve', '--root', root.dir, '--target', target, ...passOn()], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = await next(child, 'ready');
    const stats = await load(ready);
    child.send('stop');
    const checked = await next(child, 'checked');
    const ok = checked.problems.length === 0 ? 'consistent' : `INCONSISTENT: ${checked.problems.slice(0, 5).join('; ')}`;
    return (
      `${db.padEnd(8)} ${root.label.padEnd(22)} ${stats.n} requests (c=${opts.concurrency}), ${stats.errors} errors, ` +
      `p50 ${stats.p50.toFixed(0)} ms, p95 ${stats.p95.toFixed(0)} ms, p99 ${stats.p99.toFixed(0)} ms, max ${stats.max.toFixed(0)} ms, ` +
      `${stats.rps.toFixed(0)} req/s; ${checked.completedDuringLoad} runs completed during the load (${checked.completed} in all${checked.writerIdle ? '; the writer ran out of runs before the load ended' : ''}), ${ok}`
    );
  } finally {
    if (child.exitCode === null) child.kill();
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    await drop();
  }
}

function passOn(): string[] {
  return ['prefill', 'runs', 'slots', 'epochs', 'epoch-ms'].flatMap((k) => [`--${k}`, String(opts[k as keyof typeof opts])]);
}

function next<T extends ServerMessage['type']>(child: ChildProcess, type: T): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((done, fail) => {
    const onExit = (code: number | null) => fail(new Error(`the server process exited (${code}) before '${type}'`));
    child.once('exit', onExit);
    child.on('message', function onMessage(m: ServerMessage) {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      done(m as Extract<ServerMessage, { type: T }>);
    });
  });
}

/** The page's API reads, spread over the experiment, its models and its runs (completed, running and pending). */
function routes(r: Extract<ServerMessage, { type: 'ready' }>): string[] {
  const x = r.experimentId;
  const list = [
    `/api/experiments`,
    `/api/experiments/${x}`,
    `/api/experiments/${x}/summary`,
    `/api/experiments/${x}/ensemble?split=test`,
    `/api/compare?experiments=${x}`,
  ];
  for (const m of r.models) list.push(`/api/experiments/${x}/misclassified?model=${m}&split=test&limit=24`, `/api/experiments/${x}/compare?model=${m}`);
  for (const id of r.runIds) list.push(`/api/runs/${id}`, `/api/runs/${id}/epochs`, `/api/runs/${id}/curves`, `/api/runs/${id}/predictions?split=test`);
  return list;
}

async function load(ready: Extract<ServerMessage, { type: 'ready' }>) {
  const paths = routes(ready);
  const total = Number(opts.requests);
  const times: number[] = [];
  let errors = 0;
  let issued = 0;
  const firstErrors: string[] = [];
  const t0 = performance.now();
  const worker = async () => {
    while (issued < total) {
      const path = paths[issued++ % paths.length];
      const start = performance.now();
      try {
        const res = await fetch(ready.url + path);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${res.status}`);
      } catch (err) {
        errors++;
        if (firstErrors.length < 3) firstErrors.push(`${path}: ${(err as Error).message}`);
      }
      times.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: Number(opts.concurrency) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  if (firstErrors.length) process.stderr.write(`errors, e.g. ${firstErrors.join(', ')}\n`);
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? NaN;
  return { n: times.length, errors, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: times.at(-1) ?? NaN, rps: times.length / seconds };
}

// ---------------------------------------------------------------------------------------------------------------
// The server process: `orchestrate --serve` with scripted runs

async function serve(): Promise<void> {
  const root = opts.root!;
  const { openDatabase } = (await import(join(root, 'db/index.ts'))) as typeof import('../db/index.ts');
  const { openStore } = (await import(join(root, 'orchestrator/store.ts'))) as typeof import('../orchestrator/store.ts');
  const { runScheduler } = (await import(join(root, 'orchestrator/scheduler.ts'))) as typeof import('../orchestrator/scheduler.ts');
  const { startServer } = (await import(join(root, 'web/server.ts'))) as typeof import('../web/server.ts');
  const epochs = Number(opts.epochs);
  const epochMs = Number(opts['epoch-ms']);
  const perModel = Math.ceil(Number(opts.runs) / MODELS.length);

  const database = await openDatabase(opts.target);
  const plan = MODELS.flatMap((model) => Array.from({ length: perModel }, (_, runIndex) => ({ model, runIndex, seed: 1000 + runIndex })));
  const store = await openStore(database, {
    experiment: 'serve-load',
    config: { epochs },
    datasetDir: '/data/melanoma',
    datasetFingerprint: 'f'.repeat(64),
    retries: 0,
    runs: plan.map((p) => ({ ...p, spec: specFor(p.model, p.seed, { epochs }) })),
  });
  const written = new Map<number, RunResult>();
  /** Replays a run's events like a worker thread posts them (structured clones), `pause` ms before each epoch. */
  const runner = (name: string, pause: () => number) => ({
    slot: { name, gpu: null },
    async run(spec: RunSpec, onEvent: (e: RunEvent) => void) {
      const stopAt = Math.max(8, epochs - (spec.seed % 7)); // some runs stop early
      let result: RunResult | null = null;
      for (const event of runEvents({ model: spec.model, seed: spec.seed, epochs: stopAt, bestEpoch: Math.round(stopAt * 0.7), spec: { epochs } })) {
        if (event.type === 'epoch' && pause() > 0) await new Promise((r) => setTimeout(r, pause()));
        onEvent(structuredClone(event));
        if (event.type === 'final') result = event.result;
      }
      return result!;
    },
    close: async () => {},
  });
  let stopping = false;
  const progress = { runStarted() {}, phase() {}, epoch() {}, estimate() {}, runEnded() {}, log() {}, stop() {} };
  const schedule = async (n: number, slots: number, pause: () => number, signal: AbortSignal) => {
    let claimed = 0;
    const limited = {
      ...store,
      claimNextRun: async (slot: string) => (!stopping && claimed++ < n ? store.claimNextRun(slot) : null),
      hasUnfinishedRuns: async () => false,
      completeRun: async (run: Parameters<typeof store.completeRun>[0], result: RunResult) => {
        await store.completeRun(run, result);
        written.set(run.runId, result);
      },
    };
    await runScheduler({
      store: limited,
      runners: Array.from({ length: slots }, (_, k) => runner(`cpu${k}`, pause)),
      progress,
      signal,
      specFor: (claim) => claim.spec,
      pollMs: 50,
    });
  };

  await schedule(Number(opts.prefill), 1, () => 0, new AbortController().signal);
  const prefilled = written.size;
  const server = await startServer({ db: database, port: 0 });
  // While the load runs: the real pace; once it ends, the runs in flight finish at once.
  const writer = schedule(plan.length, Number(opts.slots), () => (stopping ? 0 : epochMs), new AbortController().signal);
  let writerDone = false;
  void writer.then(() => (writerDone = true));
  const stopped = new Promise<void>((r) => process.on('message', (m) => m === 'stop' && r()));
  const send = (m: ServerMessage) => process.send!(m);
  send({ type: 'ready', url: server.url, experimentId: store.experimentId, runIds: (await store.outcome()).runs.map((r) => r.runId), models: MODELS });
  await stopped;
  stopping = true;
  const completedDuringLoad = written.size - prefilled;
  const writerIdle = writerDone; // it ran out of runs before the load ended
  await writer; // the runs in flight, at once; no new ones are claimed
  await server.close();
  const problems = await check(database, written);
  send({ type: 'checked', completedDuringLoad, completed: written.size, writerIdle, problems });
  store.close();
  await database.close();
  process.exit(0);
}

/** Every completed run holds what its events carried: epochs, evaluations, curve points and predictions. */
async function check(database: import('../db/index.ts').Database, written: Map<number, RunResult>): Promise<string[]> {
  const problems: string[] = [];
  const count = async (table: string, runId: number) =>
    Number(first(await database.query<{ n: number }>(`select count(*)::integer as n from ${table} where run_id = $1`, [runId]), 'count').n);
  const statuses = await database.query<{ id: number; status: string }>(`select id, status from runs`);
  const completed = statuses.filter((r) => r.status === 'completed').map((r) => Number(r.id));
  if (completed.length !== written.size) problems.push(`${completed.length} runs completed in the database, ${written.size} written`);
  for (const [runId, result] of written) {
    const want = {
      epoch_metrics: result.history.length * 2,
      evaluations: result.final.length,
      curve_points: result.final.reduce((s, e) => s + e.roc.x.length + e.pr.x.length, 0),
      predictions: result.final.reduce((s, e) => s + e.predictions.images.length, 0),
    };
    for (const [table, n] of Object.entries(want)) {
      const got = await count(table, runId);
      if (got !== n) problems.push(`run ${runId}: ${got} ${table} rows, ${n} written`);
    }
  }
  return problems;
}
