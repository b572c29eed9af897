/**
 * The image sizes the study's models accept: each model's smallest (its registry record's), and one largest for
 * all. No tfjs here: the orchestrator and the CLIs check --image-size against these before anything runs.
 */
import { UsageError } from '../common/errors.ts';
import { MODELS, type ModelName } from './models.ts';

/**
 * The largest --image-size, for every model. The biggest tensors of a run are Xception's block-2 activations:
 * 128 channels at about half the input side. At the default batch of 32 and side s that is 32 x (s/2)^2 x 128 x 4
 * bytes = 4096 s^2 bytes per tensor, and a layer holds its input and output at once: 2 x 4096 s^2 bytes must fit
 * the 4 GiB a wasm backend (32-bit memory) can address, and a WebGPU storage buffer's limit (at most 4 GiB), so
 * s <= 724. 512 keeps half of that for weights, gradients and the rest (2 GiB of activations at 512). The real
 * dataset's images are 224 px, so larger sizes only upsample them.
 */
export const MAX_IMAGE_SIZE = 512;

/** Throws a UsageError naming the flag and the value when --image-size is below a model's minimum. */
export function checkMinImageSize(imageSize: number, models: readonly ModelName[]): void {
  for (const model of models) {
    const min = MODELS[model].minImageSize;
    if (imageSize < min.px) {
      throw new UsageError(`--image-size ${imageSize} is too small for ${model}, which needs at least ${min.px} px (${min.why}).`);
    }
  }
}
