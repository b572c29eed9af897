/** Experiments: created once by name, resumed by name, compared by configuration. */
import { eq, inArray, max, min, sql } from 'drizzle-orm';
import { UserError } from '../common/errors.ts';
import type { ModelName } from '../study/run.ts';
import type { Database } from './client.ts';
import { experiments, runs } from './schema.ts';
import { onlyRow } from './sql-helpers.ts';

export type Experiment = typeof experiments.$inferSelect;

export interface ExperimentInput {
  name: string;
  /** The settings that define the experiment (models, run count, epochs, ...): a resume must match them. */
  config: Record<string, unknown>;
  datasetFingerprint: string | null;
  datasetDir: string | null;
  codeVersion: string | null;
}

/**
 * Creates the experiment, or resumes the one with this name. Resuming requires the same config and dataset
 * fingerprint; otherwise a UserError names each difference, unless `force` (then the stored config, fingerprint,
 * dataset folder and code version are replaced by the given ones). Differences at config paths `updatable`
 * accepts (e.g. 'protocol.models.baseline.runs.value') do not block a resume: the stored config then takes the
 * given one. A resumed experiment is unfinished again. `join` only resumes: an experiment that does not exist is a
 * UserError.
 */
export async function createOrResumeExperiment(
  database: Database,
  input: ExperimentInput,
  opts: { force?: boolean; updatable?: (path: string) => boolean; join?: boolean } = {},
): Promise<Experiment & { resumed: boolean }> {
  const name = input.name.trim();
  if (name === '') throw new UserError('the experiment name is empty.');
  const config = normalizeJson(input.config) as Record<string, unknown>;
  const values = {
    name,
    config,
    datasetFingerprint: input.datasetFingerprint,
    datasetDir: input.datasetDir,
    codeVersion: input.codeVersion,
  };
  const { db } = database;
  return db.transaction(async (tx) => {
    if (!opts.join) {
      const [created] = await tx.insert(experiments).values(values).onConflictDoNothing({ target: experiments.name }).returning();
      if (created) return { ...created, resumed: false };
    }
    const rows = await tx.select().from(experiments).where(eq(experiments.name, name)).for('update');
    if (opts.join && rows.length === 0) throw new UserError(`experiment '${name}' is not in the database, and joining one (--join) never creates it.`);
    const existing = onlyRow(rows, `reading experiment '${name}' after its insert conflicted`);
    const changed = configChanges(existing.config, config);
    const differences = changed.filter((d) => !opts.updatable?.(d.path)).map((d) => d.text);
    if (existing.datasetFingerprint !== null && input.datasetFingerprint !== null && existing.datasetFingerprint !== input.datasetFingerprint) {
      differences.push(`dataset fingerprint (stored ${existing.datasetFingerprint}, now ${input.datasetFingerprint}: the dataset changed)`);
    }
    if (differences.length > 0 && !opts.force) {
      throw new UserError(
        `experiment '${name}' already exists with a different configuration: ${differences.join('; ')}. ` +
          `Choose another experiment name, or force the resume to continue it with the new configuration.`,
      );
    }
    // The same data may sit in another folder on another machine (an imported experiment): the folder follows it.
    const update =
      differences.length > 0
        ? { ...values, finishedAt: null }
        : { ...(changed.length > 0 ? { config } : {}), datasetDir: input.datasetDir ?? existing.datasetDir, finishedAt: null };
    const resumed = onlyRow(await tx.update(experiments).set(update).where(eq(experiments.id, existing.id)).returning(), `updating experiment '${name}'`);
    return { ...resumed, resumed: true };
  });
}

export async function finishExperiment(database: Database, experimentId: number): Promise<void> {
  await database.db.update(experiments).set({ finishedAt: sql`now()` }).where(eq(experiments.id, experimentId));
}

export async function getExperiment(database: Database, experimentId: number): Promise<Experiment | null> {
  const [row] = await database.db.select().from(experiments).where(eq(experiments.id, experimentId));
  return row ?? null;
}

export async function findExperiment(database: Database, name: string): Promise<Experiment | null> {
  const [row] = await database.db.select().from(experiments).where(eq(experiments.name, name));
  return row ?? null;
}

export async function experimentExists(database: Database, experimentId: number): Promise<boolean> {
  const [row] = await database.db.select({ id: experiments.id }).from(experiments).where(eq(experiments.id, experimentId));
  return row !== undefined;
}

/** The first of `ids` that is no experiment, or undefined when all are. */
export async function firstUnknownExperiment(database: Database, ids: readonly number[]): Promise<number | undefined> {
  const found = await database.db
    .select({ id: experiments.id })
    .from(experiments)
    .where(inArray(experiments.id, [...ids]));
  const known = new Set(found.map((r) => r.id));
  return ids.find((id) => !known.has(id));
}

export type ExperimentListItem = Experiment & {
  runs: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
  interrupted: number;
  /** The first start of any of its runs (null before one started) and the last end. */
  firstStartedAt: Date | null;
  lastFinishedAt: Date | null;
  /** The models of its runs (in no order). */
  models: ModelName[];
};

/** Every experiment (or those of `ids`), newest first, with its runs counted by status. */
export async function listExperiments(database: Database, opts: { ids?: readonly number[] } = {}): Promise<ExperimentListItem[]> {
  const count = (status: string) => sql<number>`(count(${runs.id}) filter (where ${runs.status} = ${status}))::integer`;
  return database.db
    .select({
      id: experiments.id,
      name: experiments.name,
      config: experiments.config,
      datasetFingerprint: experiments.datasetFingerprint,
      datasetDir: experiments.datasetDir,
      codeVersion: experiments.codeVersion,
      createdAt: experiments.createdAt,
      finishedAt: experiments.finishedAt,
      runs: sql<number>`count(${runs.id})::integer`,
      pending: count('pending'),
      running: count('running'),
      completed: count('completed'),
      failed: count('failed'),
      interrupted: count('interrupted'),
      firstStartedAt: min(runs.startedAt),
      lastFinishedAt: max(runs.finishedAt),
      models: sql<ModelName[]>`coalesce(array_agg(distinct ${runs.model}) filter (where ${runs.model} is not null), '{}')`,
    })
    .from(experiments)
    .leftJoin(runs, eq(runs.experimentId, experiments.id))
    .where(opts.ids ? inArray(experiments.id, [...opts.ids]) : undefined)
    .groupBy(experiments.id)
    .orderBy(sql`${experiments.createdAt} desc`, sql`${experiments.id} desc`);
}

/**
 * Config keys that name places on the machine that runs the experiment, not what its results depend on: they may
 * differ between the machines an experiment is carried across (melanoma export / import).
 */
export const MACHINE_LOCAL_CONFIG_KEYS: readonly string[] = ['out'];

/**
 * Config paths on which two records of one experiment may differ: the run counts (a rerun or another machine may
 * add runs) and the settings resolved from the protocol's name and overrides, which the overrides decide.
 */
export function growableConfigPath(path: string): boolean {
  return path === 'protocol.models' || path.startsWith('protocol.models.') || path === 'protocol.overrides.runs';
}

/** How two records of one experiment's config differ, machine-local keys and growable paths aside (see diffJson). */
export function configDifferences(stored: Record<string, unknown>, given: Record<string, unknown>): string[] {
  return configChanges(stored, given)
    .filter((d) => !growableConfigPath(d.path))
    .map((d) => d.text);
}

function configChanges(stored: Record<string, unknown>, given: Record<string, unknown>): { path: string; text: string }[] {
  const shared = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([k]) => !MACHINE_LOCAL_CONFIG_KEYS.includes(k)));
  return differencesAt(shared(stored), shared(given));
}

/** The name of the protocol an experiment follows: `config.protocol.name`, or 'none' for one recorded without. */
export function protocolName(config: Record<string, unknown>): string {
  const protocol = config.protocol;
  const name = protocol && typeof protocol === 'object' ? (protocol as Record<string, unknown>).name : undefined;
  return typeof name === 'string' ? name : 'none';
}

/** What JSON (and so jsonb) keeps of a value: no undefined members, no functions. */
function normalizeJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}

/** Paths where two JSON values differ, e.g. `epochs (stored 100, now 50)`; arrays compare as a whole. */
export function diffJson(stored: unknown, given: unknown): string[] {
  return differencesAt(stored, given).map((d) => d.text);
}

function differencesAt(stored: unknown, given: unknown, path = ''): { path: string; text: string }[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(stored) && isObject(given)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(given)])].sort();
    return keys.flatMap((k) => differencesAt(stored[k], given[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(stored) === JSON.stringify(given)) return [];
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));
  return [{ path: path || 'config', text: `${path || 'config'} (stored ${show(stored)}, now ${show(given)})` }];
}
