/**
 * Decodes every image of a dataset before any training, so that a bad file stops a run before its first epoch,
 * with every bad file named at once and the decoder's own reason for each. The decoding is the one runs use
 * (decode.ts); with an image cache the decoded pixels are kept, so that a run's check is also its first decoding.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../../common/errors.ts';
import type { ImageRecord } from './dataset.ts';
import { decodeImage, ImageDecodeError } from './decode.ts';
import type { ImageCache } from './image-cache.ts';

export interface BadImage {
  /** Path relative to the dataset root, e.g. 'test/benign/7.jpg'. */
  id: string;
  path: string;
  /** The decoder's message, e.g. 'VipsJpeg: premature end of JPEG image'. */
  reason: string;
}

export interface CheckOptions {
  imageSize: number;
  /** Keeps the decoded pixels (as far as its budget allows). */
  cache?: ImageCache | null;
  /** Called after each image, with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Images decoded at once (default: twice the cores; sharp decodes each on libvips' own threads). */
  concurrency?: number;
}

/** Decodes every record once; returns the ones that cannot be decoded, in record order. */
export async function findBadImages(records: readonly ImageRecord[], o: CheckOptions): Promise<BadImage[]> {
  const failed = new Map<number, BadImage>();
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let i = next++; i < records.length; i = next++) {
      const r = records[i]!;
      try {
        if (o.cache) await o.cache.load(r.id, r.path);
        else await decodeImage(r.path, o.imageSize);
      } catch (err) {
        if (!(err instanceof ImageDecodeError)) throw err;
        failed.set(i, { id: r.id, path: r.path, reason: err.reason });
      }
      o.onProgress?.(++done, records.length);
    }
  };
  const concurrency = Math.max(1, o.concurrency ?? 2 * availableParallelism());
  await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));
  const bad = [...failed.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
  // libvips keeps one error buffer for all its threads: a decode that fails beside others may come back with
  // 'Unknown error'. Decoded alone, the file gives its decoder's reason.
  for (const b of bad) {
    if (!isVague(b.reason)) continue;
    try {
      await decodeImage(b.path, o.imageSize);
    } catch (err) {
      if (err instanceof ImageDecodeError && !isVague(err.reason)) b.reason = err.reason;
    }
  }
  return bad;
}

function isVague(reason: string): boolean {
  return reason.trim() === '' || /^unknown error$/i.test(reason.trim());
}

/** The error for a run or a study that cannot start: every bad file, one per line, after a one-line summary. */
export function badImagesError(bad: readonly BadImage[], root: string): UserError {
  const what = bad.length === 1 ? '1 image' : `${bad.length} images`;
  return new UserError(
    [
      `${what} of ${root} cannot be decoded; fix or remove ${bad.length === 1 ? 'it' : 'them'} before training:`,
      ...bad.map((b) => `  ${b.path}: ${b.reason}`),
    ].join('\n'),
  );
}

/** Throws badImagesError unless every record decodes. */
export async function checkImages(records: readonly ImageRecord[], root: string, o: CheckOptions): Promise<void> {
  const bad = await findBadImages(records, o);
  if (bad.length > 0) throw badImagesError(bad, root);
}
