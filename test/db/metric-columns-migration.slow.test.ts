/**
 * A database written before the metric columns came from study/metrics/definitions.ts (six NOT NULL columns in
 * epoch_metrics and evaluations) keeps every number when this code opens it, NaN included; the metrics added since
 * are null in its rows (`melanoma rescore` fills the final evaluations' from the stored predictions), and the views
 * give its summary. Checked on PGlite (a folder) and on PostgreSQL (skipped loudly without MELANOMA_TEST_PG_URL).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { experimentSummaryWide, MIGRATIONS_DIR, openDatabase, runEpochs, runEvaluations } from '../../db/index.ts';
import { METRIC_NAMES } from '../../study/run.ts';
import { pgUrlOrSkip, scratchPgDatabase, tempDir } from './fixtures.ts';

/** A copy of the migrations that stops before the metric columns came from the definitions. */
function migrationsBeforeDefinitions(): string {
  const dir = join(tempDir('migrations'), 'migrations');
  mkdirSync(join(dir, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  const first = journal.entries.findIndex((e) => e.tag.endsWith('_metric_columns_from_definitions'));
  assert.ok(first > 0, 'the migration that takes the metric columns from the definitions');
  journal.entries = journal.entries.slice(0, first);
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify(journal));
  for (const e of journal.entries) cpSync(join(MIGRATIONS_DIR, `${e.tag}.sql`), join(dir, `${e.tag}.sql`));
  return dir;
}

/** What the code of the time wrote: a completed run of 2 epochs (a NaN val ROC AUC at the end) and a failed one. */
const OLD_ROWS = `
  insert into experiments (name, config) values ('old', '{}');
  insert into runs (experiment_id, model, run_index, status, seed, spec) values (1, 'baseline', 0, 'completed', 1, '{}'), (1, 'baseline', 1, 'failed', 2, '{}');
  insert into epoch_metrics (run_id, epoch, split, loss, accuracy, precision, recall, roc_auc, pr_auc, seconds, learning_rate, improved) values
    (1, 1, 'train', 0.61, 0.61, 0.62, 0.63, 0.64, 0.65, 10.5, 0.001, true), (1, 1, 'val', 0.71, 0.71, 0.72, 0.73, 0.74, 0.75, 10.5, 0.001, true),
    (1, 2, 'train', 0.51, 0.81, 0.82, 0.83, 0.84, 0.85, 9.25, 0.001, false), (1, 2, 'val', 0.41, 0.91, 0.92, 0.93, 0.94, 0.95, 9.25, 0.001, false),
    (2, 1, 'train', 0.66, 0.5, 0.5, 0.5, 0.5, 0.5, 11, 0.001, true), (2, 1, 'val', 0.67, 0.5, 0.5, 0.5, 'NaN', 0.5, 11, 0.001, true);
  insert into evaluations (run_id, split, n, loss, accuracy, precision, recall, roc_auc, pr_auc, tp, fp, tn, fn) values
    (1, 'train', 100, 0.2, 0.8, 0.7, 0.9, 0.85, 0.8, 45, 15, 35, 5), (1, 'val', 20, 0.3, 0.7, 0.6, 0.8, 'NaN', 0.7, 8, 5, 6, 1),
    (1, 'test', 50, 0.35, 0.76, 0.66, 0.88, 0.83, 0.77, 22, 11, 16, 1);`;

async function checkCarried(target: string): Promise<void> {
  const database = await openDatabase(target);
  try {
    const epochs = await runEpochs(database, 1);
    assert.deepEqual(
      epochs.map((e) => [e.epoch, e.seconds, e.learningRate, e.improved]),
      [
        [1, 10.5, 0.001, true],
        [2, 9.25, 0.001, false],
      ],
    );
    assert.deepEqual(epochs[0]!.train, { loss: 0.61, accuracy: 0.61, precision: 0.62, recall: 0.63, roc_auc: 0.64, pr_auc: 0.65, ...newMetrics() });
    assert.deepEqual(epochs[1]!.val, { loss: 0.41, accuracy: 0.91, precision: 0.92, recall: 0.93, roc_auc: 0.94, pr_auc: 0.95, ...newMetrics() });
    assert.ok(Number.isNaN((await runEpochs(database, 2))[0]!.val!.roc_auc), 'NaN stays NaN');

    const evaluations = await runEvaluations(database, 1);
    assert.deepEqual(
      evaluations.map((e) => [e.split, e.n, e.confusion]),
      [
        ['train', 100, { tp: 45, fp: 15, tn: 35, fn: 5 }],
        ['val', 20, { tp: 8, fp: 5, tn: 6, fn: 1 }],
        ['test', 50, { tp: 22, fp: 11, tn: 16, fn: 1 }],
      ],
    );
    assert.deepEqual(evaluations[2]!.metrics, { loss: 0.35, accuracy: 0.76, precision: 0.66, recall: 0.88, roc_auc: 0.83, pr_auc: 0.77, ...newMetrics() });
    assert.ok(Number.isNaN(evaluations[1]!.metrics.roc_auc!));

    const [test] = (await experimentSummaryWide(database, 1)).filter((r) => r.split === 'test');
    assert.deepEqual([test!.n, test!.roc_auc_mean, test!.roc_auc_std, test!.recall_mean], [1, 0.83, null, 0.88]);
    const nullable = await database.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
       where table_name in ('epoch_metrics', 'evaluations') and column_name = any($1::text[]) and is_nullable = 'YES'`,
      [[...METRIC_NAMES]],
    );
    assert.equal(nullable.length, 2 * METRIC_NAMES.length, 'every metric column takes null: a run may predate its metric');
  } finally {
    await database.close();
  }
}

/** The metrics added to study/metrics/ since: runs recorded before them have none (null). */
function newMetrics(): Record<string, null> {
  const before = ['loss', 'accuracy', 'precision', 'recall', 'roc_auc', 'pr_auc'];
  return Object.fromEntries(METRIC_NAMES.filter((m) => !before.includes(m)).map((m) => [m, null]));
}

test('PGlite: a folder at the schema of the six fixed metric columns keeps every number', async () => {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const dir = tempDir('old-schema');
  try {
    const pg = await PGlite.create(dir);
    await migrate(drizzle({ client: pg }), { migrationsFolder: migrationsBeforeDefinitions() });
    await pg.exec(OLD_ROWS);
    await pg.close();
    await checkCarried(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: a database at the schema of the six fixed metric columns keeps every number', async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const scratch = await scratchPgDatabase(server);
  try {
    const client = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await migrate(drizzle({ client }), { migrationsFolder: migrationsBeforeDefinitions() });
    await client.unsafe(OLD_ROWS);
    await client.end();
    await checkCarried(scratch.url);
  } finally {
    await scratch.drop();
  }
});
