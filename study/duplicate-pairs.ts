/**
 * What a duplicate search (study/duplicates.ts) finds: the pairs of images and their counts per pair of splits. No
 * Node and no image decoding, so that the results page's modules can read these types (web/api-types.ts).
 */

export const DUPLICATE_SPLITS = ['train', 'val', 'test'] as const;
export type DuplicateSplit = (typeof DUPLICATE_SPLITS)[number];

export interface DuplicatePair {
  /** The first image in listing order (train, val, test), and the second. */
  a: string;
  b: string;
  splitA: DuplicateSplit;
  splitB: DuplicateSplit;
  kind: 'exact' | 'near';
  /** Bits between the hashes (0 for most exact pairs). */
  distance: number;
}

export interface SplitPairCount {
  /** 'train–test', 'test–test', …: the splits of the two images, in listing order. */
  splits: string;
  exact: number;
  near: number;
}

export interface DuplicatesReport {
  images: number;
  threshold: number;
  bits: number;
  /** Every pair of split names (both orders counted once), within first: how many exact and near pairs. */
  counts: SplitPairCount[];
  /** Exact pairs first, then near ones by distance, then by listing order. */
  pairs: DuplicatePair[];
  /** The test images with an exact or near duplicate in train or val: the leak a test metric may carry. */
  leakedTest: string[];
  /** How many pairs lie just past the threshold (threshold + 1 … threshold + 16 bits): the margin it leaves. */
  justAbove: number;
  /** The groups of images linked by pairs (an image with several copies is one group), largest first. */
  groups: string[][];
}
