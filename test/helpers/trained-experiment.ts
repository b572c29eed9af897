/**
 * A small finished experiment with real checkpoints, for the tests of what runs trained models (melanoma predict,
 * saliency, the page's upload form): `orchestrate` trains two baseline runs for one epoch at 48 px on a real subset
 * (10 train and 4 test images per class), on wasm, storing their predictions as every run does.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { runCli, tempDir } from '../orchestrator/helpers.ts';
import { hasRealData, realDataOrSkip, realSubset } from './real-data.ts';

export interface TrainedExperiment {
  name: string;
  /** The dataset folder (a copy of the real subset). */
  data: string;
  /** The PGlite folder. */
  db: string;
  work: string;
  remove(): void;
}

/** Trains it; without the real data, null (and `t` is skipped). */
export async function trainedExperiment(t: TestContext | null, name = 'tiny'): Promise<TrainedExperiment | null> {
  if (!hasRealData()) {
    if (t) realDataOrSkip(t);
    return null;
  }
  const data = realSubset({ train: 10, test: 4 });
  const work = tempDir('trained');
  const remove = () => {
    rmSync(work, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  };
  const db = join(work, 'db');
  const args = [
    '--experiment',
    name,
    '--models',
    'baseline',
    '--runs',
    '2',
    '--epochs',
    '1',
    '--image-size',
    '48',
    '--backend',
    'wasm',
    '--workers',
    '1',
    '--no-estimate',
  ];
  const trained = await runCli([...args, '--data', data, '--db', db, '--out', join(work, 'out')]);
  if (trained.code !== 0) {
    remove();
    throw new Error(`orchestrate failed:\n${trained.stderr}`);
  }
  return { name, data, db, work, remove };
}
