/** The protocol settings of a RunSpec, with those a run recorded before protocols lacks taken from its protocol. */
import { protocolSettings, type AugmentationParams, type InputScaling, type ValidationRule } from './protocol.ts';
import type { RunSpec } from './run.ts';

export interface SpecSettings {
  augment: AugmentationParams | null;
  inputScaling: InputScaling;
  validation: ValidationRule;
}

export function specSettings(spec: RunSpec): SpecSettings {
  const fallback = protocolSettings(spec.model, spec.protocol);
  return {
    augment: spec.augment !== undefined ? spec.augment : fallback.augment,
    inputScaling: spec.inputScaling ?? fallback.inputScaling,
    validation: spec.validation ?? fallback.validation,
  };
}
