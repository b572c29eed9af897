/**
 * A Grad-CAM map drawn over its image as PNG: the map scaled to [0, 1] from its minimum to its maximum (as the
 * pytorch-grad-cam library shows it; a map without contrast is all 0), stretched over the image
 * the way the model's input was (fit 'fill', bilinear), coloured from dark blue (0) through green to red (1), and
 * blended over the image with an opacity that grows with the value, so that where the model does not look the
 * lesion shows as it is. The image keeps its own size, at most MAX_SIDE on its longer side.
 */
import sharp from 'sharp';
import type { GradCam } from './grad-cam.ts';

const MAX_SIDE = 512;
/** Opacity of the colour where the map is at its maximum. */
const MAX_ALPHA = 0.6;
/** The colour ramp's stops, evenly spaced over [0, 1] (a jet-like scale). */
const RAMP: [number, number, number][] = [
  [0, 0, 160],
  [0, 140, 255],
  [40, 220, 80],
  [255, 220, 0],
  [230, 20, 20],
];

export function rampColour(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [RAMP[i]!, RAMP[i + 1]!]; // 0 <= i <= RAMP.length - 2
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as [number, number, number];
}

/** `image`: the path or bytes of the image the map was computed for. */
export async function saliencyPng(image: string | Uint8Array, cam: GradCam): Promise<Buffer> {
  const meta = await sharp(image, { autoOrient: false }).metadata();
  const scale = Math.min(1, MAX_SIDE / Math.max(meta.width, meta.height));
  const width = Math.max(1, Math.round(meta.width * scale));
  const height = Math.max(1, Math.round(meta.height * scale));
  const picture = await sharp(image, { autoOrient: false }).removeAlpha().resize(width, height, { fit: 'fill' }).toColourspace('srgb').raw().toBuffer();

  let [min, max] = [Infinity, -Infinity];
  for (const v of cam.map) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const grey = Uint8Array.from(cam.map, (v) => (max > min ? Math.round((255 * (v - min)) / (max - min)) : 0));
  const heat = await sharp(grey, { raw: { width: cam.width, height: cam.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .extractChannel(0) // libvips hands a resized one-band image back as three
    .raw()
    .toBuffer();

  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const v = heat[i]! / 255;
    const colour = rampColour(v);
    const alpha = MAX_ALPHA * v;
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(picture[3 * i + c]! * (1 - alpha) + colour[c]! * alpha);
  }
  return sharp(out, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
