/**
 * Exact and near-duplicate images within and across the splits: is the test set really unseen?
 *
 * - Exact: the same decoded pixels (SHA-256 of the RGB pixels with the image's size), whatever the files' bytes.
 * - Near: a perceptual hash within NEAR_DUPLICATE_BITS of each other. The hash is a DCT pHash (Zauner 2010) of 256
 *   bits: the image is decoded, turned to greyscale and resized to 64 x 64 (sharp, stretched to the square), its
 *   2-D DCT-II taken, and each of the 16 x 16 lowest frequencies gives one bit: above the median of the 255
 *   non-constant ones (the constant term's bit is 0). Resizing and recompression move the high frequencies and
 *   barely these, so a copy keeps its bits; two lesions differ in many.
 *
 * Why 256 bits and 40: on the real dataset (docs/duplicates.md) the usual 64-bit pHash (8 x 8 frequencies of a
 * 32 x 32 image) put resized, recompressed copies of a lesion up to 10 bits from the original while different
 * lesions (a small dark blob on skin, as most of them are) came as close as 4 bits; at 256 bits, copies stayed
 * within about 16 bits, every pair up to 51 bits showed the same lesion (a crop or a second photograph) and different
 * lesions began near 56. 40 lies between, with room for a harsher copy on one side and a similar lesion on the other.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { at } from '../common/indexing.ts';
import { ensembleOf } from './probability-calibration.ts';
import { DUPLICATE_SPLITS, type DuplicatePair, type DuplicateSplit, type DuplicatesReport } from './duplicate-pairs.ts';
import { mean, sampleStd } from './statistics.ts';

export const HASH_IMAGE_SIZE = 64;
export const HASH_FREQUENCIES = 16;
export const HASH_BITS = HASH_FREQUENCIES * HASH_FREQUENCIES;
/** The project's choice (see the module comment): pairs at most this many bits apart are near-duplicates. */
export const NEAR_DUPLICATE_BITS = 40;

/** An image of the listing: its dataset path (e.g. 'test/malignant/1.jpg'), its split and its file. */
export interface ListedImage {
  id: string;
  split: DuplicateSplit;
  path: string;
}

export interface Fingerprint {
  /** SHA-256 of the size and RGB pixels, hex. */
  pixels: string;
  /** The perceptual hash, HASH_BITS bits in 32-bit words (bit i of the frequencies in row-major order). */
  hash: Uint32Array;
}

const COSINES = Array.from({ length: HASH_FREQUENCIES }, (_, u) =>
  Float64Array.from({ length: HASH_IMAGE_SIZE }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_IMAGE_SIZE))),
);

/** The pHash of a HASH_IMAGE_SIZE² greyscale image (one byte per pixel, row-major). */
export function perceptualHash(grey: ArrayLike<number>): Uint32Array {
  const N = HASH_IMAGE_SIZE;
  const K = HASH_FREQUENCIES;
  if (grey.length !== N * N) throw new RangeError(`a perceptual hash needs ${N} x ${N} greyscale pixels, got ${grey.length}`);
  // Separable DCT-II, only the K lowest frequencies: rows first (rowT[u][y]), then columns. Scale factors are left
  // out: they are positive and the same for every image, so no bit changes.
  const rowT = COSINES.map((c) => {
    const out = new Float64Array(N);
    for (let y = 0; y < N; y++) {
      let s = 0;
      for (let x = 0; x < N; x++) s += c[x]! * grey[y * N + x]!;
      out[y] = s;
    }
    return out;
  });
  const coefficients = new Float64Array(K * K);
  for (let v = 0; v < K; v++) {
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += COSINES[v]![y]! * rowT[u]![y]!;
      coefficients[v * K + u] = s;
    }
  }
  const rest = [...coefficients.subarray(1)].sort((a, b) => a - b);
  const median = (rest[(rest.length - 1) >> 1]! + rest[rest.length >> 1]!) / 2;
  const hash = new Uint32Array(HASH_BITS / 32);
  for (let i = 1; i < K * K; i++) if (coefficients[i]! > median) hash[i >> 5]! |= 1 << (i & 31);
  return hash;
}

const popcount = (x: number) => {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};

export function hammingDistance(a: Uint32Array, b: Uint32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += popcount(a[i]! ^ b[i]!);
  return d;
}

export const hashHex = (hash: Uint32Array) => [...hash].map((w) => w.toString(16).padStart(8, '0')).join('');

/** Decodes an image (a file path or its bytes) and returns its fingerprint. */
export async function fingerprint(image: string | Buffer): Promise<Fingerprint> {
  const { data, info } = await sharp(image).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const pixels = createHash('sha256').update(`${info.width}x${info.height}x${info.channels}\n`).update(data).digest('hex');
  const grey = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .greyscale()
    .resize(HASH_IMAGE_SIZE, HASH_IMAGE_SIZE, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { pixels, hash: perceptualHash(grey) };
}

const SPLIT_PAIRS: [DuplicateSplit, DuplicateSplit][] = [
  ['train', 'train'],
  ['val', 'val'],
  ['test', 'test'],
  ['train', 'val'],
  ['train', 'test'],
  ['val', 'test'],
];
export const splitPairName = (a: DuplicateSplit, b: DuplicateSplit) => (a === b ? `within ${a}` : `${a}–${b}`);

export interface FingerprintOptions {
  /** Images decoded at once (default 4). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** The file or bytes of an image (default: its path). */
  read?: (image: ListedImage) => Promise<string | Buffer>;
}

/** Fingerprints and pairs every image. */
export async function findDuplicates(images: readonly ListedImage[], o: FingerprintOptions & { threshold?: number } = {}): Promise<DuplicatesReport> {
  const threshold = o.threshold ?? NEAR_DUPLICATE_BITS;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > HASH_BITS)
    throw new RangeError(`threshold ${threshold} is not a whole number of bits in [0, ${HASH_BITS}]`);
  return pairImages(images, await fingerprintAll(images, o), threshold);
}

/** The fingerprint of every image, in order (`concurrency` at a time). Throws naming an image that cannot be decoded. */
export async function fingerprintAll(images: readonly ListedImage[], o: FingerprintOptions = {}): Promise<Fingerprint[]> {
  const prints: Fingerprint[] = new Array(images.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < images.length) {
      const i = next++;
      const source = o.read ? await o.read(images[i]!) : images[i]!.path;
      try {
        prints[i] = await fingerprint(source);
      } catch (err) {
        throw new Error(`${images[i]!.id} cannot be decoded: ${(err as Error).message}`);
      }
      o.onProgress?.(++done, images.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));
  return prints;
}

/** How far a copy's hash lies from its original's: over `count` images spread over the listing. */
export interface CopyCheck {
  copies: number;
  what: string;
  medianBits: number;
  maxBits: number;
}

/**
 * The threshold's other side, measured on the dataset itself: `count` images spread over the listing are copied as
 * a near-duplicate would be made (resized to 160 px and saved as JPEG at quality 70, or to 300 px at quality 55, in
 * turn) and hashed again.
 */
export async function copyCheck(images: readonly ListedImage[], prints: readonly Fingerprint[], count = 100): Promise<CopyCheck> {
  const n = Math.min(count, images.length);
  const distances: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * images.length) / n);
    const [size, quality] = k % 2 ? [160, 70] : [300, 55];
    const copy = await sharp(images[i]!.path).resize(size, size, { fit: 'fill' }).jpeg({ quality }).toBuffer();
    distances.push(hammingDistance((await fingerprint(copy)).hash, prints[i]!.hash));
  }
  distances.sort((a, b) => a - b);
  return {
    copies: n,
    what: 'resized to 160 px and saved as JPEG at quality 70, or to 300 px at quality 55, in turn',
    medianBits: distances[(n - 1) >> 1] ?? 0,
    maxBits: distances.at(-1) ?? 0,
  };
}

/** The pairs of already fingerprinted images (the same order as `images`). */
export function pairImages(images: readonly ListedImage[], prints: readonly Fingerprint[], threshold = NEAR_DUPLICATE_BITS): DuplicatesReport {
  const order = (s: DuplicateSplit) => DUPLICATE_SPLITS.indexOf(s);
  const pairs: DuplicatePair[] = [];
  let justAbove = 0;
  for (let i = 0; i < images.length; i++) {
    for (let j = i + 1; j < images.length; j++) {
      const exact = prints[i]!.pixels === prints[j]!.pixels;
      const distance = hammingDistance(prints[i]!.hash, prints[j]!.hash);
      if (!exact && distance > threshold) {
        if (distance <= threshold + 16) justAbove++;
        continue;
      }
      const [a, b] = order(images[j]!.split) < order(images[i]!.split) ? [images[j]!, images[i]!] : [images[i]!, images[j]!];
      pairs.push({ a: a.id, b: b.id, splitA: a.split, splitB: b.split, kind: exact ? 'exact' : 'near', distance });
    }
  }
  pairs.sort((x, y) => Number(x.kind === 'near') - Number(y.kind === 'near') || x.distance - y.distance || x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
  const counts = SPLIT_PAIRS.map(([s, t]) => {
    const of = pairs.filter((p) => p.splitA === s && p.splitB === t);
    return { splits: splitPairName(s, t), exact: of.filter((p) => p.kind === 'exact').length, near: of.filter((p) => p.kind === 'near').length };
  });
  const leakedTest = [...new Set(pairs.filter((p) => p.splitB === 'test' && p.splitA !== 'test').map((p) => p.b))].sort();
  return { images: images.length, threshold, bits: HASH_BITS, counts, pairs, leakedTest, justAbove, groups: groupsOf(images, pairs) };
}

/** The connected groups of the pairs' images (union-find), each in listing order, largest group first. */
function groupsOf(images: readonly ListedImage[], pairs: readonly DuplicatePair[]): string[][] {
  const parent = new Map<string, string>();
  const root = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const p of pairs) {
    for (const x of [p.a, p.b]) if (!parent.has(x)) parent.set(x, x);
    parent.set(root(p.a), root(p.b));
  }
  const groups = new Map<string, string[]>();
  for (const image of images) if (parent.has(image.id)) groups.set(root(image.id), [...(groups.get(root(image.id)) ?? []), image.id]);
  return [...groups.values()].sort((a, b) => b.length - a.length);
}

/** The six stored metrics of one set of predictions, by the caller's metric code. */
export type LeakScorer = (labels: number[], probabilities: number[]) => Record<string, number>;

export interface LeakEffectRow {
  model: string;
  runs: number;
  /** Test images scored with and without the leaked ones. */
  images: { all: number; kept: number };
  /** Per metric: mean and sample std over the runs on the whole test set, and without the leaked images. */
  metrics: Record<string, { all: { mean: number; std: number }; kept: { mean: number; std: number } }>;
  /** The ensemble (each image's probability averaged over the runs), scored on both sets. */
  ensemble: Record<string, { all: number; kept: number }>;
}

/**
 * The test metrics of an experiment's completed runs recomputed from their stored predictions, on the whole test
 * set and without the `leaked` images: how much the duplicates move the study's numbers, with no retraining.
 */
export function leakEffect(
  runs: readonly { model: string; test: { images: readonly string[]; labels: ArrayLike<number>; probabilities: ArrayLike<number> } }[],
  leaked: ReadonlySet<string>,
  score: LeakScorer,
): LeakEffectRow[] {
  const models = [...new Set(runs.map((r) => r.model))];
  return models.map((model) => {
    const mine = runs.filter((r) => r.model === model && r.test.images.length > 0);
    const split = (r: (typeof mine)[number], keep: (image: string) => boolean) => {
      const labels: number[] = [];
      const probabilities: number[] = [];
      r.test.images.forEach((image, i) => {
        if (!keep(image)) return;
        labels.push(at(r.test.labels, i, 'label'));
        probabilities.push(at(r.test.probabilities, i, 'probability'));
      });
      return { labels, probabilities };
    };
    const all = mine.map((r) => score(...args(split(r, () => true))));
    const kept = mine.map((r) => score(...args(split(r, (image) => !leaked.has(image)))));
    const names = Object.keys(all[0] ?? {});
    const stat = (xs: number[]) => ({ mean: mean(xs), std: xs.length > 1 ? sampleStd(xs) : Number.NaN });
    const ensemble = ensembleOf(mine.map((r) => r.test));
    const scoreEnsemble = (keep: (image: string) => boolean) => {
      const idx = ensemble.images.map((image, i) => (keep(image) ? i : -1)).filter((i) => i >= 0);
      return score(
        idx.map((i) => ensemble.labels[i]!),
        idx.map((i) => ensemble.probabilities[i]!),
      ); // i indexes ensemble.images
    };
    const eAll = scoreEnsemble(() => true);
    const eKept = scoreEnsemble((image) => !leaked.has(image));
    return {
      model,
      runs: mine.length,
      images: { all: mine[0]?.test.images.length ?? 0, kept: mine[0]?.test.images.filter((image) => !leaked.has(image)).length ?? 0 },
      metrics: Object.fromEntries(names.map((k) => [k, { all: stat(all.map((m) => m[k]!)), kept: stat(kept.map((m) => m[k]!)) }])),
      ensemble: Object.fromEntries(names.map((k) => [k, { all: eAll[k]!, kept: eKept[k]! }])),
    };
  });
}

const args = (s: { labels: number[]; probabilities: number[] }): [number[], number[]] => [s.labels, s.probabilities];
