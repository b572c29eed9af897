/**
 * What the kernel tests run on: the cpu backend's stock kernels as the reference, and the backends the
 * training kernels are registered for. webgpu runs wherever a Vulkan adapter exists (Mesa's lavapipe on CPU-only
 * machines); without one its tests skip with a loud message.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../workers/backend/index.ts';
import { listAdapters } from '../../../workers/backend/webgpu.ts';

export type Backend = 'wasm' | 'webgpu';
export const BACKENDS: Backend[] = ['wasm', 'webgpu'];

let adapters: Promise<number> | null = null;

/** Switches tfjs to `backend`; returns false (after skipping the test loudly) when it cannot run here. */
export async function useBackendOrSkip(t: TestContext, backend: Backend | 'cpu'): Promise<boolean> {
  if (backend === 'webgpu') {
    adapters ??= listAdapters().then(
      (list) => list.length,
      () => 0,
    );
    if ((await adapters) === 0) {
      const why = `SKIPPED: ${t.name} needs a WebGPU (Vulkan) adapter; install mesa-vulkan-drivers (lavapipe)`;
      process.stderr.write(`\n*** ${why} ***\n`);
      t.skip(why);
      return false;
    }
  }
  await initBackend(backend);
  return true;
}

/** A reproducible pseudo-random float32 buffer (values in [-1, 1)). */
export function randomValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * Float32 tolerance: the backends sum the same products in different orders (matMul blocking, per-tap
 * partial sums, float64 accumulators in the wasm loops), and a sum of K float32 terms carries a rounding error of
 * up to about K * 2^-24 times the sum of the absolute terms. The sums here have at most a few thousand terms of
 * magnitude <= ~10, so an absolute 1e-4 plus a relative 1e-4 is above any rounding difference and far below any
 * formula error (a wrong tap, offset or padding changes results by O(1)).
 */
export const ATOL = 1e-4;
export const RTOL = 1e-4;

/** Largest |a - b| - RTOL*|b| over the arrays, with where it occurs; ok when below ATOL. */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): { ok: boolean; worst: string } {
  if (actual.length !== expected.length) return { ok: false, worst: `length ${actual.length} != ${expected.length}` };
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i]! - expected[i]!) - RTOL * Math.abs(expected[i]!);
    if (Number.isNaN(excess)) return { ok: false, worst: `index ${i}: ${actual[i]} vs ${expected[i]}` };
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  const ok = worst <= ATOL;
  return { ok, worst: at < 0 ? 'empty' : `index ${at}: ${actual[at]} vs ${expected[at]}` };
}

export async function values(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

/**
 * Runs `f` on cpu and on `backend` over tensors of the given shapes (values pseudo-random unless given); asserts
 * that the results agree. Returns false, having skipped the test, where `backend` cannot run here.
 */
export async function assertSameAsCpu(
  t: TestContext,
  backend: Backend,
  what: string,
  inputs: { shape: number[]; values?: Float32Array }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<boolean> {
  const results: { values: Float32Array; shape: number[] }[] = [];
  for (const b of ['cpu', backend] as const) {
    if (!(await useBackendOrSkip(t, b))) return false;
    const xs = inputs.map((x, i) =>
      tf.tensor(
        x.values ??
          randomValues(
            x.shape.reduce((a, c) => a * c, 1),
            11 + i,
          ),
        x.shape,
      ),
    );
    const y = f(...xs);
    results.push({ values: (await y.data()) as Float32Array, shape: y.shape });
    tf.dispose([...xs, y]);
  }
  const [expected, actual] = results;
  assert.ok(expected && actual, `${what}: a result per backend`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const { ok, worst } = compare(actual.values, expected.values);
  assert.ok(ok, `${what}: differs from the cpu backend (worst ${worst})`);
  return true;
}
