/**
 * The dataset index: which image files make up train, val and test, read from the Kaggle layout
 *   ROOT/train/{benign,malignant}/*   ROOT/test/{benign,malignant}/*
 * Validation is carved out of each train class folder by a protocol's rule (study/protocol.ts): the first 20% of
 * its files in sorted order, as Keras' ImageDataGenerator(validation_split=0.2) with flow_from_directory(subset=...)
 * takes them (the seed protocol), or the last 20%, as the article's sentence says (the extended protocol).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../../common/errors.ts';
import { validationRule, type ValidationRule } from '../protocol.ts';
import type { Split } from '../run.ts';

export interface ImageRecord {
  /** Path relative to the dataset root, e.g. 'train/benign/123.jpg' (a val record keeps its train/ path). */
  id: string;
  /** Absolute path. */
  path: string;
  label: 0 | 1;
  split: Split;
}

/** An entry of a class folder that is not taken as an image, and why. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface DatasetIndex {
  root: string;
  splits: Record<Split, ImageRecord[]>;
  /** Entries of the class folders left out (hidden files, sub-folders, non-image files, broken links). */
  skipped: SkippedEntry[];
  /** sha256 over the sorted ids and file sizes of every image (independent of the validation split). */
  fingerprint: string;
}

export const CLASSES = ['benign', 'malignant'] as const;
export type ClassName = (typeof CLASSES)[number];

/** Extensions taken as images (case-insensitive), Keras' list less the formats sharp cannot read, plus webp. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'] as const;

export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Python's sorted() on str: code point order (UTF-8 byte order is the same), so '10.jpg' < '2.jpg'. */
export function pythonSort(names: string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * One class folder's split. `first`: keras_preprocessing's DirectoryIterator with subset='validation' uses
 * `split = (0, v)` and `start, stop = int(split[0] * n), int(split[1] * n)`, so validation = files[0 : int(v*n)],
 * training = the rest. `last`: validation = the last int(v*n) files. Files sorted as Python's sorted() (pythonSort).
 */
export function kerasSplit<T>(sortedFiles: T[], rule: ValidationRule): { train: T[]; val: T[] } {
  const count = Math.floor(rule.fraction * sortedFiles.length);
  if (rule.take === 'first') return { train: sortedFiles.slice(count), val: sortedFiles.slice(0, count) };
  const cut = sortedFiles.length - count;
  return { train: sortedFiles.slice(0, cut), val: sortedFiles.slice(cut) };
}

export interface IndexOptions {
  /** Which files of each train class folder are validation (default: the default protocol's, the first 20%). */
  validation?: ValidationRule;
  /** Receives one message per skipped entry of a class folder (default: printed on stderr). */
  warn?: (message: string) => void;
}

/**
 * Lists the dataset. Every entry of a class folder that is not taken as an image is skipped with a warning naming
 * it: hidden files (leading '.', even a valid image, as Keras skips them), sub-folders (not read: the Kaggle layout
 * has none), non-image files (by extension) and broken links. Record order is deterministic: split, then class
 * (benign, malignant), then file name in string order.
 */
export async function indexDataset(root: string, opts: IndexOptions = {}): Promise<DatasetIndex> {
  const validation = opts.validation ?? validationRule();
  if (!(Number.isFinite(validation.fraction) && validation.fraction >= 0 && validation.fraction < 1)) {
    throw new UserError(`validation split ${validation.fraction} is not a fraction in [0, 1).`);
  }
  if (validation.take !== 'first' && validation.take !== 'last')
    throw new UserError(`validation rule '${String(validation.take)}' is neither 'first' nor 'last'.`);
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const absRoot = resolve(root);
  const splits: Record<Split, ImageRecord[]> = { train: [], val: [], test: [] };
  const sizes = new Map<string, number>();
  const skipped: SkippedEntry[] = [];
  const skip = (entry: SkippedEntry) => {
    skipped.push(entry);
    warn(`skipping ${entry.path}: ${entry.reason}.`);
  };

  for (const folder of ['train', 'test'] as const) {
    const dir = join(absRoot, folder);
    if (!isDirectory(dir)) {
      throw new UserError(`missing folder ${dir}: a dataset folder must hold train/ and test/, each with benign/ and malignant/.`);
    }
    for (const [label, cls] of CLASSES.entries()) {
      const classDir = join(dir, cls);
      if (!isDirectory(classDir)) throw new UserError(`missing class folder ${classDir} (expected ${folder}/benign and ${folder}/malignant).`);
      const files = await listImages(classDir, skip);
      if (files.length === 0) throw new UserError(`class folder ${classDir} has no images (${IMAGE_EXTENSIONS.join(', ')}).`);
      const toRecord =
        (split: Split) =>
        (f: { name: string; size: number }): ImageRecord => {
          const id = `${folder}/${cls}/${f.name}`;
          sizes.set(id, f.size);
          return { id, path: join(classDir, f.name), label: label as 0 | 1, split };
        };
      if (folder === 'test') {
        splits.test.push(...files.map(toRecord('test')));
      } else {
        const { train, val } = kerasSplit(files, validation);
        splits.train.push(...train.map(toRecord('train')));
        splits.val.push(...val.map(toRecord('val')));
      }
    }
  }
  return { root: absRoot, splits, skipped, fingerprint: fingerprintOf(sizes) };
}

function fingerprintOf(sizes: Map<string, number>): string {
  const hash = createHash('sha256');
  for (const id of pythonSort([...sizes.keys()])) hash.update(`${id}\t${sizes.get(id)}\n`);
  return hash.digest('hex');
}

async function listImages(dir: string, skip: (entry: SkippedEntry) => void): Promise<{ name: string; size: number }[]> {
  const names = pythonSort(await readdir(dir));
  // stat follows symlinks (a folder of links to the images is fine); a dangling link gives null.
  const stats = await Promise.all(names.map((name) => stat(join(dir, name)).catch(() => null)));
  const out: { name: string; size: number }[] = [];
  names.forEach((name, i) => {
    const st = stats[i];
    const path = join(dir, name);
    if (name.startsWith('.')) skip({ path, reason: st?.isDirectory() ? 'hidden folder' : 'hidden file' });
    else if (!st) skip({ path, reason: 'broken link or unreadable entry' });
    else if (st.isDirectory()) skip({ path, reason: 'a sub-folder (class folders are not read recursively)' });
    else if (!st.isFile()) skip({ path, reason: 'not a regular file' });
    else if (!isImageName(name)) skip({ path, reason: `not an image file (expected ${IMAGE_EXTENSIONS.join(', ')})` });
    else out.push({ name, size: st.size });
  });
  return out;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export const DATA_ENV = 'MELANOMA_DATA';

/**
 * The dataset folder: the --data flag, else $MELANOMA_DATA, else ./data, as an absolute path. Throws a UserError
 * that says how to get the data when the folder does not exist.
 */
export function resolveDataDir(flag?: string | null): string {
  const env = process.env[DATA_ENV];
  const [value, from] = flag ? [flag, '--data'] : env ? [env, `$${DATA_ENV}`] : ['data', 'the default ./data'];
  const dir = resolve(value);
  if (isDirectory(dir)) return dir;
  const what = existsSync(dir) ? 'is not a folder' : 'does not exist';
  throw new UserError(
    [
      `dataset folder ${dir} (from ${from}) ${what}.`,
      'Get the Kaggle dataset "Skin Cancer: Malignant vs. Benign" by Claudio Fanconi',
      '(https://www.kaggle.com/datasets/fanconic/skin-cancer-malignant-vs-benign), unpack the archive, and point',
      'the project at the folder that holds train/ and test/ (each with benign/ and malignant/):',
      `  --data DIR, or export ${DATA_ENV}=DIR, or unpack it into ./data`,
    ].join('\n'),
  );
}
