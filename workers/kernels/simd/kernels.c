// Training kernels for the wasm backend, in WebAssembly SIMD (128-bit), compiled by scripts/build-simd-kernels.sh
// into kernels.wasm. The module imports the tfjs wasm backend's own memory and works on its tensors in place:
// every pointer argument is a byte offset into that memory. It has no data segment and no static state, so
// instantiating it writes nothing into tfjs' memory; its shadow stack is a block that the loader (index.ts)
// allocates with tfjs' malloc.
//
// The reductions over all pixels of a batch (filter gradients, bias sums) accumulate in float32 over short
// blocks and fold into float64, so they stay within float32 rounding of the exact sum however large the batch;
// the sums over channels and taps (gemm_nn, depthwise_conv) are short and run in float32, as XNNPACK's do.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define INLINE static inline __attribute__((always_inline))

typedef float f32;
typedef double f64;

// Adds the four lanes of v to acc[0..3] in float64.
INLINE void fold4(v128_t v, f64 *acc) {
  wasm_v128_store(acc, wasm_f64x2_add(wasm_v128_load(acc), wasm_f64x2_promote_low_f32x4(v)));
  v128_t hi = wasm_i32x4_shuffle(v, v, 2, 3, 0, 1);
  wasm_v128_store(acc + 2, wasm_f64x2_add(wasm_v128_load(acc + 2), wasm_f64x2_promote_low_f32x4(hi)));
}

// ---------------------------------------------------------------------------------------------------------
// acc[M, N] += A^T B over rows [0, pb) for A [pb, M] (row stride lda) and B [pb, N] (row stride ldb):
// one register tile of MR rows of the result by NV vectors (4 columns each).
INLINE void tile_tn(const f32 *a, int lda, const f32 *b, int ldb, int pb, int MR, int NV, f64 *acc, int N) {
  v128_t c[4][2];
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = wasm_f32x4_splat(0);
  for (int p = 0; p < pb; p++) {
    const f32 *ar = a + p * lda;
    const f32 *br = b + p * ldb;
    v128_t b0 = wasm_v128_load(br);
    v128_t b1 = NV > 1 ? wasm_v128_load(br + 4) : b0;
    for (int i = 0; i < MR; i++) {
      v128_t ai = wasm_v128_load32_splat(ar + i);
      c[i][0] = wasm_f32x4_add(c[i][0], wasm_f32x4_mul(ai, b0));
      if (NV > 1) c[i][1] = wasm_f32x4_add(c[i][1], wasm_f32x4_mul(ai, b1));
    }
  }
  for (int i = 0; i < MR; i++) {
    fold4(c[i][0], acc + i * N);
    if (NV > 1) fold4(c[i][1], acc + i * N + 4);
  }
}

INLINE void tiles_tn(const f32 *a, int lda, const f32 *b, int ldb, int pb, int MR, int N, f64 *acc) {
  int n = 0;
  for (; n + 8 <= N; n += 8) tile_tn(a, lda, b + n, ldb, pb, MR, 2, acc + n, N);
  if (n + 4 <= N) tile_tn(a, lda, b + n, ldb, pb, MR, 1, acc + n, N);
}

// out[M, N] = A^T B for A [P, M] and B [P, N], both row-major and contiguous (N a multiple of 4). `acc` is
// scratch for M*N float64s. Rows are taken in blocks that keep a block of A and of B in the L2 cache while
// every register tile of the result passes over them.
EXPORT(gemm_tn)
void gemm_tn(const f32 *a, const f32 *b, int P, int M, int N, f64 *acc, f32 *out) {
  for (int i = 0; i < M * N; i++) acc[i] = 0;
  int block = 32768 / (M + N);
  if (block < 16) block = 16;
  for (int p0 = 0; p0 < P; p0 += block) {
    int pb = P - p0 < block ? P - p0 : block;
    const f32 *ab = a + p0 * M;
    const f32 *bb = b + p0 * N;
    int m = 0;
    for (; m + 4 <= M; m += 4) tiles_tn(ab + m, M, bb, N, pb, 4, N, acc + m * N);
    switch (M - m) {
      case 3: tiles_tn(ab + m, M, bb, N, pb, 3, N, acc + m * N); break;
      case 2: tiles_tn(ab + m, M, bb, N, pb, 2, N, acc + m * N); break;
      case 1: tiles_tn(ab + m, M, bb, N, pb, 1, N, acc + m * N); break;
    }
  }
  for (int i = 0; i < M * N; i++) out[i] = (f32)acc[i];
}

// ---------------------------------------------------------------------------------------------------------
// Depthwise filter gradient, channel multiplier 1, horizontal stride 1:
//   dW[i, j, c] = sum over (n, oh, ow) of x[n, oh*sh + i*dh - top, ow + j*dw - left, c] * dy[n, oh, ow, c]
// Two ways, both summing each image in float32 and folding it into `acc` (scratch, kh*kw*C float64s); out
// [kh, kw, C] is written at the end.
// - 3 taps a row and C a multiple of 4 (every depthwise layer after an RGB input): for each block of 4 channels
//   and each filter row, the three taps' sums stay in registers along the output row, where all three fall
//   inside the input; the few columns at the edges add into `rows` (here kh*kw*C floats) tap by tap.
// - Otherwise (an RGB input): along an output row, tap (i, j) meets one contiguous run of x, so products
//   accumulate per (tap, column, channel) in unit-stride vector loops over `rows` (kh*kw*OW*C floats).

// r[t] += xs[t] * d[t] for t < n, vectors then a scalar tail.
INLINE void multiply_add(f32 *r, const f32 *xs, const f32 *d, int n) {
  int t = 0;
  for (; t + 4 <= n; t += 4)
    wasm_v128_store(r + t, wasm_f32x4_add(wasm_v128_load(r + t), wasm_f32x4_mul(wasm_v128_load(xs + t), wasm_v128_load(d + t))));
  for (; t < n; t++) r[t] += xs[t] * d[t];
}

EXPORT(depthwise_filter_grad)
void depthwise_filter_grad(const f32 *x, const f32 *dy, int N, int H, int W, int C, int OH, int OW, int sh,
                           int dh, int dw, int top, int left, int kh, int kw, f32 *rows, f64 *acc, f32 *out) {
  const int row = OW * C;
  const int registers = kw == 3 && C % 4 == 0;
  const int per_image = registers ? kh * kw * C : kh * kw * row;
  for (int i = 0; i < kh * kw * C; i++) acc[i] = 0;
  for (int n = 0; n < N; n++) {
    for (int i = 0; i < per_image; i++) rows[i] = 0;
    for (int oh = 0; oh < OH; oh++) {
      const f32 *d = dy + (n * OH + oh) * row;
      for (int i = 0; i < kh; i++) {
        int xr = oh * sh + i * dh - top;
        if (xr < 0 || xr >= H) continue;
        const f32 *xrow = x + (n * H + xr) * W * C;
        if (registers) {
          // Output columns [lo, hi) have all three taps inside the input.
          const int s0 = -left, s1 = dw - left, s2 = 2 * dw - left;
          int lo = s0 < 0 ? -s0 : 0, hi = W - s2 < OW ? W - s2 : OW;
          if (hi < lo) hi = lo;
          f32 *r = rows + i * 3 * C;
          for (int cb = 0; cb < C; cb += 4) {
            v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0;
            const f32 *x0 = xrow + (lo + s0) * C + cb, *x1 = xrow + (lo + s1) * C + cb, *x2 = xrow + (lo + s2) * C + cb;
            const f32 *dl = d + lo * C + cb;
            for (int k = 0; k < hi - lo; k++) {
              v128_t dv = wasm_v128_load(dl + k * C);
              a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(x0 + k * C), dv));
              a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(x1 + k * C), dv));
              a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(x2 + k * C), dv));
            }
            wasm_v128_store(r + cb, wasm_f32x4_add(wasm_v128_load(r + cb), a0));
            wasm_v128_store(r + C + cb, wasm_f32x4_add(wasm_v128_load(r + C + cb), a1));
            wasm_v128_store(r + 2 * C + cb, wasm_f32x4_add(wasm_v128_load(r + 2 * C + cb), a2));
          }
          for (int j = 0; j < 3; j++) {
            int shift = j * dw - left;
            int c0 = shift < 0 ? -shift : 0, c1 = W - shift < OW ? W - shift : OW;
            for (int ow = c0; ow < c1 && ow < lo; ow++) multiply_add(r + j * C, xrow + (ow + shift) * C, d + ow * C, C);
            for (int ow = hi > c0 ? hi : c0; ow < c1; ow++) multiply_add(r + j * C, xrow + (ow + shift) * C, d + ow * C, C);
          }
          continue;
        }
        for (int j = 0; j < kw; j++) {
          int shift = j * dw - left;  // x column = output column + shift
          int c0 = shift < 0 ? -shift : 0;
          int c1 = W - shift < OW ? W - shift : OW;
          if (c1 > c0) multiply_add(rows + (i * kw + j) * row + c0 * C, xrow + (c0 + shift) * C, d + c0 * C, (c1 - c0) * C);
        }
      }
    }
    for (int tap = 0; tap < kh * kw; tap++) {
      f64 *a = acc + tap * C;
      if (registers) {
        for (int c = 0; c < C; c++) a[c] += rows[tap * C + c];
        continue;
      }
      const f32 *r = rows + tap * row;
      for (int col = 0; col < OW; col++)
        for (int c = 0; c < C; c++) a[c] += r[col * C + c];
    }
  }
  for (int i = 0; i < kh * kw * C; i++) out[i] = (f32)acc[i];
}

// ---------------------------------------------------------------------------------------------------------
// Max-pool gradient for 2x2 windows with stride 2 and no padding, C a multiple of 4: each dy value goes to the
// first maximum of its window in row-major order; every other position of a window gets 0. Positions past the
// last whole window (odd sizes) are left for the caller to zero.
EXPORT(max_pool_grad_2x2)
void max_pool_grad_2x2(const f32 *x, const f32 *dy, f32 *dx, int N, int H, int W, int C, int OH, int OW) {
  const int rowLen = W * C;
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
      const int top = (n * H + 2 * oh) * rowLen;
      const f32 *g = dy + (n * OH + oh) * OW * C;
      for (int ow = 0; ow < OW; ow++) {
        for (int c = 0; c < C; c += 4) {
          const int ia = top + 2 * ow * C + c, ib = ia + C, ie = ia + rowLen, iff = ie + C;
          v128_t va = wasm_v128_load(x + ia), vb = wasm_v128_load(x + ib);
          v128_t ve = wasm_v128_load(x + ie), vf = wasm_v128_load(x + iff);
          v128_t gb = wasm_f32x4_gt(vb, va);
          v128_t best = wasm_v128_bitselect(vb, va, gb);
          v128_t ge = wasm_f32x4_gt(ve, best);
          best = wasm_v128_bitselect(ve, best, ge);
          v128_t gf = wasm_f32x4_gt(vf, best);
          v128_t grad = wasm_v128_load(g + ow * C + c);
          // The last position that beat every earlier one wins.
          v128_t wf = gf;
          v128_t we = wasm_v128_andnot(ge, gf);
          v128_t wb = wasm_v128_andnot(wasm_v128_andnot(gb, ge), gf);
          v128_t wa = wasm_v128_not(wasm_v128_or(wasm_v128_or(gb, ge), gf));
          wasm_v128_store(dx + ia, wasm_v128_and(grad, wa));
          wasm_v128_store(dx + ib, wasm_v128_and(grad, wb));
          wasm_v128_store(dx + ie, wasm_v128_and(grad, we));
          wasm_v128_store(dx + iff, wasm_v128_and(grad, wf));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// out[k] = sum over p of x[p, k] for x [P, K] (K a multiple of 4): blocks of 64 rows sum in float32 vectors
// into `part` (scratch, K floats), which folds into `acc` (scratch, K float64s).
EXPORT(sum_outer)
void sum_outer(const f32 *x, int P, int K, f32 *part, f64 *acc, f32 *out) {
  for (int k = 0; k < K; k++) acc[k] = 0;
  for (int p0 = 0; p0 < P; p0 += 64) {
    int p1 = P - p0 < 64 ? P : p0 + 64;
    for (int k = 0; k < K; k++) part[k] = 0;
    for (int p = p0; p < p1; p++) {
      const f32 *r = x + p * K;
      for (int k = 0; k < K; k += 4) wasm_v128_store(part + k, wasm_f32x4_add(wasm_v128_load(part + k), wasm_v128_load(r + k)));
    }
    for (int k = 0; k < K; k += 4) fold4(wasm_v128_load(part + k), acc + k);
  }
  for (int k = 0; k < K; k++) out[k] = (f32)acc[k];
}

// ---------------------------------------------------------------------------------------------------------
// The ReLU gradient in one pass: dx = dy where x > 0, else 0 (NaN where x is NaN, as dy * step(x) gives).
EXPORT(relu_grad)
void relu_grad(const f32 *dy, const f32 *x, f32 *dx, int n) {
  int i = 0;
  const v128_t zero = wasm_f32x4_splat(0);
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t g = wasm_v128_and(wasm_v128_load(dy + i), wasm_f32x4_gt(xv, zero));
    wasm_v128_store(dx + i, wasm_v128_or(g, wasm_f32x4_ne(xv, xv)));
  }
  for (; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : (x[i] != x[i] ? x[i] : 0);
}

// out[p, k] = x[p, k] + bias[k] for x [P, K] (K a multiple of 4): a bias added along the last axis.
EXPORT(add_bias)
void add_bias(const f32 *x, const f32 *bias, f32 *out, int P, int K) {
  for (int p = 0; p < P; p++) {
    const f32 *r = x + p * K;
    f32 *o = out + p * K;
    for (int k = 0; k < K; k += 4) wasm_v128_store(o + k, wasm_f32x4_add(wasm_v128_load(r + k), wasm_v128_load(bias + k)));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Depthwise convolution, channel multiplier 1, horizontal stride 1:
//   out[n, oh, ow, c] = sum over (i, j) of x[n, oh*sh + i*dh - top, ow + j*dw - left, c] * w'[i, j, c]
// (out-of-range positions count as zeros; top and left may be negative), where w' is w [kh, kw, C], or w
// rotated by 180 degrees when `rotate` is set: the input gradient of a stride-1 depthwise convolution is this
// convolution of dy with the rotated filter and top = (kh-1)*dh - pad_top. Along an output row, tap (i, j)
// meets one contiguous run of x, and its weight repeats every C values: `wrows` (scratch, kh*kw*OW*C floats)
// holds each tap's weights laid out along a row so that the products run in unit-stride vector loops. Where
// three taps of a filter row all apply, they are summed together before touching the output row.
EXPORT(depthwise_conv)
void depthwise_conv(const f32 *x, const f32 *w, f32 *out, int N, int H, int W, int C, int OH, int OW, int sh,
                    int dh, int dw, int top, int left, int kh, int kw, int rotate, f32 *wrows) {
  const int row = OW * C;
  for (int tap = 0; tap < kh * kw; tap++) {
    const f32 *wt = w + (rotate ? kh * kw - 1 - tap : tap) * C;
    for (int t = 0; t < row; t++) wrows[tap * row + t] = wt[t % C];
  }
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
      f32 *o = out + (n * OH + oh) * row;
      for (int t = 0; t < row; t++) o[t] = 0;
      for (int i = 0; i < kh; i++) {
        int xr = oh * sh + i * dh - top;
        if (xr < 0 || xr >= H) continue;
        const f32 *xrow = x + (n * H + xr) * W * C;
        int j = 0;
        if (kw == 3) {
          // The run of output columns where all three taps of this filter row fall inside the input.
          int s0 = -left, s2 = 2 * dw - left;
          int lo = (s0 < 0 ? -s0 : 0) * C;
          int hi = (W - s2 < OW ? W - s2 : OW) * C;
          if (hi > lo) {
            const f32 *x0 = xrow + s0 * C, *x1 = xrow + (dw - left) * C, *x2 = xrow + s2 * C;
            const f32 *w0 = wrows + (i * 3) * row, *w1 = w0 + row, *w2 = w1 + row;
            int t = lo;
            for (; t + 4 <= hi; t += 4) {
              v128_t s = wasm_f32x4_mul(wasm_v128_load(x0 + t), wasm_v128_load(w0 + t));
              s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(x1 + t), wasm_v128_load(w1 + t)));
              s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(x2 + t), wasm_v128_load(w2 + t)));
              wasm_v128_store(o + t, wasm_f32x4_add(wasm_v128_load(o + t), s));
            }
            for (; t < hi; t++) o[t] += x0[t] * w0[t] + x1[t] * w1[t] + x2[t] * w2[t];
            // Each tap on the columns outside that run.
            for (int jj = 0; jj < 3; jj++) {
              int shift = jj * dw - left;
              int c0 = (shift < 0 ? -shift : 0) * C, c1 = (W - shift < OW ? W - shift : OW) * C;
              const f32 *xs = xrow + shift * C, *wr = wrows + (i * 3 + jj) * row;
              for (int u = c0; u < (c1 < lo ? c1 : lo); u++) o[u] += xs[u] * wr[u];
              for (int u = (c0 > hi ? c0 : hi); u < c1; u++) o[u] += xs[u] * wr[u];
            }
            continue;
          }
        }
        for (; j < kw; j++) {
          int shift = j * dw - left;
          int c0 = (shift < 0 ? -shift : 0) * C, c1 = (W - shift < OW ? W - shift : OW) * C;
          const f32 *xs = xrow + shift * C, *wr = wrows + (i * kw + j) * row;
          int t = c0;
          for (; t + 4 <= c1; t += 4)
            wasm_v128_store(o + t, wasm_f32x4_add(wasm_v128_load(o + t), wasm_f32x4_mul(wasm_v128_load(xs + t), wasm_v128_load(wr + t))));
          for (; t < c1; t++) o[t] += xs[t] * wr[t];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Stores the first `n` (< 4) lanes of v.
INLINE void store_lanes(f32 *o, v128_t v, int n) {
  o[0] = wasm_f32x4_extract_lane(v, 0);
  if (n > 1) o[1] = wasm_f32x4_extract_lane(v, 1);
  if (n > 2) o[2] = wasm_f32x4_extract_lane(v, 2);
}

// out[MR rows, columns n0 .. n0 + 4*NV) = bias + A rows x packed B over the full K, then max(., 0) if `relu`.
// B is packed [K, ldb] (ldb a multiple of 4, zero beyond N) with the bias as row K; `cols` is how many of the
// tile's columns exist (the rest are not stored).
INLINE void tile_nn(const f32 *a, int lda, const f32 *bp, int ldb, int K, int MR, int NV, int relu, f32 *out, int ldo, int cols) {
  v128_t c[4][2];
  const f32 *bias = bp + K * ldb;
  for (int i = 0; i < MR; i++) {
    c[i][0] = wasm_v128_load(bias);
    c[i][1] = NV > 1 ? wasm_v128_load(bias + 4) : c[i][0];
  }
  for (int k = 0; k < K; k++) {
    const f32 *br = bp + k * ldb;
    v128_t b0 = wasm_v128_load(br);
    v128_t b1 = NV > 1 ? wasm_v128_load(br + 4) : b0;
    for (int i = 0; i < MR; i++) {
      v128_t ai = wasm_v128_load32_splat(a + i * lda + k);
      c[i][0] = wasm_f32x4_add(c[i][0], wasm_f32x4_mul(ai, b0));
      if (NV > 1) c[i][1] = wasm_f32x4_add(c[i][1], wasm_f32x4_mul(ai, b1));
    }
  }
  const v128_t zero = wasm_f32x4_splat(0);
  for (int i = 0; i < MR; i++) {
    f32 *o = out + i * ldo;
    v128_t v0 = relu ? wasm_f32x4_pmax(c[i][0], zero) : c[i][0];  // pmax keeps a NaN, as relu does
    if (cols >= 4) wasm_v128_store(o, v0); else store_lanes(o, v0, cols);
    if (NV > 1) {
      v128_t v1 = relu ? wasm_f32x4_pmax(c[i][1], zero) : c[i][1];
      if (cols >= 8) wasm_v128_store(o + 4, v1); else if (cols > 4) store_lanes(o + 4, v1, cols - 4);
    }
  }
}

INLINE void row_tiles_nn(const f32 *a, int K, const f32 *bp, int ldb, int N, int MR, int relu, f32 *out) {
  int n = 0;
  for (; n + 8 <= ldb; n += 8) tile_nn(a, K, bp + n, ldb, K, MR, 2, relu, out + n, N, N - n);
  if (n < ldb) tile_nn(a, K, bp + n, ldb, K, MR, 1, relu, out + n, N, N - n);
}

// out[P, N] = A B (+ bias, then ReLU if `relu`) for A [P, K] row-major and B [K, N] given by strides (b[k, n]
// at b + k*bk + n*bn), so that a transposed B (a filter's W^T) needs no copy of its own; `bias` is N floats or
// null. B and the bias are packed into `bp` (scratch, (K + 1) * ceil4(N) floats, zero-padded), which stays in
// cache while 4-row tiles of A stream past it.
EXPORT(gemm_nn)
void gemm_nn(const f32 *a, const f32 *b, int bk, int bn, const f32 *bias, int relu, int P, int K, int N, f32 *bp, f32 *out) {
  const int ldb = (N + 3) & ~3;
  for (int k = 0; k < K; k++)
    for (int n = 0; n < ldb; n++) bp[k * ldb + n] = n < N ? b[k * bk + n * bn] : 0;
  for (int n = 0; n < ldb; n++) bp[K * ldb + n] = bias && n < N ? bias[n] : 0;
  int p = 0;
  for (; p + 4 <= P; p += 4) row_tiles_nn(a + p * K, K, bp, ldb, N, 4, relu, out + p * N);
  switch (P - p) {
    case 3: row_tiles_nn(a + p * K, K, bp, ldb, N, 3, relu, out + p * N); break;
    case 2: row_tiles_nn(a + p * K, K, bp, ldb, N, 2, relu, out + p * N); break;
    case 1: row_tiles_nn(a + p * K, K, bp, ldb, N, 1, relu, out + p * N); break;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Max pooling over 2x2 windows with stride 2 and no padding, C a multiple of 4 (rows and columns past the
// last whole window are dropped, as 'valid' pooling does).
EXPORT(max_pool_2x2)
void max_pool_2x2(const f32 *x, f32 *out, int N, int H, int W, int C, int OH, int OW) {
  const int rowLen = W * C;
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
      const f32 *top = x + (n * H + 2 * oh) * rowLen, *bottom = top + rowLen;
      f32 *o = out + (n * OH + oh) * OW * C;
      for (int ow = 0; ow < OW; ow++) {
        for (int c = 0; c < C; c += 4) {
          const int i = 2 * ow * C + c;
          v128_t m = wasm_f32x4_pmax(wasm_v128_load(top + i), wasm_v128_load(top + i + C));
          m = wasm_f32x4_pmax(m, wasm_f32x4_pmax(wasm_v128_load(bottom + i), wasm_v128_load(bottom + i + C)));
          wasm_v128_store(o + ow * C + c, m);
        }
      }
    }
  }
}
