/** One run's Grad-CAM of one image, drawn over it (`melanoma saliency`, the page's "where it looks"). */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageSource, PredictingRun, SaliencyResult } from '../../study/prediction.ts';
import { assertDeviceHealthy, inputTensor } from '../backend/index.ts';
import { decodeImage } from '../../study/data/decode.ts';
import { toUnit } from '../../study/data/pixels.ts';
import { camSplit, gradCam, type CamSplit } from './grad-cam.ts';
import { runModel } from './predict.ts';
import { saliencyPng } from './saliency-image.ts';

const splits = new WeakMap<tfl.LayersModel, CamSplit>();

export async function saliency(run: PredictingRun, image: ImageSource): Promise<SaliencyResult> {
  const m = await runModel(run);
  if (!splits.has(m.model)) splits.set(m.model, camSplit(m.model));
  const pixels = await decodeImage(image.source, run.imageSize, image.name);
  const values = new Float32Array(pixels.length);
  toUnit(pixels, values);
  const x = inputTensor(values, [1, run.imageSize, run.imageSize, 3]);
  try {
    const cam = await gradCam(splits.get(m.model)!, x);
    assertDeviceHealthy();
    const png = await saliencyPng(image.source, cam);
    return {
      png: new Uint8Array(png.buffer, png.byteOffset, png.length),
      layer: cam.layer,
      height: cam.height,
      width: cam.width,
      probability: cam.probability,
    };
  } finally {
    x.dispose();
  }
}
