/**
 * Keras ImageDataGenerator-style augmentation of one uint8 RGB image (HWC), done in one pass over the output:
 * every output pixel is mapped back through the inverse affine transform (flips, zoom, shift, rotation about the
 * centre), sampled bilinearly, multiplied by the brightness factor and rounded/clipped to 0..255. Samples that fall
 * outside the source are black (fill_mode='constant', cval=0).
 *
 * Random parameters are drawn like Keras' get_random_transform, in the same order (rotation, vertical shift,
 * horizontal shift, zoom x, zoom y, horizontal flip, vertical flip, brightness), each only when its range is
 * non-zero, so a configuration that changes nothing draws nothing and returns the input bytes exactly.
 */
import { DEFAULT_PROTOCOL, protocolSettings, type AugmentationParams } from '../protocol.ts';

/**
 * ImageDataGenerator's parameters (study/protocol.ts AugmentationParams): rotationRange in degrees (uniform in
 * [-r, r], positive turns the content counter-clockwise); zoom factors (independent for x and y) uniform in
 * [1-z, 1+z], > 1 shows more of the image; shifts as fractions of the width / height; brightness factor uniform
 * in [lo, hi]; fill 'constant' (black).
 */
export type AugmentConfig = AugmentationParams;

/**
 * The augmented model's ImageDataGenerator in the default protocol (rotation and fill from the article, the
 * other values the project's choices; study/protocol.ts says which), used on the training subset only.
 */
export const DEFAULT_AUGMENT: AugmentConfig = Object.freeze(protocolSettings('augmented', DEFAULT_PROTOCOL).augment!);

/** Augmentation that changes nothing; a base for tests and partial configurations. */
export const NO_AUGMENT: AugmentConfig = Object.freeze({
  rotationRange: 0,
  zoomRange: 0,
  widthShiftRange: 0,
  heightShiftRange: 0,
  horizontalFlip: false,
  verticalFlip: false,
  brightnessRange: Object.freeze([1, 1]) as [number, number],
  fill: 'constant',
}) as AugmentConfig;

/** DEFAULT_AUGMENT with the given fields replaced, checked: a bad value throws naming the field. */
export function augmentConfig(overrides: Partial<AugmentConfig> = {}, base: AugmentConfig = DEFAULT_AUGMENT): AugmentConfig {
  const cfg: AugmentConfig = { ...base, ...overrides, brightnessRange: [...(overrides.brightnessRange ?? base.brightnessRange)] as [number, number] };
  const nonNegative = (name: keyof AugmentConfig, v: number) => {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`augmentation ${name} must be a number >= 0, got ${v}.`);
  };
  nonNegative('rotationRange', cfg.rotationRange);
  nonNegative('zoomRange', cfg.zoomRange);
  nonNegative('widthShiftRange', cfg.widthShiftRange);
  nonNegative('heightShiftRange', cfg.heightShiftRange);
  if (cfg.zoomRange >= 1) throw new RangeError(`augmentation zoomRange must be < 1, got ${cfg.zoomRange}.`);
  const [lo, hi] = cfg.brightnessRange;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo >= 0 && lo <= hi)) {
    throw new RangeError(`augmentation brightnessRange must be [lo, hi] with 0 <= lo <= hi, got [${lo}, ${hi}].`);
  }
  if (cfg.fill !== 'constant') throw new RangeError(`augmentation fill must be 'constant', got '${String(cfg.fill)}'.`);
  return cfg;
}

/** One draw of the random parameters. */
export interface AugmentParams {
  /** Degrees, positive = counter-clockwise. */
  rotation: number;
  /** Shift of the content in pixels (positive = right / down). */
  shiftX: number;
  shiftY: number;
  zoomX: number;
  zoomY: number;
  flipH: boolean;
  flipV: boolean;
  brightness: number;
}

export const IDENTITY_PARAMS: AugmentParams = Object.freeze({
  rotation: 0,
  shiftX: 0,
  shiftY: 0,
  zoomX: 1,
  zoomY: 1,
  flipH: false,
  flipV: false,
  brightness: 1,
});

export function sampleParams(size: number, cfg: AugmentConfig, rng: () => number): AugmentParams {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng();
  const p = { ...IDENTITY_PARAMS };
  if (cfg.rotationRange) p.rotation = uniform(-cfg.rotationRange, cfg.rotationRange);
  if (cfg.heightShiftRange) p.shiftY = uniform(-cfg.heightShiftRange, cfg.heightShiftRange) * size;
  if (cfg.widthShiftRange) p.shiftX = uniform(-cfg.widthShiftRange, cfg.widthShiftRange) * size;
  if (cfg.zoomRange) {
    p.zoomX = uniform(1 - cfg.zoomRange, 1 + cfg.zoomRange);
    p.zoomY = uniform(1 - cfg.zoomRange, 1 + cfg.zoomRange);
  }
  if (cfg.horizontalFlip) p.flipH = rng() < 0.5;
  if (cfg.verticalFlip) p.flipV = rng() < 0.5;
  const [lo, hi] = cfg.brightnessRange;
  if (lo !== hi) p.brightness = uniform(lo, hi);
  else p.brightness = lo;
  return p;
}

/** Random augmentation of `src` (size*size*3, HWC); `src` is not modified. Deterministic given `rng`. */
export function augmentImage(src: Uint8Array, size: number, cfg: AugmentConfig, rng: () => number): Uint8Array {
  return applyAugment(src, size, sampleParams(size, cfg, rng));
}

/** How far outside the source (in pixels) a sample may fall and still read the edge: rounding, not content. */
export const EDGE_EPS = 1e-6;

/**
 * Where output pixel (c, r) samples the source: (sx, sy) = (ax*c + bx*r + cx, ay*c + by*r + cy). The forward
 * transform, as Keras composes it: rotate the content about the centre, shift it, scale it by 1/zoom, then flip
 * the result. It is computed backwards: undo the flips, u = c' - m, v = r' - m (m = centre), and sample at
 *   (sx, sy) = Rback * (zoomX * u - shiftX, zoomY * v - shiftY) + m,   Rback = [[cos, -sin], [sin, cos]].
 */
export interface SourceMap {
  ax: number;
  bx: number;
  cx: number;
  ay: number;
  by: number;
  cy: number;
}

export function sourceMap(size: number, p: AugmentParams): SourceMap {
  const m = (size - 1) / 2;
  const t = (p.rotation * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  // Undoing a flip: c' = size-1-c.
  const fh = p.flipH ? -1 : 1;
  const fv = p.flipV ? -1 : 1;
  const u0 = p.zoomX * ((p.flipH ? size - 1 : 0) - m) - p.shiftX; // zoomX*u - shiftX at c = 0
  const v0 = p.zoomY * ((p.flipV ? size - 1 : 0) - m) - p.shiftY;
  return {
    ax: cos * p.zoomX * fh,
    bx: -sin * p.zoomY * fv,
    cx: cos * u0 - sin * v0 + m,
    ay: sin * p.zoomX * fh,
    by: cos * p.zoomY * fv,
    cy: sin * u0 + cos * v0 + m,
  };
}

/**
 * Applies fixed parameters: every output pixel samples the source where sourceMap puts it, bilinearly, then the
 * brightness factor, rounded and clipped to 0..255. The inner loop only adds. (kernels/wgsl/image-batch.ts is
 * the same computation on the GPU.)
 */
export function applyAugment(src: Uint8Array, size: number, p: AugmentParams): Uint8Array {
  const n = size * size * 3;
  if (src.length !== n) throw new RangeError(`image has ${src.length} bytes, expected ${n} for ${size}x${size}x3.`);
  const identityGeometry = p.rotation === 0 && p.shiftX === 0 && p.shiftY === 0 && p.zoomX === 1 && p.zoomY === 1 && !p.flipH && !p.flipV;
  if (identityGeometry && p.brightness === 1) return src.slice();

  const out = new Uint8Array(n);
  const clamped = new Uint8ClampedArray(out.buffer); // rounds and clips on store
  const b = p.brightness;
  if (identityGeometry) {
    for (let i = 0; i < n; i++) clamped[i] = src[i]! * b;
    return out;
  }

  const { ax, bx, cx: cx0, ay, by, cy: cy0 } = sourceMap(size, p);
  const last = size - 1;
  const row = size * 3;
  const dx = last > 0 ? 3 : 0; // step to the right / lower neighbour (none in a 1-pixel image)
  const dy = last > 0 ? row : 0;
  const hi = last > 0 ? last - 1 : 0; // the top-left neighbour stays <= last-1 so its partners exist
  let o = 0;
  for (let r = 0; r < size; r++) {
    let sx = bx * r + cx0;
    let sy = by * r + cy0;
    for (let c = 0; c < size; c++, sx += ax, sy += ay, o += 3) {
      if (sx < -EDGE_EPS || sy < -EDGE_EPS || sx > last + EDGE_EPS || sy > last + EDGE_EPS) continue; // stays black
      // Clamped so that a coordinate a rounding error outside the edge samples the edge pixel.
      let x0 = sx <= 0 ? 0 : sx | 0;
      let y0 = sy <= 0 ? 0 : sy | 0;
      if (x0 > hi) x0 = hi;
      if (y0 > hi) y0 = hi;
      let fx = sx - x0;
      let fy = sy - y0;
      fx = fx < 0 ? 0 : Math.min(fx, 1);
      fy = fy < 0 ? 0 : Math.min(fy, 1);
      const i = y0 * row + x0 * 3;
      const j = i + dy;
      for (let k = 0; k < 3; k++) {
        const top = src[i + k]! + (src[i + k + dx]! - src[i + k]!) * fx;
        const bottom = src[j + k]! + (src[j + k + dx]! - src[j + k]!) * fx;
        clamped[o + k] = (top + (bottom - top) * fy) * b;
      }
    }
  }
  return out;
}
