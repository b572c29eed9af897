/**
 * Test-time augmentation: the views of an image averaged by `--tta N`. View 0 is the image as it is; views 1 to N-1
 * are drawn from the augmentation given (study/prediction.ts ttaAugmentation: the protocol's rotation and flips),
 * each from its own seed, so that view k is the same transform for every image, run and call.
 */
import seedrandom from 'seedrandom';
import { applyAugment, IDENTITY_PARAMS, sampleParams, type AugmentConfig, type AugmentParams } from '../../study/data/augment.ts';

export function ttaViews(n: number, augment: AugmentConfig, size: number): AugmentParams[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`test-time views: ${n} is not a positive integer.`);
  return Array.from({ length: n }, (_, k) => (k === 0 ? IDENTITY_PARAMS : sampleParams(size, augment, seedrandom.alea(`tta:${k}`))));
}

/** The image (size*size*3 bytes) under each view, one after the other. */
export function viewPixels(image: Uint8Array, size: number, views: readonly AugmentParams[]): Uint8Array {
  const n = size * size * 3;
  const out = new Uint8Array(views.length * n);
  for (const [k, p] of views.entries()) out.set(applyAugment(image, size, p), k * n);
  return out;
}
