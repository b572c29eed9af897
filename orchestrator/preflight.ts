/**
 * Checks made before anything is stored or run, so that a study does not fail hours in: the flags (each a one-line
 * UsageError naming the flag and the value), the dataset and every one of its images, and the pretrained weights
 * (downloaded into the cache when missing, as Keras does on first use).
 */
import { UserError } from '../common/errors.ts';
import { checkWritableFolder } from '../common/writable-folder.ts';
import { checkImages } from '../study/data/check.ts';
import { checkTarget } from '../db/client.ts';
import { checkMinImageSize } from '../study/image-size.ts';
import { DEFAULT_IMAGE_SIZE } from '../study/protocol.ts';
import { indexDataset, resolveDataDir } from '../study/data/dataset.ts';
import { downloadProgress, megabytes } from '../common/download-progress.ts';
import { defaultWeightDirs, locatePretrained, PRETRAINED, pretrainedUrl, weightsCacheDir } from '../study/weights/pretrained.ts';
import { ensurePretrained } from '../study/weights/download.ts';
import { pretrainedOf, withoutPretrained, type ModelName, type PretrainedName } from '../study/models.ts';
import { SPLITS } from '../study/run.ts';
import type { OrchestrateOptions } from './orchestrate.ts';
import { checkListedGpus, checkWorkers } from './slots.ts';

/**
 * The flags that need more than their parser: image size against each model's minimum, --workers against the
 * cores, the database target, the output folders, --gpus against the GPUs found (slowest last: it may start Dawn).
 */
export function checkFlags(o: Omit<OrchestrateOptions, 'gpus'> & { gpus?: number[] }, models: readonly ModelName[]): void {
  checkMinImageSize(o.imageSize ?? DEFAULT_IMAGE_SIZE, models);
  checkWorkers(o.workers, o.oversubscribe ?? false);
  checkTarget(o.db);
  checkWritableFolder(o.out, '--out');
  if (typeof o.featureCache === 'string') checkWritableFolder(o.featureCache, '--feature-cache');
  checkListedGpus(o.gpus, o.backend);
}

/**
 * The dataset folder (flag, $MELANOMA_DATA, ./data), with every image decoded once at the runs' image size: throws
 * with how to get the data when it is missing or empty, and names every image that cannot be decoded. Without an
 * image size (a dry run) it lists the folder only.
 */
export async function checkDataset(
  flag: string | undefined,
  o: { imageSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ dir: string; fingerprint: string; images: Record<'train' | 'val' | 'test', number>; checkSeconds: number }> {
  const dir = resolveDataDir(flag);
  const index = await indexDataset(dir);
  const images = { train: index.splits.train.length, val: index.splits.val.length, test: index.splits.test.length };
  if (images.train === 0 || images.val === 0 || images.test === 0) {
    throw new UserError(`dataset ${dir} has ${images.train} training, ${images.val} validation and ${images.test} test images: every split needs some.`);
  }
  const started = performance.now();
  if (o.imageSize !== undefined) {
    await checkImages(
      SPLITS.flatMap((s) => index.splits[s]),
      index.root,
      { imageSize: o.imageSize, onProgress: o.onProgress },
    );
  }
  return { dir, fingerprint: index.fingerprint, images, checkSeconds: (performance.now() - started) / 1000 };
}

/** The ImageNet files the planned models start from, directly or through the base they fine-tune. */
function pretrainedOfModels(models: readonly ModelName[]): PretrainedName[] {
  return [...new Set(models.map(pretrainedOf).filter((n) => n !== null))];
}

/**
 * What a dry run reports: each planned model's weights that are neither at --weights nor in a weights folder
 * (a real start downloads those into the cache). Throws, naming the fix, for a --weights that lacks them.
 */
export function checkPretrainedWeights(models: readonly ModelName[], weights: string | null): void {
  const missing: string[] = [];
  for (const name of pretrainedOfModels(models)) {
    try {
      locatePretrained(name, weights);
    } catch (err) {
      if (weights != null) throw new UserError(`${err instanceof Error ? err.message : String(err)}\n  ${withoutPretrained(name, 'study')}.`);
      missing.push(
        `${name}: ${PRETRAINED[name].file} is in none of ${defaultWeightDirs().join(', ')}; a real start downloads it from ${pretrainedUrl(name)} into ${weightsCacheDir()}`,
      );
    }
  }
  if (missing.length > 0) throw new UserError(missing.join('; '));
}

/**
 * Makes sure every planned pretrained model has its ImageNet weights before anything is stored: found at --weights
 * or in a weights folder, else downloaded into the cache with a progress bar on stderr. A failed download is a
 * one-line error naming the file, the cache folder and the alternative.
 */
export async function ensurePretrainedWeights(models: readonly ModelName[], weights: string | null, say: (line: string) => void): Promise<void> {
  for (const name of pretrainedOfModels(models)) {
    const progress = downloadProgress(`  ${PRETRAINED[name].file}`);
    try {
      const got = await ensurePretrained(name, {
        weights,
        alternative: withoutPretrained(name, 'study'),
        onDownload: (url, dest) => say(`weights: ${name} not cached; downloading ${url} to ${dest}`),
        onProgress: (p) => progress.update(p),
      });
      if (got.download)
        say(`weights: ${got.location.path}, ${megabytes(got.download.bytes)}, md5 ${got.download.md5}${PRETRAINED[name].md5 ? ' verified' : ''}`);
    } finally {
      progress.stop();
    }
  }
}
