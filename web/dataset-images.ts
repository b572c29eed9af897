/**
 * The dataset behind the page's Dataset view: counts per split and class, sample images, and augmented training
 * images. Every image is addressed by its file id, the position of its record in the listing (train, then val,
 * then test, in indexDataset's order), so no request ever names a path.
 */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../common/errors.ts';
import { at } from '../common/indexing.ts';
import { DEFAULT_AUGMENT, applyAugment, sampleParams } from '../study/data/augment.ts';
import { CLASSES, indexDataset, type DatasetIndex, type ImageRecord } from '../study/data/dataset.ts';
import { decodeImage } from '../study/data/decode.ts';
import { augmentRng, epochOrder } from '../study/data/loader.ts';
import { findDuplicates } from '../study/duplicates.ts';
import { DEFAULT_IMAGE_SIZE, formatValue, validationRule, type ValidationRule } from '../study/protocol.ts';
import { SPLITS, type Split } from '../study/run.ts';
import type { ClassCounts, DatasetDuplicates, DatasetSample, DatasetSummary } from './api-types.ts';

const SAMPLES_PER_CLASS = 8;
const AUGMENT_SOURCES_PER_CLASS = 2;
const AUGMENT_EPOCHS = 5;
export const DEFAULT_AUGMENT_SEED = 1;

function tally(records: ImageRecord[]): ClassCounts {
  const malignant = records.filter((r) => r.label === 1).length;
  const total = records.length;
  return { benign: total - malignant, malignant, total, malignantRatio: total ? malignant / total : 0 };
}

/** `count` items spread evenly over `items` (the first, then every n/count-th). */
function spread<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  return Array.from({ length: count }, (_, k) => items[Math.floor((k * items.length) / count)]!);
}

export class DatasetImages {
  private index: Promise<{ index: DatasetIndex; records: ImageRecord[] }> | null = null;
  private byPath: Map<string, number> | null = null;
  private duplicateSearch: Promise<DatasetDuplicates> | null = null;

  constructor(
    readonly dataDir: string,
    readonly validation: ValidationRule = validationRule(),
  ) {}

  /** The listing, read once (the first request waits for it). */
  private listing() {
    this.index ??= indexDataset(this.dataDir, { validation: this.validation, warn: () => {} }).then((index) => ({
      index,
      records: SPLITS.flatMap((s) => index.splits[s]),
    }));
    // A failed listing (folder gone) is retried by the next request rather than cached.
    this.index.catch(() => (this.index = null));
    return this.index;
  }

  private sample(records: ImageRecord[], fileId: number): DatasetSample {
    const r = at(records, fileId, 'dataset file');
    return { fileId, split: r.split, label: CLASSES[r.label], name: r.id.slice(r.id.lastIndexOf('/') + 1) };
  }

  async summary(): Promise<DatasetSummary> {
    const { index, records } = await this.listing();
    const counts = Object.fromEntries(SPLITS.map((s) => [s, tally(index.splits[s])])) as Record<Split, ClassCounts>;
    const ids = records.map((_, i) => i);
    const ofClass = (label: 0 | 1, split?: Split) => ids.filter((i) => records[i]!.label === label && (!split || records[i]!.split === split));
    return {
      dataDir: index.root,
      fingerprint: index.fingerprint,
      validationSplit: this.validation.fraction,
      validation: { ...this.validation, description: formatValue(this.validation) },
      imageSize: DEFAULT_IMAGE_SIZE,
      counts,
      all: tally(records),
      samples: {
        benign: spread(ofClass(0), SAMPLES_PER_CLASS).map((i) => this.sample(records, i)),
        malignant: spread(ofClass(1), SAMPLES_PER_CLASS).map((i) => this.sample(records, i)),
      },
      augment: DEFAULT_AUGMENT,
      augmentSources: [0, 1].flatMap((label) => spread(ofClass(label as 0 | 1, 'train'), AUGMENT_SOURCES_PER_CLASS)).map((i) => this.sample(records, i)),
      augmentSeed: DEFAULT_AUGMENT_SEED,
      augmentEpochs: AUGMENT_EPOCHS,
    };
  }

  /**
   * The file ids of images given by their dataset paths ('test/malignant/1.jpg'), for results stored with the
   * dataset `fingerprint`: all null when this server's dataset is another one (its paths may name other images).
   */
  async fileIds(fingerprint: string | null, images: string[]): Promise<(number | null)[]> {
    const { index, records } = await this.listing();
    if (fingerprint !== index.fingerprint) return images.map(() => null);
    this.byPath ??= new Map(records.map((r, i) => [r.id, i]));
    return images.map((image) => this.byPath!.get(image) ?? null);
  }

  /**
   * The exact and near-duplicate pairs, found once per server (every image is decoded: about 20 s for the real
   * dataset's 3,297 on two cores) and kept; a failed search is tried again by the next request.
   */
  duplicates(): Promise<DatasetDuplicates> {
    this.duplicateSearch ??= this.searchDuplicates();
    this.duplicateSearch.catch(() => (this.duplicateSearch = null));
    return this.duplicateSearch;
  }

  private async searchDuplicates(): Promise<DatasetDuplicates> {
    const { records } = await this.listing();
    const root = await realpath(this.dataDir);
    const inside = await Promise.all(records.map(async (r) => (await realpath(r.path).catch(() => null))?.startsWith(root + sep) ?? false));
    const ids = records.map((_, i) => i).filter((i) => inside[i]);
    const report = await findDuplicates(ids.map((i) => ({ id: records[i]!.id, split: records[i]!.split, path: records[i]!.path })));
    this.byPath ??= new Map(records.map((r, i) => [r.id, i]));
    const byPath = this.byPath;
    return {
      ...report,
      pairs: report.pairs.map((p) => ({ ...p, fileIdA: byPath.get(p.a)!, fileIdB: byPath.get(p.b)! })),
      skipped: records.length - ids.length,
    };
  }

  /** The record of a file id, or null when there is none. */
  async record(fileId: number): Promise<ImageRecord | null> {
    const { records } = await this.listing();
    return records[fileId] ?? null;
  }

  /**
   * The pixels of a record, or null when its file's real path (symlinks resolved) lies outside the dataset
   * folder's: a link in the folder never serves a file from elsewhere. A file that cannot be decoded is named by
   * its dataset path, never by where it lies on this machine.
   */
  private async pixels(fileId: number, record: ImageRecord, size: number): Promise<Uint8Array | null> {
    const file = await this.inside(record);
    if (file === null) return null;
    try {
      return await decodeImage(file, size);
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`dataset file ${fileId} (${record.id}) cannot be decoded.`);
      throw err;
    }
  }

  /**
   * Where file `fileId` lies (its real path), for results stored with the dataset `fingerprint`: null when this
   * server's dataset is another one, or for an unknown or unservable id (see pixels).
   */
  async servablePath(fingerprint: string | null, fileId: number): Promise<string | null> {
    const { index, records } = await this.listing();
    const record = records[fileId];
    if (fingerprint !== index.fingerprint || !record) return null;
    return this.inside(record);
  }

  /** A record's real path (symlinks resolved) when it lies inside the dataset folder, else null. */
  private async inside(record: ImageRecord): Promise<string | null> {
    const [root, file] = await Promise.all([realpath(this.dataDir), realpath(record.path).catch(() => null)]);
    return file?.startsWith(root + sep) ? file : null;
  }

  /** The image as JPEG, `size` x `size` (decoded like training does it); null for an unknown or unservable id. */
  async jpeg(fileId: number, size: number): Promise<Buffer | null> {
    const record = await this.record(fileId);
    if (!record) return null;
    const pixels = await this.pixels(fileId, record, size);
    if (!pixels) return null;
    return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 88 })
      .toBuffer();
  }

  /**
   * The training image `fileId` as the 'augmented' model's pipeline draws it in `epoch` of a run with `seed`:
   * its position in that epoch's shuffled order picks the random source, as in study/data/loader.ts. Returns
   * null for an unknown or unservable id (see pixels), 'not-train' for an image outside the training subset (never augmented).
   */
  async augmentedPng(fileId: number, o: { seed: number; epoch: number; size: number }): Promise<Buffer | null | 'not-train'> {
    const { index, records } = await this.listing();
    const record = records[fileId];
    if (!record) return null;
    if (record.split !== 'train') return 'not-train';
    const train = index.splits.train;
    const pixels = await this.pixels(fileId, record, o.size);
    if (!pixels) return null;
    const position = epochOrder(train.length, o.seed, o.epoch).indexOf(train.indexOf(record));
    const out = applyAugment(pixels, o.size, sampleParams(o.size, DEFAULT_AUGMENT, augmentRng(o.seed, o.epoch, position)));
    return sharp(out, { raw: { width: o.size, height: o.size, channels: 3 } })
      .png()
      .toBuffer();
  }
}
