/**
 * Image bytes to the model's input values: v / 255 (Keras' rescale=1/255), correctly rounded to float32. The
 * table is the single definition; the webgpu kernel that expands bytes on the GPU looks its values up in it too.
 */
export const TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/** Writes `bytes` scaled to [0, 1] into `out` from `offset`. */
export function toUnit(bytes: Uint8Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < bytes.length; i++) out[offset + i] = TO_UNIT[bytes[i]!]!;
}
