/**
 * The per-epoch mean ± std bands of the page's charts: every metric of every epoch averaged over an experiment's
 * completed and running runs, per model and split.
 */
import { and, asc, eq, exists, inArray, type SQL, sql } from 'drizzle-orm';
import { METRIC_NAMES, MODEL_NAMES, type MetricName, type ModelName } from '../study/run.ts';
import type { Database } from './client.ts';
import { epochMetrics, runs } from './schema.ts';
import { positionIn } from './sql-helpers.ts';

export interface EpochBandRow {
  model: ModelName;
  split: 'train' | 'val';
  epoch: number;
  metric: MetricName;
  /** Runs with the metric at this epoch (fewer as runs stop early). */
  n: number;
  mean: number;
  /** Sample standard deviation; null for a single run. */
  std: number | null;
}

const BANDED = ['completed', 'running'] as const;

/** Per metric: how many runs have it, its mean and sample std, as columns `<metric>_n`, `_mean`, `_std`. */
const aggregates = Object.fromEntries(
  METRIC_NAMES.flatMap((m) => {
    const column = epochMetrics[m];
    return [
      [`${m}_n`, sql<number>`count(${column})::integer`],
      [`${m}_mean`, sql<number | null>`avg(${column})`],
      [`${m}_std`, sql<number | null>`stddev_samp(${column})`],
    ];
  }),
) as Record<`${MetricName}_${'n' | 'mean' | 'std'}`, SQL<number | null>>;

/** The bands of an experiment (of one model when given), by model (the study's order), split, epoch and metric. */
export async function epochBands(database: Database, experimentId: number, model?: ModelName): Promise<EpochBandRow[]> {
  const rows = await database.db
    .select({ model: runs.model, split: epochMetrics.split, epoch: epochMetrics.epoch, ...aggregates })
    .from(epochMetrics)
    .innerJoin(runs, eq(runs.id, epochMetrics.runId))
    .where(and(eq(runs.experimentId, experimentId), model ? eq(runs.model, model) : undefined, inArray(runs.status, [...BANDED])))
    .groupBy(runs.model, epochMetrics.split, epochMetrics.epoch)
    .orderBy(positionIn(MODEL_NAMES, runs.model), asc(epochMetrics.split), asc(epochMetrics.epoch));
  return rows.flatMap((r) =>
    METRIC_NAMES.flatMap((metric) => {
      const n = r[`${metric}_n`] ?? 0;
      return n === 0 ? [] : [{ model: r.model, split: r.split, epoch: r.epoch, metric, n, mean: r[`${metric}_mean`] as number, std: r[`${metric}_std`] }];
    }),
  );
}

/** Per model: how many of its completed and running runs have an epoch. */
export async function runsWithEpochs(database: Database, experimentId: number): Promise<{ model: ModelName; runs: number }[]> {
  return database.db
    .select({ model: runs.model, runs: sql<number>`count(*)::integer` })
    .from(runs)
    .where(
      and(
        eq(runs.experimentId, experimentId),
        inArray(runs.status, [...BANDED]),
        exists(database.db.select({ one: sql`1` }).from(epochMetrics).where(eq(epochMetrics.runId, runs.id))),
      ),
    )
    .groupBy(runs.model);
}
