/** The RunSpec of the tests that hand runs to a slot or store them: small, on the CPU, nothing pretrained. */
import { PROTOCOLS } from '../../study/protocol.ts';
import type { RunSpec } from '../../study/run.ts';

/**
 * A RunSpec with the test defaults (a baseline run of seed 1 at 64 px, batches of 8, patience 10, on the CPU, images
 * not cached) and the model's learning rate under the seed protocol; `fields` names where it runs, for how long, and
 * what else differs. Its keys come in RunSpec's order: its JSON is that of a literal with the same values.
 */
export function runSpec(fields: Partial<RunSpec> & Pick<RunSpec, 'dataDir' | 'outDir' | 'epochs'>): RunSpec {
  const { model = 'baseline', dataDir, outDir, epochs, ...rest } = fields;
  return {
    model,
    dataDir,
    outDir,
    seed: 1,
    epochs,
    imageSize: 64,
    batchSize: 8,
    learningRate: PROTOCOLS.seed.models[model].learningRate.value,
    patience: 10,
    backend: 'cpu',
    gpu: null,
    initFrom: null,
    weights: null,
    cacheImages: false,
    saveAugmented: null,
    ...rest,
  };
}
