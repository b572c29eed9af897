/**
 * Decoded images (uint8 RGB, imageSize x imageSize) kept in memory by record id, so that later epochs skip JPEG
 * decoding. Bounded by a byte budget: once full, further images are not stored (and are decoded from disk each
 * time). No eviction on purpose: every epoch visits every image once in a new order, so an LRU smaller than the
 * dataset would evict each image just before it is needed again and never hit; keeping a fixed subset hits for
 * budget/dataset of the images. The real dataset at 224 px is 3297 * 150528 bytes = 496 MB.
 */
import { decodeImage } from './decode.ts';

export class ImageCache {
  readonly bytesPerImage: number;
  private readonly images = new Map<string, Uint8Array>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly imageSize: number,
    readonly maxBytes: number,
  ) {
    if (!Number.isInteger(imageSize) || imageSize < 1) throw new RangeError(`image size ${imageSize} is not a positive integer.`);
    if (!(maxBytes >= 0)) throw new RangeError(`cache budget ${maxBytes} is not a number of bytes >= 0.`);
    this.bytesPerImage = imageSize * imageSize * 3;
  }

  get size(): number {
    return this.images.size;
  }

  get bytes(): number {
    return this.used;
  }

  get(id: string): Uint8Array | undefined {
    return this.images.get(id);
  }

  /** Stores the image if it fits in the budget; returns whether it is cached. */
  set(id: string, pixels: Uint8Array): boolean {
    if (pixels.length !== this.bytesPerImage) {
      throw new RangeError(`image ${id} has ${pixels.length} bytes, this cache holds ${this.imageSize}x${this.imageSize}x3.`);
    }
    if (this.images.has(id)) return true;
    if (this.used + pixels.length > this.maxBytes) return false;
    this.images.set(id, pixels);
    this.used += pixels.length;
    return true;
  }

  /** The cached pixels, or decodes the file (and caches it when the budget allows). Do not modify the result. */
  async load(id: string, path: string): Promise<Uint8Array> {
    const hit = this.images.get(id);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const pixels = await decodeImage(path, this.imageSize);
    this.set(id, pixels);
    return pixels;
  }

  clear(): void {
    this.images.clear();
    this.used = 0;
  }
}
