/** A run's RunSpec, built in one place for `orchestrate` and `melanoma run`. */
import { runSettings, type ResolvedProtocol, type RunSettings } from './protocol.ts';
import type { ModelName, RunSpec } from './run.ts';

/** What a RunSpec holds beside its model, seed and protocol settings: where and how it runs on this machine. */
export type RunPlace = Omit<RunSpec, 'model' | 'seed' | 'protocol' | keyof RunSettings>;

/** The run of `model` with `seed`: the model's settings in the protocol (after its overrides), run at `place`. */
export function buildRunSpec(protocol: ResolvedProtocol, model: ModelName, seed: number, place: RunPlace): RunSpec {
  return { model, seed, ...place, ...runSettings(protocol.models[model]), protocol: protocol.name };
}
