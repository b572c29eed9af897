/**
 * What an experiment records as its config (`experiments.config`): the settings its runs' results depend on. A
 * resume must match them (db/experiments.ts compares two records key by key), so the keys are the ones stored
 * since the first experiments; `protocol` is absent in those recorded before protocols existed.
 */
import { z } from 'zod';
import type { ModelName } from './models.ts';
import { PROTOCOL_NAMES, type ModelProtocol, type Overrides, type ResolvedProtocol } from './protocol.ts';
import { BACKEND_NAMES } from './run.ts';

const count = z.number().int().positive();

const overridesSchema = z.object({
  runs: count.optional(),
  epochs: count.optional(),
  patience: count.optional(),
  learningRate: z.number().positive().optional(),
  batchSize: count.optional(),
  imageSize: count.optional(),
});

/** The protocol an experiment follows: its name, each model's settings as it resolved them, the flags' overrides. */
const recordedProtocolSchema = z.object({
  name: z.enum(PROTOCOL_NAMES),
  models: z.record(
    z.string(),
    z.custom<ModelProtocol>((v) => typeof v === 'object' && v !== null && 'epochs' in v, "a model's settings"),
  ),
  overrides: overridesSchema.default({}),
});

export const experimentConfigSchema = z.object({
  /** Run i of every model uses seed + i. */
  seed: z.number().int().nonnegative(),
  /** --epochs as given, null without it (the protocol's then). */
  epochs: count.nullable(),
  imageSize: count,
  batchSize: count,
  backend: z.enum(BACKEND_NAMES),
  /** --weights as given, null for the default locations. */
  weights: z.string().nullable(),
  /** The experiment's output folder on the machine that recorded it. */
  out: z.string(),
  protocol: recordedProtocolSchema.optional(),
});

export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;
/** A recorded protocol; one recorded before a model joined the registry has no settings for it. */
export type RecordedProtocol = Omit<ResolvedProtocol, 'models'> & { models: Partial<Record<ModelName, ModelProtocol>> };

const fields = (config: unknown): Record<string, unknown> => (config !== null && typeof config === 'object' ? (config as Record<string, unknown>) : {});

/** The protocol recorded in a stored config, or null for one recorded before protocols (or not by `orchestrate`). */
export function recordedProtocol(config: unknown): RecordedProtocol | null {
  const parsed = recordedProtocolSchema.safeParse(fields(config).protocol);
  return parsed.success ? (parsed.data as RecordedProtocol) : null;
}

/** The overrides of an experiment recorded before protocols: the flags it stored at the top of its config. */
export function legacyOverrides(config: unknown): Pick<Overrides, 'epochs' | 'imageSize' | 'batchSize'> {
  const c = fields(config);
  const given = (v: unknown) => (count.safeParse(v).success ? (v as number) : undefined);
  return { epochs: given(c.epochs), imageSize: given(c.imageSize), batchSize: given(c.batchSize) };
}
