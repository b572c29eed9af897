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
              const xv = x[xOff + ch]!;
              for (let k = 0; k < m; k++) acc[accOff + ch * m + k]! += xv * dy[dyOff + ch * m + k]!;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc);
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
                best[ch] = x[off + ch]!;
                at[ch] = off + ch;
              }
              started = true;
              continue;
            }
            for (let ch = 0; ch < c; ch++) {
              const v = x[off + ch]!;
              if (v > best[ch]!) {
                best[ch] = v;
                at[ch] = off + ch;
              }
            }
          }
        }
        const dyOff = ((n * outHeight + oh) * outWidth + ow) * c;
        if (started) for (let ch = 0; ch < c; ch++) dx[at[ch]!]! += dy[dyOff + ch]!;
      }
    }
  }
}

/**
 * The max-pool gradient for windows that tile the input (filter = stride, no padding, no dilation): every
 * input position belongs to at most one window, so dx is written in one pass, without zero-filling it first.
 * Positions past the last whole window (odd sizes) get 0. Ties go to the first maximum in row-major order.
 */
export function maxPoolGradTiledLoop(x: Float32Array, dy: Float32Array, dx: Float32Array, info: Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  if (fh === 2 && fw === 2) {
    maxPoolGrad2x2(x, dy, dx, info);
  } else {
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outHeight; oh++) {
        for (let ow = 0; ow < outWidth; ow++) {
          const dyOff = ((n * outHeight + oh) * outWidth + ow) * c;
          const first = ((n * inHeight + oh * fh) * inWidth + ow * fw) * c;
          for (let ch = 0; ch < c; ch++) {
            let best = x[first + ch]!;
            let at = first + ch;
            for (let wr = 0; wr < fh; wr++) {
              for (let wc = 0; wc < fw; wc++) {
                const off = first + (wr * inWidth + wc) * c + ch;
                dx[off] = 0;
                const v = x[off]!;
                if (v > best) {
                  best = v;
                  at = off;
                }
              }
            }
            dx[at] = dy[dyOff + ch]!;
          }
        }
      }
    }
  }
  zeroUncovered(dx, info);
}

/** Zeroes the rows and columns of dx past the last whole window of a tiled max pool (odd sizes). */
export function zeroUncovered(dx: Float32Array, info: Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, filterHeight: fh, filterWidth: fw } = info;
  const rowLen = inWidth * c;
  for (let n = 0; n < batchSize; n++) {
    const image = n * inHeight * rowLen;
    dx.fill(0, image + outHeight * fh * rowLen, image + inHeight * rowLen);
    if (outWidth * fw < inWidth) {
      for (let r = 0; r < outHeight * fh; r++) dx.fill(0, image + r * rowLen + outWidth * fw * c, image + (r + 1) * rowLen);
    }
  }
}

function maxPoolGrad2x2(x: Float32Array, dy: Float32Array, dx: Float32Array, info: Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const rowLen = inWidth * c;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const top = (n * inHeight + 2 * oh) * rowLen;
      const bottom = top + rowLen;
      const dyRow = (n * outHeight + oh) * outWidth * c;
      const span = outWidth * 2 * c;
      // t walks the top row's first window column; the window's four positions are t, t+c, t+rowLen, t+rowLen+c.
      for (let t = 0, d = dyRow; t < span; t += 2 * c, d += c) {
        for (let ch = 0; ch < c; ch++) {
          const a = top + t + ch;
          const b = a + c;
          const e = bottom + t + ch;
          const f = e + c;
          const g = dy[d + ch]!;
          const va = x[a]!;
          const vb = x[b]!;
          const ve = x[e]!;
          const vf = x[f]!;
          let k = 0;
          let best = va;
          if (vb > best) {
            best = vb;
            k = 1;
          }
          if (ve > best) {
            best = ve;
            k = 2;
          }
          if (vf > best) k = 3;
          dx[a] = k === 0 ? g : 0;
          dx[b] = k === 1 ? g : 0;
          dx[e] = k === 2 ? g : 0;
          dx[f] = k === 3 ? g : 0;
        }
      }
    }
  }
}

/**
 * Sums a [outer, inner] row-major buffer over its outer axis (a reduction over the leading axes of a tensor,
 * e.g. a bias gradient over N, H, W of NHWC) in one pass, accumulating in float64.
 */
export function sumOuterLoop(x: Float32Array, outer: number, inner: number): Float32Array {
  const acc = new Float64Array(inner);
  for (let p = 0, off = 0; p < outer; p++, off += inner) {
    for (let k = 0; k < inner; k++) acc[k]! += x[off + k]!;
  }
  return Float32Array.from(acc);
}

/**
 * out = x^T for `batches` row-major [rows, cols] matrices stored one after another. Works in 32x32 tiles so
 * that both the reads and the strided writes stay within a few cache lines and pages at a time.
 */
export function transposeLoop(x: Float32Array, out: Float32Array, batches: number, rows: number, cols: number): void {
  const TILE = 32;
  const size = rows * cols;
  for (let b = 0, base = 0; b < batches; b++, base += size) {
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = Math.min(rows, i0 + TILE);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const j1 = Math.min(cols, j0 + TILE);
        for (let j = j0; j < j1; j++) {
          const o = base + j * rows;
          for (let i = i0, s = base + i0 * cols + j; i < i1; i++, s += cols) out[o + i] = x[s]!;
        }
      }
    }
  }
}
