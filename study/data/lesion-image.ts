/**
 * An image a user gives to be predicted (a file, or the page's upload), checked before any model loads: a JPEG,
 * PNG, WebP or TIFF that decodes whole, at least `minSide` pixels on each side. The floor is the project's choice:
 * the runs' own input size, since an image upscaled to it holds detail the runs never saw in training (the real
 * dataset's images are 224 px, downscaled for smaller runs).
 */
import sharp, { type Metadata } from 'sharp';
import { UserError } from '../../common/errors.ts';

export const LESION_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'tiff'] as const;

/** Larger images are refused before they are decoded: a small file can claim a huge canvas. */
export const MAX_LESION_PIXELS = 64 * 2 ** 20;

export interface LesionImageInfo {
  width: number;
  height: number;
  format: (typeof LESION_IMAGE_FORMATS)[number];
}

/** `input`: a path or the file's bytes; `name` names it in errors. */
export async function checkLesionImage(input: string | Uint8Array, name: string, minSide: number): Promise<LesionImageInfo> {
  let meta: Metadata;
  try {
    meta = await sharp(input, { failOn: 'error', limitInputPixels: MAX_LESION_PIXELS }).metadata();
  } catch (err) {
    throw new UserError(`${name} is not an image that can be read (${firstLine(err)}).`);
  }
  const format = meta.format as string;
  if (!(LESION_IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new UserError(`${name} is a ${format} image: give a JPEG, PNG, WebP or TIFF.`);
  }
  const { width, height } = meta;
  if (width * height > MAX_LESION_PIXELS)
    throw new UserError(`${name} is ${width}x${height} px, over the ${MAX_LESION_PIXELS / 2 ** 20} Mpx a prediction reads.`);
  if (width < minSide || height < minSide) {
    throw new UserError(`${name} is ${width}x${height} px: the runs take ${minSide}x${minSide} px images, and a smaller one would be upscaled.`);
  }
  try {
    // The header can be whole where the pixel data stops: decode it all (into a few pixels) now, not after the models load.
    await sharp(input, { failOn: 'error', limitInputPixels: MAX_LESION_PIXELS }).resize(8, 8).raw().toBuffer();
  } catch (err) {
    throw new UserError(`${name} cannot be decoded (${firstLine(err)}).`);
  }
  return { width, height, format: format as LesionImageInfo['format'] };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!; // split gives at least one part
}
