/**
 * A batch of images from bytes to the model's input on the GPU (kernel ImageBatch, ../image-batch.ts). The
 * uint8 NHWC bytes arrive packed four to an i32 (a quarter of the float32 upload) and each value is looked up
 * in `unit`, the CPU's table of v / 255 (study/data/pixels.ts), so both give the same floats. With `maps`
 * (per image: ax, bx, cx, ay, by, cy, brightness, unused) every output pixel is first augmented as
 * study/data/augment.ts applyAugment does it: sampled bilinearly where the source map puts it, black outside
 * the source, times the brightness, rounded half to even and clipped to 0..255. That is computed in float32
 * here and in float64 there, so a value that lands within about 1e-3 of a rounding boundary can come out one
 * step (1/255) apart.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { EDGE_EPS } from '../../../study/data/augment.ts';
import { runWgsl } from './run.ts';

const BYTE_AT = /* wgsl */ `
fn byteAt(q : i32) -> i32 {
  return (bytes[q >> 2u] >> (u32(q & 3) * 8u)) & 255;
}`;

// One thread per i32 of packed bytes: up to four outputs.
const EXPAND = /* wgsl */ `
${BYTE_AT}
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  for (var j = 0; j < 4; j++) {
    let q = index * 4 + j;
    if (q < uniforms.total) { result[q] = unit[byteAt(q)]; }
  }
}`;

// One thread per output pixel (three values).
const AUGMENT = /* wgsl */ `
${BYTE_AT}
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let size = uniforms.size;
  let area = size * size;
  let k = index / area;
  let r = (index - k * area) / size;
  let c = index - k * area - r * size;
  let p = k * 8;
  let sx = maps[p] * f32(c) + maps[p + 1] * f32(r) + maps[p + 2];
  let sy = maps[p + 3] * f32(c) + maps[p + 4] * f32(r) + maps[p + 5];
  let brightness = maps[p + 6];
  let o = index * 3;
  let last = f32(size - 1);
  let eps = ${EDGE_EPS.toExponential()};
  if (sx < -eps || sy < -eps || sx > last + eps || sy > last + eps) {
    result[o] = unit[0]; result[o + 1] = unit[0]; result[o + 2] = unit[0];
    return;
  }
  // The top-left neighbour stays <= size-2 so that its partners exist (none in a 1-pixel image); a coordinate a
  // rounding error outside the edge samples the edge.
  let hi = max(size - 2, 0);
  let x0 = min(select(i32(floor(sx)), 0, sx <= 0.0), hi);
  let y0 = min(select(i32(floor(sy)), 0, sy <= 0.0), hi);
  let fx = clamp(sx - f32(x0), 0.0, 1.0);
  let fy = clamp(sy - f32(y0), 0.0, 1.0);
  let dx = select(3, 0, size == 1);
  let dy = select(size * 3, 0, size == 1);
  let i = (k * area + y0 * size + x0) * 3;
  let j = i + dy;
  for (var ch = 0; ch < 3; ch++) {
    let s00 = f32(byteAt(i + ch));
    let s01 = f32(byteAt(i + ch + dx));
    let s10 = f32(byteAt(j + ch));
    let s11 = f32(byteAt(j + ch + dx));
    let top = s00 + (s01 - s00) * fx;
    let bottom = s10 + (s11 - s10) * fx;
    let v = round(clamp((top + (bottom - top) * fy) * brightness, 0.0, 255.0));
    result[o + ch] = unit[i32(v)];
  }
}`;

/** `bytes`: the packed bytes of `shape` (NHWC, 3 channels); `maps`: [n, 8] or null for no augmentation. */
export function imageBatch(backend: WebGPUBackend, bytes: TensorInfo, unit: TensorInfo, maps: TensorInfo | null, shape: number[]): TensorInfo {
  const total = shape.reduce((a, b) => a * b, 1);
  if (maps === null) {
    return runWgsl(backend, {
      key: 'image_batch_expand',
      inputs: { bytes, unit },
      outputShape: shape,
      uniforms: { total },
      main: EXPAND,
      threads: Math.ceil(total / 4),
      workgroupSize: 256,
    });
  }
  return runWgsl(backend, {
    key: 'image_batch_augment',
    inputs: { bytes, unit, maps },
    outputShape: shape,
    uniforms: { size: shape[1]! },
    main: AUGMENT,
    threads: total / 3,
    workgroupSize: 256,
  });
}
