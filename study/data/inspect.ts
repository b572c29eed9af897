/**
 * `melanoma data inspect`: counts per split and class, class ratios, the entries of the class folders that are
 * skipped, a header check of every image (size, channels, format, EXIF orientation) through sharp's metadata, and
 * a full decoding of every image as a run decodes it, which lists each image that cannot be decoded with the
 * decoder's reason.
 */
import sharp, { type Metadata } from 'sharp';
import { DEFAULT_PROTOCOL, PROTOCOLS, describeSource, formatValue, type ProtocolName, type ValidationRule } from '../protocol.ts';
import { SPLITS, type Split } from '../run.ts';
import { findBadImages, type BadImage } from './check.ts';
import { indexDataset, type SkippedEntry } from './dataset.ts';

export interface SplitCounts {
  benign: number;
  malignant: number;
  total: number;
  /** malignant / total. */
  malignantRatio: number;
}

export interface ImageCheck {
  checked: number;
  /** Images whose stored size is not expectedSize x expectedSize (they get resized when loaded). */
  wrongSize: number;
  /** Images that are not 3-channel (grayscale, RGBA, CMYK...: converted to RGB when loaded). */
  notRgb: number;
  /** Images that cannot be decoded (see unreadableFiles). */
  unreadable: number;
  /** Every image that cannot be decoded, with the decoder's reason. */
  unreadableFiles: BadImage[];
  /** Images with an EXIF orientation other than 1; ignored when loading (the pixels are upright). */
  exifRotated: number;
  formats: Record<string, number>;
  /** Up to 20 examples of odd images, 'id: what'. */
  examples: string[];
}

export interface DatasetReport {
  root: string;
  fingerprint: string;
  /** The protocol whose validation rule made the split, the rule, and where the rule comes from. */
  validation: { protocol: ProtocolName; rule: ValidationRule; description: string; source: string };
  /** The first validation file of each class, in the split's order. */
  firstValidation: Record<'benign' | 'malignant', string | null>;
  counts: Record<Split, SplitCounts>;
  all: SplitCounts;
  expectedSize: number;
  images: ImageCheck;
  /** Entries of the class folders skipped while listing (hidden files, sub-folders, non-image files...). */
  skipped: { count: number; entries: SkippedEntry[] };
  /** The listing's warnings, one per skipped entry. */
  warnings: string[];
}

const METADATA_CONCURRENCY = 16;

export async function inspectDataset(
  root: string,
  opts: { protocol?: ProtocolName; validationFraction?: number; expectedSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<DatasetReport> {
  const protocol = opts.protocol ?? DEFAULT_PROTOCOL;
  const setting = PROTOCOLS[protocol].models.baseline.validation;
  const rule: ValidationRule = { ...setting.value, fraction: opts.validationFraction ?? setting.value.fraction };
  const expectedSize = opts.expectedSize ?? PROTOCOLS[protocol].models.baseline.imageSize.value;
  const warnings: string[] = [];
  const index = await indexDataset(root, { validation: rule, warn: (m) => warnings.push(m) });
  const validation = {
    protocol,
    rule,
    description: formatValue(rule),
    source: opts.validationFraction === undefined ? describeSource(setting.source) : `override: --validation-split ${opts.validationFraction}`,
  };
  const firstOf = (label: 0 | 1) => index.splits.val.find((r) => r.label === label)?.id ?? null;
  const firstValidation = { benign: firstOf(0), malignant: firstOf(1) };

  const tally = (labels: number[]): SplitCounts => {
    const malignant = labels.filter((l) => l === 1).length;
    const total = labels.length;
    return { benign: total - malignant, malignant, total, malignantRatio: total ? malignant / total : 0 };
  };
  const counts = Object.fromEntries(SPLITS.map((s) => [s, tally(index.splits[s].map((r) => r.label))])) as Record<Split, SplitCounts>;
  const records = SPLITS.flatMap((s) => index.splits[s]);

  const images: ImageCheck = { checked: 0, wrongSize: 0, notRgb: 0, unreadable: 0, unreadableFiles: [], exifRotated: 0, formats: {}, examples: [] };
  const note = (id: string, what: string) => {
    if (images.examples.length < 20) images.examples.push(`${id}: ${what}`);
  };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < records.length; i = next++) {
      const r = records[i]!;
      images.checked++;
      let meta: Metadata;
      try {
        meta = await sharp(r.path).metadata();
      } catch {
        continue; // the decoding below names it with its reason
      }
      images.formats[meta.format ?? 'unknown'] = (images.formats[meta.format ?? 'unknown'] ?? 0) + 1;
      if (meta.width !== expectedSize || meta.height !== expectedSize) {
        images.wrongSize++;
        note(r.id, `${meta.width}x${meta.height}`);
      }
      if (meta.channels !== 3) {
        images.notRgb++;
        note(r.id, `${meta.channels} channels (${meta.space})`);
      }
      if (meta.orientation !== undefined && meta.orientation !== 1) images.exifRotated++;
    }
  };
  await Promise.all(Array.from({ length: METADATA_CONCURRENCY }, worker));
  images.unreadableFiles = await findBadImages(records, { imageSize: expectedSize, onProgress: opts.onProgress });
  images.unreadable = images.unreadableFiles.length;

  return {
    root: index.root,
    fingerprint: index.fingerprint,
    validation,
    firstValidation,
    counts,
    all: tally(records.map((r) => r.label)),
    expectedSize,
    images,
    skipped: { count: index.skipped.length, entries: index.skipped },
    warnings,
  };
}

export function formatReport(r: DatasetReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const row = (name: string, c: SplitCounts) =>
    `${name.padEnd(7)}${String(c.benign).padStart(8)}${String(c.malignant).padStart(11)}${String(c.total).padStart(7)}${pct(c.malignantRatio).padStart(13)}`;
  const i = r.images;
  const formats =
    Object.entries(i.formats)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ') || 'none';
  const lines = [
    `dataset      ${r.root}`,
    `fingerprint  ${r.fingerprint}`,
    `validation   ${r.validation.description}, protocol ${r.validation.protocol} (${r.validation.source})`,
    `             first validation files: ${r.firstValidation.benign ?? '-'}, ${r.firstValidation.malignant ?? '-'}`,
    '',
    `${'split'.padEnd(7)}${'benign'.padStart(8)}${'malignant'.padStart(11)}${'total'.padStart(7)}${'malignant %'.padStart(13)}`,
    ...SPLITS.map((s) => row(s, r.counts[s])),
    row('all', r.all),
    '',
    `images       ${i.checked} decoded: ${i.wrongSize} not ${r.expectedSize}x${r.expectedSize}, ${i.notRgb} not 3-channel, ` +
      `${i.unreadable} unreadable; formats: ${formats}`,
    `             ${i.exifRotated} with an EXIF orientation other than 1 (ignored: the pixels are upright)`,
    ...i.examples.map((e) => `  ${e}`),
    ...i.unreadableFiles.map((b) => `unreadable: ${b.path}: ${b.reason}`),
    `skipped      ${r.skipped.count} ${r.skipped.count === 1 ? 'entry' : 'entries'} of the class folders`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  return lines.join('\n');
}
