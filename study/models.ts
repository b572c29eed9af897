/** The study's models by name, and which model each fine-tuning model starts from. No tfjs. */

export const MODEL_NAMES = ['baseline', 'augmented', 'xception', 'xception-ft', 'mobilenet', 'mobilenet-ft'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** A fine-tuning model starts from the best weights of the same run index of its base model. */
export const FINE_TUNES: Partial<Record<ModelName, ModelName>> = {
  'xception-ft': 'xception',
  'mobilenet-ft': 'mobilenet',
};

/** The MobileNetV2 pair stands in for the Xception pair where Xception's weights are missing. */
export const STANDS_IN_FOR: Partial<Record<ModelName, ModelName>> = {
  mobilenet: 'xception',
  'mobilenet-ft': 'xception-ft',
};
