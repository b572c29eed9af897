/**
 * Every training kernel against the cpu backend's stock kernels over a grid of shapes: odd sizes, batch 1,
 * stride 1 and 2, `same` and `valid` padding, 1x1 and 3x3 (and 2x2, whose `same` padding is asymmetric),
 * channel multiplier 1 (and 2). The gradients come from tf.grads of the forward ops with a random upstream
 * gradient, so the test also covers how the ops call the kernels. The tf-ops formulations (those webgpu runs)
 * are checked on cpu as well, so they are covered even where no Vulkan adapter exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../workers/backend/index.ts';
import { conv2DBackpropFilterImpl } from '../../../workers/kernels/conv2d-backprop-filter.ts';
import { conv2DBackpropInputImpl } from '../../../workers/kernels/conv2d-backprop-input.ts';
import { depthwiseBackpropFilterImpl } from '../../../workers/kernels/depthwise-backprop-filter.ts';
import { depthwiseBackpropInputImpl } from '../../../workers/kernels/depthwise-backprop-input.ts';
import { innerGroups } from '../../../workers/kernels/tensors.ts';
import { BACKENDS, compare, randomValues, useBackendOrSkip, values } from './backends.ts';

type Pad = 'same' | 'valid';
type Shape4 = [number, number, number, number];

interface ConvCase {
  x: Shape4;
  k: number;
  cout: number;
  stride: number;
  pad: Pad;
}
interface DepthwiseCase {
  x: Shape4;
  k: number;
  mult: number;
  stride: number;
  pad: Pad;
}
interface PoolCase {
  x: Shape4;
  k: number;
  stride: number;
  pad: Pad;
}

const CONV: ConvCase[] = [
  { x: [1, 7, 7, 3], k: 3, cout: 4, stride: 1, pad: 'valid' },
  { x: [2, 9, 8, 3], k: 3, cout: 5, stride: 2, pad: 'valid' },
  { x: [2, 9, 9, 4], k: 3, cout: 6, stride: 2, pad: 'same' },
  { x: [1, 8, 8, 4], k: 3, cout: 4, stride: 1, pad: 'same' },
  { x: [2, 6, 7, 20], k: 3, cout: 4, stride: 1, pad: 'same' }, // > 16 input channels: one matMul per tap
  { x: [1, 9, 9, 18], k: 3, cout: 8, stride: 2, pad: 'valid' },
  { x: [1, 8, 8, 3], k: 2, cout: 2, stride: 2, pad: 'same' },
  { x: [1, 7, 7, 3], k: 2, cout: 3, stride: 1, pad: 'same' },
  { x: [2, 7, 7, 5], k: 1, cout: 3, stride: 1, pad: 'valid' },
  { x: [2, 7, 9, 3], k: 1, cout: 5, stride: 2, pad: 'same' },
  { x: [1, 8, 8, 6], k: 1, cout: 4, stride: 2, pad: 'same' },
  { x: [1, 9, 9, 4], k: 1, cout: 4, stride: 2, pad: 'valid' },
  // 1x1 stride 1 on wasm: the SIMD products, with 4-row tiles and partial ones (pixels % 4), 8- and 4-column
  // tiles and partial ones, and the operand order swapped when only cin is a multiple of 4.
  { x: [1, 5, 7, 3], k: 1, cout: 8, stride: 1, pad: 'valid' },
  { x: [2, 3, 5, 8], k: 1, cout: 5, stride: 1, pad: 'valid' },
  { x: [1, 6, 5, 12], k: 1, cout: 12, stride: 1, pad: 'same' },
  { x: [3, 9, 11, 6], k: 1, cout: 20, stride: 1, pad: 'valid' },
  // On webgpu, products over at least 256 pixels sum them in groups (innerGroups): 4 groups of 128 for the 1x1,
  // 5 of 160 for the 3x3 (im2col), 3 of 99 for the 297 pixels above; 90 pixels stay one product.
  { x: [2, 16, 16, 12], k: 1, cout: 16, stride: 1, pad: 'valid' },
  { x: [2, 20, 20, 3], k: 3, cout: 8, stride: 1, pad: 'same' },
  { x: [3, 5, 6, 12], k: 1, cout: 16, stride: 1, pad: 'valid' },
];

const DEPTHWISE: DepthwiseCase[] = [
  { x: [1, 7, 7, 3], k: 3, mult: 1, stride: 1, pad: 'valid' },
  { x: [2, 9, 8, 4], k: 3, mult: 1, stride: 2, pad: 'same' },
  { x: [2, 8, 8, 5], k: 3, mult: 1, stride: 2, pad: 'valid' },
  { x: [1, 6, 7, 3], k: 3, mult: 1, stride: 1, pad: 'same' },
  { x: [2, 9, 9, 3], k: 3, mult: 1, stride: 2, pad: 'same' },
  { x: [2, 7, 7, 3], k: 3, mult: 2, stride: 1, pad: 'same' },
  { x: [1, 5, 5, 2], k: 1, mult: 1, stride: 1, pad: 'valid' },
  { x: [2, 9, 8, 3], k: 5, mult: 1, stride: 1, pad: 'same' }, // one 3-tap pass and two single taps per row
  { x: [1, 7, 6, 4], k: 2, mult: 1, stride: 1, pad: 'same' }, // asymmetric padding
  { x: [1, 4, 5, 2], k: 3, mult: 1, stride: 1, pad: 'same' }, // the padding cuts into every tap's range
  // Wide enough rows for the SIMD loops to run vectors and scalar tails on wasm.
  { x: [2, 12, 11, 8], k: 3, mult: 1, stride: 1, pad: 'same' },
  { x: [1, 10, 9, 5], k: 3, mult: 1, stride: 1, pad: 'valid' },
  { x: [2, 8, 9, 8], k: 3, mult: 1, stride: 1, pad: 'valid' },
];

const POOL: PoolCase[] = [
  { x: [2, 8, 8, 3], k: 2, stride: 2, pad: 'valid' },
  { x: [1, 9, 9, 3], k: 2, stride: 2, pad: 'valid' },
  { x: [2, 9, 9, 4], k: 3, stride: 2, pad: 'same' },
  { x: [1, 8, 8, 2], k: 3, stride: 2, pad: 'same' },
  { x: [1, 7, 7, 2], k: 3, stride: 1, pad: 'same' },
  { x: [2, 7, 9, 4], k: 2, stride: 2, pad: 'valid' }, // windows tile the input; last row and column uncovered
  { x: [1, 8, 6, 3], k: 2, stride: 2, pad: 'same' }, // even sizes: 'same' adds no padding, windows tile
  { x: [1, 10, 11, 2], k: 3, stride: 3, pad: 'valid' }, // tiling 3x3 windows
  { x: [2, 8, 6, 8], k: 2, stride: 2, pad: 'valid' }, // 2x2 over a multiple of 4 channels: SIMD on wasm
  { x: [1, 7, 5, 12], k: 2, stride: 2, pad: 'valid' }, // the same with uncovered edges
];

/** Windows side by side with no padding (stride = window; 'same' adds none when the window divides the size). */
const tilesInput = (c: PoolCase) => c.k === c.stride && (c.pad === 'valid' || (c.x[1] % c.k === 0 && c.x[2] % c.k === 0));

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const name = (c: { x: Shape4; k: number; stride: number; pad: Pad }, extra = '') => `x ${c.x.join('x')} ${c.k}x${c.k}/${c.stride} ${c.pad}${extra}`;

/**
 * Max-pool inputs shifted down by `shift` (shift 2: every window is negative). With `ties`, multiples of 1/4,
 * so that most windows hold tied maxima. The wasm kernel and webgpu's kernel for tiling windows break ties as
 * cpu and TensorFlow do (first maximum); webgpu's stock kernel, which runs the overlapping pools, takes another
 * of the tied positions, which trains the same wherever ties occur in practice (zeros after a ReLU, whose
 * gradient the ReLU drops), so those cases are checked on tie-free values there.
 */
function poolValues(n: number, seed: number, shift: number, ties: boolean): Float32Array {
  return randomValues(n, seed).map((v) => (ties ? Math.round(v * 4) / 4 : v) - shift);
}

async function convGrads(c: ConvCase, seed: number): Promise<[dx: Float32Array, dw: Float32Array]> {
  const w: Shape4 = [c.k, c.k, c.x[3], c.cout];
  const x = tf.tensor4d(randomValues(size(c.x), seed), c.x);
  const filter = tf.tensor4d(randomValues(size(w), seed + 1), w);
  const yShape = tf.tidy(() => tf.conv2d(x, filter, c.stride, c.pad).shape);
  const dy = tf.tensor(randomValues(size(yShape), seed + 2), yShape);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)))([x, filter]);
  const [dx, dw] = await Promise.all(grads.map(values));
  tf.dispose([x, filter, dy, ...grads]);
  return [dx!, dw!]; // a gradient per input
}

async function depthwiseGrads(c: DepthwiseCase, seed: number): Promise<[dx: Float32Array, dw: Float32Array]> {
  const w: Shape4 = [c.k, c.k, c.x[3], c.mult];
  const x = tf.tensor4d(randomValues(size(c.x), seed), c.x);
  const filter = tf.tensor4d(randomValues(size(w), seed + 1), w);
  const yShape = tf.tidy(() => tf.depthwiseConv2d(x, filter, c.stride, c.pad).shape);
  const dy = tf.tensor(randomValues(size(yShape), seed + 2), yShape);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)))([
    x,
    filter,
  ]);
  const [dx, dw] = await Promise.all(grads.map(values));
  tf.dispose([x, filter, dy, ...grads]);
  return [dx!, dw!]; // a gradient per input
}

async function poolGrad(c: PoolCase, seed: number, shift: number, ties: boolean): Promise<Float32Array> {
  const x = tf.tensor4d(poolValues(size(c.x), seed, shift, ties), c.x);
  const yShape = tf.tidy(() => tf.maxPool(x, c.k, c.stride, c.pad).shape);
  const dy = tf.tensor(randomValues(size(yShape), seed + 2), yShape);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.k, c.stride, c.pad), dy)))(x);
  const out = await values(g);
  tf.dispose([x, dy, g]);
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  const { ok, worst } = compare(actual, expected);
  assert.ok(ok, `${what}: differs from the cpu backend (worst ${worst})`);
}

test('the grid has filter gradients that webgpu sums in groups of pixels', () => {
  const groups = (c: ConvCase) => {
    const info = tf.backend_util.computeConv2DInfo(c.x, [c.k, c.k, c.x[3], c.cout], c.stride, 1, c.pad);
    const cols = c.k === 1 || c.x[3] <= 16 ? c.k * c.k * c.x[3] : c.x[3]; // im2col, else per tap
    return innerGroups(info.batchSize * info.outHeight * info.outWidth, cols, c.cout);
  };
  assert.deepEqual(
    CONV.map(groups).filter((g) => g > 1),
    [3, 4, 5],
  );
});

for (const backend of BACKENDS) {
  test(`${backend}: conv2d gradients (Conv2DBackpropFilter, Conv2DBackpropInput) equal cpu's`, async (t) => {
    for (const [i, c] of CONV.entries()) {
      await initBackend('cpu');
      const expected = await convGrads(c, 100 + i);
      if (!(await useBackendOrSkip(t, backend))) return;
      const [dx, dw] = await convGrads(c, 100 + i);
      assertClose(dx, expected[0], `dx, ${name(c)}`);
      assertClose(dw, expected[1], `dW, ${name(c)}`);
    }
  });

  test(`${backend}: depthwise gradients equal cpu's`, async (t) => {
    for (const [i, c] of DEPTHWISE.entries()) {
      await initBackend('cpu');
      const expected = await depthwiseGrads(c, 200 + i);
      if (!(await useBackendOrSkip(t, backend))) return;
      const [dx, dw] = await depthwiseGrads(c, 200 + i);
      assertClose(dx, expected[0], `dx, ${name(c, ` x${c.mult}`)}`);
      assertClose(dw, expected[1], `dW, ${name(c, ` x${c.mult}`)}`);
    }
  });

  test(`${backend}: max-pool gradient equals cpu's, with all-negative windows and ties`, async (t) => {
    for (const [i, c] of POOL.entries()) {
      const ties = backend === 'wasm' || tilesInput(c);
      for (const shift of [0, 2]) {
        await initBackend('cpu');
        const expected = await poolGrad(c, 300 + i, shift, ties);
        if (!(await useBackendOrSkip(t, backend))) return;
        assertClose(await poolGrad(c, 300 + i, shift, ties), expected, `dx, ${name(c)}, values shifted by -${shift}`);
      }
    }
  });
}

test('the tf-ops formulations (run by webgpu) equal the stock kernels on cpu', async () => {
  await initBackend('cpu');
  const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: object) => tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor4D;
  for (const [i, c] of CONV.entries()) {
    const w: Shape4 = [c.k, c.k, c.x[3], c.cout];
    const x = tf.tensor4d(randomValues(size(c.x), 400 + i), c.x);
    const filter = tf.tensor4d(randomValues(size(w), 500 + i), w);
    const yShape = tf.tidy(() => tf.conv2d(x, filter, c.stride, c.pad).shape);
    const dy = tf.tensor4d(randomValues(size(yShape), 600 + i), yShape);
    const common = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' as const };
    const dwRef = run(tf.Conv2DBackpropFilter, { x, dy }, { ...common, filterShape: w });
    // 'webgpu' is the formulation that sums a product's pixels in groups (matMulTN), here in tf ops on cpu.
    for (const formulation of ['cpu', 'webgpu'] as const) {
      const dw = conv2DBackpropFilterImpl(x, dy, { ...common, filterShape: w }, formulation);
      assertClose(await values(dw), await values(dwRef), `ops Conv2DBackpropFilter (${formulation}), ${name(c)}`);
      dw.dispose();
    }
    const dx = conv2DBackpropInputImpl(dy, filter, { ...common, inputShape: c.x }, 'cpu');
    const dxRef = run(tf.Conv2DBackpropInput, { dy, filter }, { ...common, inputShape: c.x });
    assertClose(await values(dx), await values(dxRef), `ops Conv2DBackpropInput, ${name(c)}`);
    tf.dispose([x, filter, dy, dwRef, dx, dxRef]);
  }
  for (const [i, c] of DEPTHWISE.entries()) {
    const w: Shape4 = [c.k, c.k, c.x[3], c.mult];
    const x = tf.tensor4d(randomValues(size(c.x), 700 + i), c.x);
    const filter = tf.tensor4d(randomValues(size(w), 800 + i), w);
    const yShape = tf.tidy(() => tf.depthwiseConv2d(x, filter, c.stride, c.pad).shape);
    const dy = tf.tensor4d(randomValues(size(yShape), 900 + i), yShape);
    const common = { strides: c.stride, pad: c.pad, dilations: 1 };
    const dw = depthwiseBackpropFilterImpl(x, dy, { ...common, filterShape: w });
    const dwRef = run(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy }, { ...common, filterShape: w });
    assertClose(await values(dw), await values(dwRef), `ops DepthwiseConv2dNativeBackpropFilter, ${name(c)}`);
    const dx = depthwiseBackpropInputImpl(dy, filter, { ...common, inputShape: c.x });
    const dxRef = run(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter }, { ...common, inputShape: c.x });
    assertClose(await values(dx), await values(dxRef), `ops DepthwiseConv2dNativeBackpropInput, ${name(c)}`);
    tf.dispose([x, filter, dy, dwRef, dx, dxRef]);
  }
});

for (const backend of BACKENDS) {
  test(`${backend}: the training kernels free their temporary tensors and buffers`, async (t) => {
    if (!(await useBackendOrSkip(t, backend))) return;
    const c = CONV[2]!;
    const all = async () => {
      await convGrads(c, 1);
      await depthwiseGrads(DEPTHWISE[1]!, 1);
      await poolGrad(POOL[2]!, 1, 2, true); // overlapping windows: the stock kernel on webgpu
      await poolGrad(POOL[0]!, 1, 2, true);
      const x = tf.tensor4d(randomValues(2 * 40 * 40 * 3, 5), [2, 40, 40, 3]);
      const bias = tf.sum(x, [0, 1, 2]); // several column-sum passes on webgpu
      await bias.data();
      tf.dispose([x, bias]);
    };
    await all(); // first run: lazy allocations
    const before = { tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() };
    await all();
    assert.deepEqual({ tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() }, before);
  });
}
