/**
 * A whole database as comparable text, for the export / import tests: every column of every table (from
 * db/schema.ts, so a new column is compared too), with ids replaced by natural keys (experiment name, model and run
 * index), timestamps in UTC with their microseconds, numbers as PostgreSQL's shortest exact text. Each table is one
 * SELECT, so the same statements run through `melanoma sql` too.
 */
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/index.ts';
import { curvePoints, epochMetrics, evaluations, experiments, failedAttempts, predictions, runLogs, runs } from '../../db/schema.ts';

const IDS = new Set(['id', 'run_id', 'experiment_id', 'base_run_id']);

function columns(table: PgTable, alias: string): string[] {
  return getTableConfig(table)
    .columns.filter((c) => !IDS.has(c.name))
    .map((c) =>
      c.columnType === 'PgTimestamp'
        ? `to_char(${alias}.${c.name} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as ${c.name}`
        : `${alias}.${c.name}::text as ${c.name}`,
    );
}

const RUN_KEY = `e.name as experiment, r.model, r.run_index`;
const RUN_JOIN = `join runs r on r.id = t.run_id join experiments e on e.id = r.experiment_id`;

/** One SELECT per table, rows in a fixed order (text in the C collation). */
export const DUMP_QUERIES: Record<string, string> = {
  experiments: `select ${columns(experiments, 't').join(', ')} from experiments t order by t.name collate "C"`,
  runs:
    `select e.name as experiment, b.model as base_model, b.run_index as base_run_index, ${columns(runs, 't').join(', ')} ` +
    `from runs t join experiments e on e.id = t.experiment_id left join runs b on b.id = t.base_run_id ` +
    `order by e.name collate "C", t.model collate "C", t.run_index`,
  epoch_metrics: `select ${RUN_KEY}, ${columns(epochMetrics, 't').join(', ')} from epoch_metrics t ${RUN_JOIN} order by 1, 2, 3, t.epoch, t.split collate "C"`,
  evaluations: `select ${RUN_KEY}, ${columns(evaluations, 't').join(', ')} from evaluations t ${RUN_JOIN} order by 1, 2, 3, t.split collate "C"`,
  curve_points: `select ${RUN_KEY}, ${columns(curvePoints, 't').join(', ')} from curve_points t ${RUN_JOIN} order by 1, 2, 3, t.split collate "C", t.kind collate "C", t.idx`,
  predictions: `select ${RUN_KEY}, ${columns(predictions, 't').join(', ')} from predictions t ${RUN_JOIN} order by 1, 2, 3, t.split collate "C", t.image collate "C"`,
  run_logs: `select ${RUN_KEY}, ${columns(runLogs, 't').join(', ')} from run_logs t ${RUN_JOIN} order by 1, 2, 3, t.id`,
  failed_attempts: `select ${RUN_KEY}, ${columns(failedAttempts, 't').join(', ')} from failed_attempts t ${RUN_JOIN} order by 1, 2, 3, t.attempt`,
};

/** Every table's rows, each row as a JSON line of text values. */
export async function dumpDatabase(database: Database): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, query] of Object.entries(DUMP_QUERIES)) {
    out[table] = (await database.query(query)).map((row) => JSON.stringify(row));
  }
  return out;
}
