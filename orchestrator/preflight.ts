/** Checks made before any run starts, so that a study does not fail hours in: the dataset, its images and pretrained weights. */
import { UserError } from '../common/errors.ts';
import { checkImages } from '../workers/data/check.ts';
import { indexDataset, resolveDataDir } from '../workers/data/dataset.ts';
import { locatePretrained } from '../workers/models/pretrained.ts';
import { SPLITS, type ModelName } from '../workers/protocol.ts';

/**
 * The dataset folder (flag, $MELANOMA_DATA, ./data), with every image decoded once at the runs' image size: throws
 * with how to get the data when it is missing or empty, and names every image that cannot be decoded.
 */
export async function checkDataset(
  flag: string | undefined,
  o: { imageSize: number; onProgress?: (done: number, total: number) => void },
): Promise<{ dir: string; fingerprint: string; images: Record<'train' | 'val' | 'test', number>; checkSeconds: number }> {
  const dir = resolveDataDir(flag);
  const index = await indexDataset(dir);
  const images = { train: index.splits.train.length, val: index.splits.val.length, test: index.splits.test.length };
  if (images.train === 0 || images.val === 0 || images.test === 0) {
    throw new UserError(`dataset ${dir} has ${images.train} training, ${images.val} validation and ${images.test} test images: every split needs some.`);
  }
  const started = performance.now();
  await checkImages(SPLITS.flatMap((s) => index.splits[s]), index.root, { imageSize: o.imageSize, onProgress: o.onProgress });
  return { dir, fingerprint: index.fingerprint, images, checkSeconds: (performance.now() - started) / 1000 };
}

const PRETRAINED_OF: Partial<Record<ModelName, 'xception' | 'mobilenet'>> = {
  xception: 'xception',
  'xception-ft': 'xception',
  mobilenet: 'mobilenet',
  'mobilenet-ft': 'mobilenet',
};

const ALTERNATIVE: Record<'xception' | 'mobilenet', string> = {
  xception: 'or run the study with MobileNetV2 instead: --models baseline,augmented,mobilenet,mobilenet-ft',
  mobilenet: 'or leave the mobilenet models out of --models',
};

/** Throws, naming `melanoma weights download <name>` and an alternative, when a planned model lacks its weights. */
export async function checkPretrainedWeights(models: readonly ModelName[], weights: string | null): Promise<void> {
  const names = [...new Set(models.map((m) => PRETRAINED_OF[m]).filter((n) => n !== undefined))];
  if (names.length === 0) return;
  const missing: { name: 'xception' | 'mobilenet'; message: string }[] = [];
  for (const name of names) {
    try {
      locatePretrained(name, weights);
    } catch (err) {
      missing.push({ name, message: err instanceof Error ? err.message : String(err) });
    }
  }
  if (missing.length > 0) {
    throw new UserError(missing.map((m) => `${m.message}\n  ${ALTERNATIVE[m.name]}.`).join('\n'));
  }
}
