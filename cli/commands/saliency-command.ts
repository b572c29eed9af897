/** `melanoma saliency`: one run's Grad-CAM of one image as PNG (workers/predict/grad-cam.ts). */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../../common/errors.ts';
import { openDatabaseToRead, predictingRun } from '../../db/index.ts';
import { checkLesionImage } from '../../study/data/lesion-image.ts';
import { predictionBackend } from '../../study/prediction.ts';
import type { SaliencyFlags } from './saliency.ts';

export async function saliencyCommand(image: string, f: SaliencyFlags): Promise<void> {
  if (!f.out.toLowerCase().endsWith('.png')) throw new UsageError(`--out '${f.out}' must name a .png file.`);
  const folder = dirname(resolve(f.out));
  if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--out '${f.out}': the folder ${folder} does not exist.`);
  const database = await openDatabaseToRead(f.db, 'melanoma saliency');
  let run: Awaited<ReturnType<typeof predictingRun>>;
  try {
    run = await predictingRun(database, f.run);
  } finally {
    await database.close();
  }
  await checkLesionImage(image, image, run.imageSize);
  const [{ initBackend }, { saliency }] = await Promise.all([import('../../workers/backend/index.ts'), import('../../workers/predict/saliency.ts')]);
  await initBackend(f.backend ?? predictionBackend([run]));
  const s = await saliency(run, { name: image, source: image });
  writeFileSync(f.out, s.png);
  process.stderr.write(
    `run ${run.runId} (${run.model} #${run.runIndex} of '${run.experiment}'): p ${s.probability.toFixed(4)} for ${image}; ` +
      `Grad-CAM of ${s.layer} (${s.height}x${s.width}) written to ${f.out}\n`,
  );
}
