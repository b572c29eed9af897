/**
 * One image file to size*size*3 RGB uint8 pixels (HWC), with sharp (libvips).
 *
 * - EXIF orientation is ignored on purpose (no `.rotate()`/`autoOrient`): the ISIC pixels are already upright, and
 *   the few files that still carry a camera orientation tag (3 of the 3297 say "rotate 90°") would otherwise be
 *   turned sideways. Keras' load_img (PIL) ignores the tag too, so the study's model saw them as stored.
 * - Alpha is dropped, not composited (like PIL's convert('RGB')); grayscale, palette and CMYK images become
 *   3-channel sRGB. An embedded ICC profile is honoured (sharp's default); in the real dataset one file has one
 *   and its pixels come out identical either way.
 * - Resize: fit 'fill' (aspect ratio not kept, like Keras' target_size), kernel 'linear' (bilinear, what
 *   tf.keras image_dataset_from_directory uses; ImageDataGenerator's load_img defaults to 'nearest'). An image
 *   already size x size is not resampled at all, which is the case for every image of the real dataset.
 * - failOn 'error': a truncated or corrupt file is rejected (libjpeg's "premature end of JPEG image" is an error
 *   at this level; failOn 'none' would decode a truncated JPEG with grey where its data stops), mere libjpeg
 *   warnings (e.g. extraneous bytes) are tolerated, which is where PIL draws the line too. Both give an
 *   ImageDecodeError naming the file, with the decoder's reason.
 */
import { UserError } from '../../common/errors.ts';

/** An image file the decoder rejects; `reason` is the decoder's own message. */
export class ImageDecodeError extends UserError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot decode image ${path}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

/** `source`: a file path, or a file's bytes named by `name` in errors. */
export async function decodeImage(source: string | Uint8Array, size: number, name = typeof source === 'string' ? source : 'the image'): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp'); // loaded on first use: the GPU bundle has no sharp and never decodes
  let data: Buffer;
  let channels: number;
  try {
    const out = await sharp(source, { failOn: 'error', autoOrient: false })
      .removeAlpha()
      .resize(size, size, { fit: 'fill', kernel: 'linear' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    data = out.data;
    channels = out.info.channels;
  } catch (err) {
    // libvips repeats its decoder's warnings over several lines; the first says what is wrong.
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!; // split gives at least one part
    throw new ImageDecodeError(name, reason);
  }
  if (channels !== 3 || data.length !== size * size * 3) {
    throw new ImageDecodeError(name, `got ${channels} channels, ${data.length} bytes for ${size}x${size}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
