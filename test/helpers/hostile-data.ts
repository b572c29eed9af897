/**
 * Datasets with hostile entries, made at test time in a temporary folder: a Kaggle layout of small noise JPEGs,
 * plus, on request, JPEGs cut short, a valid JPEG with a hidden name, a .DS_Store and a sub-folder in a class folder.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** A JPEG of random pixels (noise keeps the file large enough to cut in a meaningful place). */
export async function noiseJpeg(path: string, size: number, seed: number): Promise<void> {
  const pixels = Buffer.alloc(size * size * 3);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pixels[i] = x >>> 24;
  }
  await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(path);
}

/** Rewrites a JPEG with only its first `fraction` of bytes: a file cut short, as by an interrupted copy. */
export function truncateFile(path: string, fraction = 0.5): void {
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

export interface HostileOptions {
  /** Images per class folder (default 6). */
  perClass?: number;
  /** Image size in px (default 64). */
  size?: number;
  /** Images to cut short, by id, e.g. 'test/benign/2.jpg' (must be among the generated names 1.jpg..N.jpg). */
  truncated?: string[];
  /** train/benign/.hidden.jpg, a valid JPEG. */
  hiddenImage?: boolean;
  /** train/malignant/.DS_Store. */
  dsStore?: boolean;
  /** test/benign/extra/ holding a valid JPEG. */
  subfolder?: boolean;
}

export async function hostileDataset(o: HostileOptions = {}): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'melanoma-hostile-'));
  const size = o.size ?? 64;
  let seed = 0;
  for (const split of ['train', 'test']) {
    for (const cls of ['benign', 'malignant']) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (let i = 1; i <= (o.perClass ?? 6); i++) await noiseJpeg(join(root, split, cls, `${i}.jpg`), size, ++seed);
    }
  }
  for (const id of o.truncated ?? []) truncateFile(join(root, id));
  if (o.hiddenImage) await noiseJpeg(join(root, 'train', 'benign', '.hidden.jpg'), size, ++seed);
  if (o.dsStore) writeFileSync(join(root, 'train', 'malignant', '.DS_Store'), Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
  if (o.subfolder) {
    mkdirSync(join(root, 'test', 'benign', 'extra'));
    await noiseJpeg(join(root, 'test', 'benign', 'extra', '1.jpg'), size, ++seed);
  }
  return root;
}
