/**
 * New images through the best checkpoints of completed runs (study/prediction.ts says what the numbers mean). An
 * image is decoded and scaled as the runs' own evaluation does it (study/data/decode.ts, then v / 255), so that a
 * dataset image gets the probability its run stored. The caller initialises the backend (initBackend) first.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSource, PredictingRun } from '../../study/prediction.ts';
import { assertDeviceHealthy, inputTensor } from '../backend/index.ts';
import type { AugmentConfig } from '../../study/data/augment.ts';
import { decodeImage } from '../../study/data/decode.ts';
import { toUnit } from '../../study/data/pixels.ts';
import { MODEL_JSON } from '../models/file-io.ts';
import { buildModel, loadWeightsByName, type StudyModel } from '../models/index.ts';
import { forward } from '../train/step.ts';
import { ttaViews, viewPixels } from './tta.ts';

/** Images (times their views) per forward pass. */
const BATCH = 64;
/** Models a thread keeps loaded between calls (the page's worker predicts with the same runs again and again). */
const KEPT_MODELS = 12;
const models = new Map<string, Promise<StudyModel>>();

/** The run's model with its best checkpoint's weights, loaded once per thread while the checkpoint is unchanged. */
export function runModel(run: PredictingRun): Promise<StudyModel> {
  const key = `${run.checkpointDir} ${statSync(join(run.checkpointDir, MODEL_JSON)).mtimeMs} ${run.model} ${run.imageSize} ${run.inputScaling}`;
  let m = models.get(key);
  if (m) {
    models.delete(key); // re-inserted last: the map's order is the order of use
  } else {
    m = loadRunModel(run);
    m.catch(() => models.delete(key));
    while (models.size >= KEPT_MODELS) {
      const [oldest, loaded] = models.entries().next().value!;
      models.delete(oldest);
      void loaded.then(
        (x) => x.model.dispose(),
        () => {},
      );
    }
  }
  models.set(key, m);
  return m;
}

async function loadRunModel(run: PredictingRun): Promise<StudyModel> {
  // Random initial weights, all replaced by the checkpoint's: no ImageNet file is read.
  const m = await buildModel(run.model, { imageSize: run.imageSize, seed: run.seed, outputBias: 0, randomWeights: true, inputScaling: run.inputScaling });
  try {
    await loadWeightsByName(m.model, run.checkpointDir);
  } catch (err) {
    m.model.dispose();
    throw err;
  }
  return m;
}

/**
 * Each image's probability under each run ([image][run]): with `tta` > 1 the mean over the image's test-time views
 * (tta.ts), drawn from `augment`.
 */
export async function predictImages(
  runs: readonly PredictingRun[],
  images: readonly ImageSource[],
  o: { tta: number; augment: AugmentConfig },
): Promise<number[][]> {
  const out = images.map(() => new Array<number>(runs.length));
  const decoded = new Map<number, Promise<Uint8Array[]>>();
  const pixelsAt = (size: number) => {
    if (!decoded.has(size)) decoded.set(size, Promise.all(images.map((image) => decodeImage(image.source, size, image.name))));
    return decoded.get(size)!;
  };
  for (const [r, run] of runs.entries()) {
    const size = run.imageSize;
    const [m, pixels] = await Promise.all([runModel(run), pixelsAt(size)]);
    const views = ttaViews(o.tta, o.augment, size);
    const perBatch = Math.max(1, Math.floor(BATCH / views.length));
    const n = size * size * 3;
    for (let start = 0; start < images.length; start += perBatch) {
      const chunk = pixels.slice(start, start + perBatch);
      const x = new Float32Array(chunk.length * views.length * n);
      for (const [i, image] of chunk.entries()) toUnit(viewPixels(image, size, views), x, i * views.length * n);
      const input = inputTensor(x, [chunk.length * views.length, size, size, 3]);
      const p = tf.tidy(() => forward(m, input, false, 'all'));
      const values = await p.data();
      tf.dispose([input, p]);
      for (let i = 0; i < chunk.length; i++) {
        let sum = 0;
        for (let k = 0; k < views.length; k++) sum += values[i * views.length + k]!;
        out[start + i]![r] = sum / views.length;
      }
    }
  }
  assertDeviceHealthy();
  return out;
}
