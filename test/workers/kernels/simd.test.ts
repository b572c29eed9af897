/**
 * The wasm kernels in WebAssembly SIMD (workers/kernels/simd) that replace forward kernels, against the cpu
 * backend: the pointwise Conv2D, the depthwise convolution and the bias Add, over the shapes they take and the
 * ones they hand to the stock kernel. (The gradient kernels built on the same module are in parity.test.ts,
 * the fused ReLU gradient in relu-grad.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { sectionIds } from '../../../workers/kernels/simd/index.ts';
import { assertSameAsCpu } from './backends.ts';

const _size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
type Shape4 = [number, number, number, number];

test('kernels.wasm has no data section, so instantiating it writes nothing into the tfjs heap it imports', () => {
  const bytes = readFileSync(resolve(import.meta.dirname, '../../../workers/kernels/simd/kernels.wasm'));
  const ids = sectionIds(bytes);
  assert.ok(ids.includes(10), 'a code section');
  assert.ok(!ids.includes(11), `sections ${ids.join(',')}`);
  assert.deepEqual(sectionIds(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 1, 0])), [11]);
});

test('wasm Conv2D equals cpu for 1x1 stride-1 convolutions (SIMD) and the ones it leaves to the stock kernel', async (t) => {
  const cases: [Shape4, number, number, 'same' | 'valid'][] = [
    [[2, 5, 7, 3], 32, 1, 'valid'], // 3 input channels, as the baseline's first pointwise convolution
    [[1, 3, 5, 8], 5, 1, 'same'], // partial last column tile; 15 pixels (a partial row tile)
    [[2, 4, 4, 16], 12, 1, 'valid'],
    [[1, 2, 3, 7], 1, 1, 'valid'],
    [[1, 7, 7, 4], 8, 2, 'same'], // strided: stock
  ];
  for (const [x, cout, stride, pad] of cases) {
    await assertSameAsCpu(t, 'wasm', `conv2d ${x.join('x')} -> ${cout}, 1x1/${stride} ${pad}`, [{ shape: x }, { shape: [1, 1, x[3], cout] }], (a, w) =>
      tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
    );
  }
  await assertSameAsCpu(t, 'wasm', 'conv2d 3x3 (stock)', [{ shape: [1, 6, 6, 4] }, { shape: [3, 3, 4, 8] }], (a, w) =>
    tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  );
});

test('wasm depthwise convolution equals cpu with stride 1 or vertical stride 2, dilation, any channel count', async (t) => {
  const cases: [Shape4, number, [number, number], 'same' | 'valid', number][] = [
    [[2, 12, 13, 3], 3, [1, 1], 'valid', 1], // RGB, as the baseline's first layer
    [[1, 9, 10, 8], 3, [1, 1], 'same', 1],
    [[1, 11, 9, 5], 3, [2, 1], 'same', 1],
    [[1, 12, 12, 4], 3, [1, 1], 'same', 2],
    [[1, 8, 9, 6], 5, [1, 1], 'same', 1], // 5 taps a row: no three-tap pass
    [[1, 7, 7, 4], 2, [1, 1], 'same', 1],
    [[1, 9, 9, 4], 3, [2, 2], 'same', 1], // horizontal stride 2: stock
  ];
  for (const [x, k, strides, pad, dilation] of cases) {
    await assertSameAsCpu(
      t,
      'wasm',
      `depthwise ${x.join('x')} ${k}x${k}/${strides.join(',')} ${pad} dilation ${dilation}`,
      [{ shape: x }, { shape: [k, k, x[3], 1] }],
      (a, w) => tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, strides, pad, 'NHWC', dilation),
    );
  }
  await assertSameAsCpu(t, 'wasm', 'depthwise with channel multiplier 2 (stock)', [{ shape: [1, 6, 6, 4] }, { shape: [3, 3, 4, 2] }], (a, w) =>
    tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  );
});

test('wasm MaxPool equals cpu for 2x2/2 valid windows over a multiple of 4 channels and hands other pools to the stock kernel', async (t) => {
  const cases: [Shape4, number, number, 'same' | 'valid'][] = [
    [[2, 8, 6, 8], 2, 2, 'valid'],
    [[1, 7, 9, 4], 2, 2, 'valid'], // odd sizes: the last row and column belong to no window
    [[1, 7, 9, 3], 2, 2, 'valid'], // 3 channels: stock
    [[1, 9, 9, 4], 3, 2, 'same'], // stock
  ];
  for (const [x, k, stride, pad] of cases) {
    await assertSameAsCpu(t, 'wasm', `max pool ${x.join('x')} ${k}x${k}/${stride} ${pad}`, [{ shape: x }], (a) => tf.maxPool(a as tf.Tensor4D, k, stride, pad));
  }
});

test('wasm Add equals cpu for a bias along the last axis (either operand) and for the adds it leaves to the stock kernel', async (t) => {
  const cases: [number[], number[]][] = [
    [[2, 3, 5, 8], [8]],
    [[8], [2, 3, 5, 8]],
    [
      [3, 4, 12],
      [1, 1, 12],
    ],
    [[2, 3], [3]], // 3 channels: stock
    [
      [4, 8],
      [4, 8],
    ], // same shapes: stock
    [
      [4, 1],
      [1, 8],
    ], // broadcast both ways: stock
    [[8], [8]],
  ];
  for (const [a, b] of cases) {
    await assertSameAsCpu(t, 'wasm', `add ${a.join('x')} + ${b.join('x')}`, [{ shape: a }, { shape: b }], (x, y) => tf.add(x, y));
  }
});
