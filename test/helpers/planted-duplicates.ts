/**
 * A small real subset (test/helpers/real-data.ts) with two planted duplicates: a train benign image resized to
 * 180 px and saved again as JPEG at quality 60 in test/benign/planted.jpg (a near duplicate across splits), and a
 * byte copy of a train malignant image as train/malignant/zz-twin.jpg (an exact duplicate within train).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { indexDataset } from '../../study/data/dataset.ts';
import { realSubset } from './real-data.ts';

export interface PlantedSubset {
  dir: string;
  /** Dataset paths: the train image copied into test, and the image copied within train. */
  source: string;
  planted: string;
  twin: string;
  twinCopy: string;
}

export async function plantedSubset(real: string, perClass = { train: 8, test: 8 }): Promise<PlantedSubset> {
  const dir = realSubset(perClass, real);
  const index = await indexDataset(dir, { warn: () => {} });
  const source = index.splits.train.find((r) => r.label === 0)!;
  const twin = index.splits.train.find((r) => r.label === 1)!;
  await sharp(source.path)
    .resize(180, 180)
    .jpeg({ quality: 60 })
    .toFile(join(dir, 'test', 'benign', 'planted.jpg'));
  copyFileSync(twin.path, join(dir, 'train', 'malignant', 'zz-twin.jpg'));
  return { dir, source: source.id, planted: 'test/benign/planted.jpg', twin: twin.id, twinCopy: 'train/malignant/zz-twin.jpg' };
}
