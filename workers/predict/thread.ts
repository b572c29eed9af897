/**
 * The task of the results page's prediction thread (web/predictor.ts starts it by file path, so that the page's
 * process never loads tfjs): new images through runs, or one run's Grad-CAM of an image. The thread keeps its
 * backend and the models it loaded (predict.ts) from one task to the next.
 */
import { forTransfer } from '../../common/errors.ts';
import type { PredictionTask, SaliencyResult } from '../../study/prediction.ts';
import { initBackend } from '../backend/index.ts';
import { predictImages } from './predict.ts';
import { saliency } from './saliency.ts';

export default async function predictionTask(task: PredictionTask): Promise<number[][] | SaliencyResult> {
  try {
    await initBackend(task.backend);
    if (task.kind === 'predict') return await predictImages(task.runs, task.images, { tta: task.tta, augment: task.augment });
    return await saliency(task.run, task.image);
  } catch (err) {
    throw forTransfer(err); // the page answers an error of the user's input with its message
  }
}
