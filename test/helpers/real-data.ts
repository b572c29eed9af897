/**
 * Access to the real dataset in ../shared for tests. Tests that need it call `realDataOrSkip(t)`, which skips
 * them with a loud message when ../shared is absent (a machine that has only the repository).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
export const SHARED = resolve(PROJECT_ROOT, '..', 'shared');
export const REAL_DATA = join(SHARED, 'data', 'melanoma');
export const SHARED_WEIGHTS = join(SHARED, 'weights');

export function hasRealData(): boolean {
  return existsSync(join(REAL_DATA, 'train', 'benign'));
}

/** Returns the dataset folder, or skips the test (with a message on stderr) when ../shared is missing. */
export function realDataOrSkip(t: TestContext): string | null {
  if (hasRealData()) return REAL_DATA;
  const why = `SKIPPED: ${t.name} needs the real dataset at ${REAL_DATA} (../shared is absent)`;
  process.stderr.write(`\n*** ${why} ***\n`);
  t.skip(why);
  return null;
}

export function sharedWeightsOrSkip(t: TestContext, sub: string): string | null {
  const dir = join(SHARED_WEIGHTS, sub);
  if (existsSync(dir)) return dir;
  const why = `SKIPPED: ${t.name} needs the pretrained weights at ${dir} (../shared is absent)`;
  process.stderr.write(`\n*** ${why} ***\n`);
  t.skip(why);
  return null;
}

function numericSort(names: string[]): string[] {
  return [...names].sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
}

/**
 * A small real subset in the Kaggle layout, made of copies of the real images (the page serves no file whose real
 * path lies outside the data folder, so links would not do): the first `perClass.train`
 * files (by number) of each train class folder and `perClass.test` of each test class folder.
 */
export function realSubset(perClass: { train: number; test: number }, root = REAL_DATA): string {
  const dir = mkdtempSync(join(tmpdir(), 'melanoma-subset-'));
  for (const split of ['train', 'test'] as const) {
    for (const cls of ['benign', 'malignant']) {
      const src = join(root, split, cls);
      const dst = join(dir, split, cls);
      mkdirSync(dst, { recursive: true });
      for (const name of numericSort(readdirSync(src)).slice(0, perClass[split])) {
        copyFileSync(join(src, name), join(dst, name));
      }
    }
  }
  return dir;
}
