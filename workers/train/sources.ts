/**
 * A run's input sources. Augmented training images go through the whole model every step (a transfer model's
 * frozen trunk runs outside the gradient tape, step.ts). What does not change from one epoch to the next is
 * computed once: the frozen trunk's activations of every unaugmented split (val and test always; train too when
 * the run does not augment), kept in memory and, with a feature store, on disk for the next run.
 */
import type { AugmentConfig } from '../../study/data/augment.ts';
import type { DatasetIndex } from '../../study/data/dataset.ts';
import type { ImageCache } from '../../study/data/image-cache.ts';
import type { StudyModel } from '../models/index.ts';
import { frozenTrunk } from '../models/trunk.ts';
import type { Split } from '../../study/run.ts';
import { featureKey, FeatureStore, trunkDigest } from './feature-store.ts';
import { featureSource, imageSource, type InputSource } from './inputs.ts';

export interface SourceOptions {
  imageSize: number;
  batchSize: number;
  seed: number;
  augment: AugmentConfig | null;
  cache: ImageCache | null;
  saveAugmentedDir: string | null;
  /** Folder of frozen-trunk activations shared by runs; null: in memory only. */
  featureCacheDir: string | null;
  /** Bytes of activations one split may keep in memory; above it the split streams images. */
  featureBudgetBytes: number;
  /** The backend's name and detail: activations computed on one backend are not reused on another. */
  backend: string;
  log?: (message: string) => void;
  /** Progress of computing a frozen trunk's activations (images done of the split's). */
  onCaching?: (done: number, total: number) => void;
}

export interface RunSources {
  /** `train` is augmented in its training batches only: its inference batches serve the final evaluation. */
  sourceOf(split: Split, forTraining: boolean): Promise<InputSource>;
}

export function runSources(m: StudyModel, data: DatasetIndex, o: SourceOptions): RunSources {
  const imagesOf = (split: Split, forTraining: boolean) =>
    imageSource(data.splits[split], {
      imageSize: o.imageSize,
      batchSize: o.batchSize,
      seed: o.seed,
      augment: forTraining ? o.augment : null,
      cache: o.cache,
      saveAugmentedDir: forTraining ? o.saveAugmentedDir : null,
    });
  const trunk = m.base ? frozenTrunk(m.base) : null;
  const store = trunk && o.featureCacheDir ? new FeatureStore(o.featureCacheDir) : null;
  let digest: Promise<string> | null = null;
  return {
    async sourceOf(split, forTraining) {
      const images = imagesOf(split, forTraining);
      // Augmented training batches change every epoch: the trunk runs on each of them.
      if (!trunk || (forTraining && o.augment)) return images;
      digest ??= store ? trunkDigest(trunk.trunk) : null;
      const key =
        digest &&
        featureKey({
          trunk: await digest,
          imageSize: o.imageSize,
          backend: o.backend,
          datasetFingerprint: data.fingerprint,
          ids: data.splits[split].map((r) => r.id),
        });
      const source = await featureSource(trunk, images, {
        batchSize: o.batchSize,
        seed: o.seed,
        budgetBytes: o.featureBudgetBytes,
        store: store && key ? { store, key } : null,
        log: (message) => o.log?.(`${split}: ${message}`),
        onProgress: o.onCaching,
      });
      return source ?? images;
    },
  };
}
