/**
 * Plain loops over NHWC float32 buffers for the two training kernels that are memory-bound: the depthwise
 * filter gradient (k*k multiply-adds per input value) and the max-pool gradient. On wasm they read the
 * tensors in place on the WebAssembly heap (see wasm-heap.ts); one pass over the data beats the k*k passes
 * (slice, multiply, reduce) of a formulation from tfjs ops by about 10x there.
 */
import type { backend_util } from '@tensorflow/tfjs-core';

type Conv2DInfo = backend_util.Conv2DInfo;

/**
 * dW[i, j, c, m] = sum over (n, oh, ow) of x[n, oh*sh + i*dh - top, ow*sw + j*dw - left, c] * dy[n, oh, ow, c*M + m]
 * (out-of-range rows and columns are the zero padding). Accumulates in float64.
 */
export function depthwiseFilterGradLoop(x: Float32Array, dy: Float32Array, info: Conv2DInfo, m: number): Float32Array {
  if (m === 1 && info.strideWidth === 1) return depthwiseFilterGradRows(x, dy, info);
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const cm = c * m;
  const acc = new Float64Array(kh * kw * cm);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let i = 0; i < kh; i++) {
        const xr = oh * strideHeight + i * dilationHeight - top;
        if (xr < 0 || xr >= inHeight) continue;
        const xRow = (n * inHeight + xr) * inWidth;
        const dyRow = (n * outHeight + oh) * outWidth;
        for (let j = 0; j < kw; j++) {
          const accOff = (i * kw + j) * cm;
          for (let ow = 0; ow < outWidth; ow++) {
            const xc = ow * strideWidth + j * dilationWidth - left;
            if (xc < 0 || xc >= inWidth) continue;
            const xOff = (xRow + xc) * c;
            const dyOff = (dyRow + ow) * cm;
            for (let ch = 0; ch < c; ch++) {
              const xv = x[xOff + ch];
              for (let k = 0; k < m; k++) acc[accOff + ch * m + k] += xv * dy[dyOff + ch * m + k];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc);
}

/**
 * The same for channel multiplier 1 and horizontal stride 1, where a tap's inputs along an output row are one
 * contiguous run: products accumulate per (tap, column, channel) in long unit-stride loops -- about 1.5x
 * faster than the loop above for 3 channels -- and are reduced over the columns at the end.
 */
function depthwiseFilterGradRows(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight } = info;
  const { dilationHeight, dilationWidth, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const row = outWidth * c;
  const rows = new Float64Array(kh * kw * row);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const dyOff = (n * outHeight + oh) * row;
      for (let i = 0; i < kh; i++) {
        const xr = oh * strideHeight + i * dilationHeight - top;
        if (xr < 0 || xr >= inHeight) continue;
        const xRow = (n * inHeight + xr) * inWidth;
        for (let j = 0; j < kw; j++) {
          const shift = j * dilationWidth - left; // x column = output column + shift
          const from = Math.max(0, -shift) * c;
          const to = Math.min(outWidth, inWidth - shift) * c;
          const xOff = (xRow + shift) * c;
          const r = (i * kw + j) * row;
          for (let t = from; t < to; t++) rows[r + t] += x[xOff + t] * dy[dyOff + t];
        }
      }
    }
  }
  const out = new Float64Array(kh * kw * c);
  for (let tap = 0; tap < kh * kw; tap++) {
    for (let t = 0; t < row; t++) out[tap * c + (t % c)] += rows[tap * row + t];
  }
  return Float32Array.from(out);
}

/**
 * The max-pool gradient: each dy value goes to the first (row-major within the window) position holding the
 * window's maximum, as on the cpu backend and in TensorFlow; padding positions never win. `dx` must be zeroed.
 * (The stock wasm kernel starts its search at FLT_MIN, so a window whose values are all <= 0 -- a max pool
 * after batch norm -- loses its gradient, and it takes the last of tied maxima.)
 */
export function maxPoolGradLoop(x: Float32Array, dy: Float32Array, dx: Float32Array, info: Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const { top, left } = info.padInfo;
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const r0 = oh * strideHeight - top;
      for (let ow = 0; ow < outWidth; ow++) {
        const c0 = ow * strideWidth - left;
        let started = false;
        for (let wr = 0; wr < effectiveFilterHeight; wr += dilationHeight) {
          const xr = r0 + wr;
          if (xr < 0 || xr >= inHeight) continue;
          for (let wc = 0; wc < effectiveFilterWidth; wc += dilationWidth) {
            const xc = c0 + wc;
            if (xc < 0 || xc >= inWidth) continue;
            const off = ((n * inHeight + xr) * inWidth + xc) * c;
            if (!started) {
              // The first position inside the input starts every channel's search.
              for (let ch = 0; ch < c; ch++) {
                best[ch] = x[off + ch];
                at[ch] = off + ch;
              }
              started = true;
              continue;
            }
            for (let ch = 0; ch < c; ch++) {
              const v = x[off + ch];
              if (v > best[ch]) {
                best[ch] = v;
                at[ch] = off + ch;
              }
            }
          }
        }
        const dyOff = ((n * outHeight + oh) * outWidth + ow) * c;
        if (started) for (let ch = 0; ch < c; ch++) dx[at[ch]] += dy[dyOff + ch];
      }
    }
  }
}
