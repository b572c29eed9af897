/**
 * The per-epoch mean ± std bands of the page's charts: every metric of every epoch averaged over an experiment's
 * completed and running runs, per model and split.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { MODEL_NAMES, type MetricName, type ModelName } from '../study/run.ts';
import type { Database } from './client.ts';
import { epochMetricValues, epochs, runs } from './schema.ts';
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

/** The bands of an experiment (of one model when given), by model (the study's order), split, epoch and metric. */
export async function epochBands(database: Database, experimentId: number, model?: ModelName): Promise<EpochBandRow[]> {
  const v = epochMetricValues;
  return database.db
    .select({
      model: runs.model,
      split: v.split,
      epoch: v.epoch,
      metric: v.metric,
      n: sql<number>`count(*)::integer`,
      mean: sql<number>`avg(${v.value})`,
      std: sql<number | null>`stddev_samp(${v.value})`,
    })
    .from(v)
    .innerJoin(runs, eq(runs.id, v.runId))
    .where(and(eq(runs.experimentId, experimentId), model ? eq(runs.model, model) : undefined, inArray(runs.status, [...BANDED])))
    .groupBy(runs.model, v.split, v.epoch, v.metric)
    .orderBy(positionIn(MODEL_NAMES, runs.model), asc(v.split), asc(v.epoch));
}

/** Per model: how many of its completed and running runs have an epoch. */
export async function runsWithEpochs(database: Database, experimentId: number): Promise<{ model: ModelName; runs: number }[]> {
  return database.db
    .select({ model: runs.model, runs: sql<number>`count(distinct ${runs.id})::integer` })
    .from(runs)
    .innerJoin(epochs, eq(epochs.runId, runs.id))
    .where(and(eq(runs.experimentId, experimentId), inArray(runs.status, [...BANDED])))
    .groupBy(runs.model);
}
