/**
 * Databases and event streams for the db tests: the same suites run against in-memory PGlite, a PGlite folder and
 * (when MELANOMA_TEST_PG_URL is set, see scripts/postgres-test-server.sh) a fresh database on a PostgreSQL server.
 */
import { DEFAULT_BATCH_SIZE, DEFAULT_IMAGE_SIZE } from '../../study/protocol.ts';
import { runSpec } from '../helpers/run-spec.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import postgres from 'postgres';
import { type Database, openDatabase } from '../../db/index.ts';
import { METRIC_NAMES } from '../../study/run.ts';
import type { Metrics, ModelName, RunEvent, RunResult, RunSpec, SPLITS, SplitEvaluation } from '../../study/run.ts';

export const PG_URL = process.env.MELANOMA_TEST_PG_URL;

let warned = false;

/** Skips the test when no PostgreSQL server is configured (loudly, once per file); returns its URL otherwise. */
export function pgUrlOrSkip(t: TestContext): string | null {
  if (PG_URL) return PG_URL;
  const why = 'needs a PostgreSQL server: set MELANOMA_TEST_PG_URL (eval "$(bash scripts/postgres-test-server.sh)")';
  if (!warned) process.stderr.write(`\n*** SKIPPED: the PostgreSQL tests of ${process.argv[1]} ${why} ***\n`);
  warned = true;
  t.skip(`SKIPPED: ${why}`);
  return null;
}

/** Creates an empty database on the test server; `drop()` removes it. */
export async function scratchPgDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `melanoma_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `melanoma-${prefix}-`));
}

export interface Backend {
  name: string;
  open(): Promise<Database>;
  /** Removes what open() created (the PostgreSQL database). */
  cleanup(): Promise<void>;
}

/** memory://, a new PGlite folder, and a scratch PostgreSQL database (null when the server is not configured). */
export function backends(): { name: string; make(): Promise<Backend> | null }[] {
  return [
    { name: 'PGlite memory', make: async () => ({ name: 'memory', open: () => openDatabase('memory://'), cleanup: async () => {} }) },
    {
      name: 'PGlite folder',
      make: async () => {
        const dir = join(tempDir('db'), 'db');
        return { name: 'folder', open: () => openDatabase(dir), cleanup: async () => {} };
      },
    },
    {
      name: 'PostgreSQL',
      make: () => {
        if (!PG_URL) return null;
        return scratchPgDatabase(PG_URL).then((scratch) => ({ name: 'postgres', open: () => openDatabase(scratch.url), cleanup: scratch.drop }));
      },
    },
  ];
}

/** What a backend's tests share: its open database (a test may reopen it), and `it` for its tests. */
export interface BackendSuite {
  /** The backend's name in backends(). */
  name: string;
  database: Database;
  /** A test that needs the backend (skips loudly when PostgreSQL is not configured). */
  it(name: string, fn: (t: TestContext) => Promise<void>): void;
}

/** One describe() per backend of `list`, each opening one database for its tests and removing it after them. */
export function describeEachBackend(list: ReturnType<typeof backends>, body: (suite: BackendSuite) => void): void {
  for (const b of list) {
    describe(b.name, () => {
      let backend: Backend | null = null;
      const suite: BackendSuite = {
        name: b.name,
        database: undefined as unknown as Database,
        it: (name, fn) =>
          test(name, async (t) => {
            if (!backend) return void pgUrlOrSkip(t);
            await fn(t);
          }),
      };
      before(async () => {
        backend = await b.make();
        if (backend) suite.database = await backend.open();
      });
      after(async () => {
        await suite.database?.close();
        await backend?.cleanup();
      });
      body(suite);
    });
  }
}

export function specFor(model: ModelName, seed: number): RunSpec {
  return runSpec({
    model,
    dataDir: '/data/melanoma',
    outDir: `/runs/test/${model}-${seed}`,
    seed,
    epochs: 4,
    imageSize: DEFAULT_IMAGE_SIZE,
    batchSize: DEFAULT_BATCH_SIZE,
    patience: 2,
    cacheImages: true,
  });
}

/** Every metric derived from one number, so a test can predict every aggregate (any other metric: v - its index / 100). */
export function metrics(v: number): Metrics {
  const named: Partial<Metrics> = { loss: 1 - v, accuracy: v - 0.05, precision: v - 0.1, recall: v - 0.02, roc_auc: v, pr_auc: v - 0.03 };
  return Object.fromEntries(METRIC_NAMES.map((m, i) => [m, named[m] ?? v - i / 100])) as Metrics;
}

function evaluation(split: (typeof SPLITS)[number], v: number): SplitEvaluation {
  return {
    split,
    n: 100,
    metrics: metrics(v),
    confusion: { tp: 40, fp: 10, tn: 45, fn: 5 },
    // The first ROC point's threshold is +Infinity (nothing predicted positive), as in the metric code.
    roc: { x: [0, 0.1, 0.5, 1], y: [0, 0.6, 0.9, 1], thresholds: [Infinity, 0.8, 0.4, 0] },
    pr: { x: [0, 0.6, 1], y: [1, 0.9, 0.5], thresholds: [1, 0.5, 0] },
    predictions: predictionsFor(split, v),
  };
}

/** Four images of a split: a and c classified right, b (p = v) and d (p = 1 - v) wrong whenever v > 0.5. */
export function predictionsFor(split: (typeof SPLITS)[number], v: number): SplitEvaluation['predictions'] {
  const dir = split === 'val' ? 'train' : split;
  return {
    images: [`${dir}/benign/a.jpg`, `${dir}/benign/b.jpg`, `${dir}/malignant/c.jpg`, `${dir}/malignant/d.jpg`],
    labels: [0, 0, 1, 1],
    probabilities: [0.25, v, 0.875, 1 - v],
  };
}

/**
 * The events of a run of `epochs` epochs whose best epoch is 2 and whose final test ROC AUC is `testRocAuc`
 * (val = testRocAuc + 0.01, train = testRocAuc + 0.05).
 */
export function runEvents(spec: RunSpec, testRocAuc: number, epochs = 3): RunEvent[] {
  const history = Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    train: metrics(0.6 + 0.05 * i),
    val: metrics(i === 1 ? 0.7 : 0.6 + 0.01 * i),
    seconds: 1.5 + i,
    learningRate: spec.learningRate,
  }));
  const result: RunResult = {
    spec,
    backend: 'cpu',
    backendDetail: 'tfjs-backend-cpu',
    datasetFingerprint: 'fp',
    counts: { train: { benign: 40, malignant: 40 }, val: { benign: 10, malignant: 10 }, test: { benign: 10, malignant: 10 } },
    params: { total: 1234, trainable: 1000 },
    history,
    bestEpoch: 2,
    stoppedEarly: epochs > 2,
    checkpointDir: `${spec.outDir}/best`,
    final: [evaluation('train', testRocAuc + 0.05), evaluation('val', testRocAuc + 0.01), evaluation('test', testRocAuc)],
    seconds: 12.5,
  };
  return [
    { type: 'started', backend: 'cpu', backendDetail: 'tfjs-backend-cpu', datasetFingerprint: 'fp', params: result.params },
    ...history.flatMap((record): RunEvent[] => [
      { type: 'epoch', record, best: record.epoch === 2 },
      ...(record.epoch === 2 ? [{ type: 'checkpoint', epoch: 2, dir: result.checkpointDir } as RunEvent] : []),
    ]),
    { type: 'log', message: 'early stop' },
    { type: 'final', result },
  ];
}

const COUNTED_TABLES = ['experiments', 'runs', 'epoch_metrics', 'evaluations', 'curve_points', 'predictions', 'run_logs'] as const;
type CountedTable = (typeof COUNTED_TABLES)[number];

/** Row counts of every table of one database, to compare before and after a replay. */
export async function tableCounts(database: Database): Promise<Record<CountedTable, number>> {
  const out = Object.fromEntries(COUNTED_TABLES.map((table) => [table, 0])) as Record<CountedTable, number>;
  for (const table of COUNTED_TABLES) {
    const [row] = await database.query<{ n: number }>(`select count(*)::integer as n from ${table}`);
    out[table] = row!.n;
  }
  return out;
}
