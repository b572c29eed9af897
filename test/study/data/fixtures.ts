/** Small synthetic datasets and images for the data tests, written into temporary folders. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export function tempDir(prefix = 'melanoma-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A solid-colour RGB PNG. */
export async function solidPng(path: string, size: number, rgb: [number, number, number]): Promise<void> {
  await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toFile(path);
}

/**
 * A Kaggle-layout dataset with `files[split][class]` names (empty files unless `images` is set, then real PNGs of
 * `size` px, each a distinct colour).
 */
export async function makeDataset(
  files: Record<'train' | 'test', Record<'benign' | 'malignant', string[]>>,
  o: { images?: boolean; size?: number } = {},
): Promise<string> {
  const root = tempDir();
  let k = 0;
  for (const split of ['train', 'test'] as const) {
    for (const cls of ['benign', 'malignant'] as const) {
      const dir = join(root, split, cls);
      mkdirSync(dir, { recursive: true });
      for (const name of files[split][cls]) {
        if (o.images) {
          k++;
          await solidPng(join(dir, name), o.size ?? 16, [(k * 37) % 256, (k * 91) % 256, (k * 53) % 256]);
        } else {
          writeFileSync(join(dir, name), `fake image ${name}`);
        }
      }
    }
  }
  return root;
}

export const names = (from: number, to: number, ext = '.jpg'): string[] => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}${ext}`);
