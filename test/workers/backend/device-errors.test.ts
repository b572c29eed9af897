/**
 * A failed GPU dispatch (here an invalid shader; in practice a tensor over the adapter's buffer limit) leaves
 * its output as zeros without any exception from tfjs. The webgpu backend records the device's error, and
 * assertDeviceHealthy, which runs before any run's numbers are stored, refuses to go on. (Its own file: the
 * error is sticky for the thread's device.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { UserError } from '../../../common/errors.ts';
import { assertDeviceHealthy } from '../../../workers/backend/index.ts';
import { runWgsl } from '../../../workers/kernels/wgsl/run.ts';
import { useBackendOrSkip } from '../kernels/backends.ts';

test('webgpu: a failed dispatch makes assertDeviceHealthy throw, naming the device error', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const x = tf.ones([8]);
  await tf.mul(x, 2).data();
  assertDeviceHealthy();
  const broken = runWgsl(tf.backend() as unknown as WebGPUBackend, {
    key: 'test_broken_shader',
    inputs: { x },
    outputShape: [8],
    main: 'fn main(index : i32) { result[index] = no_such_value; }',
  });
  const y = tf.engine().makeTensorFromTensorInfo(broken);
  assert.deepEqual(Array.from(await y.data()), new Array(8).fill(0), 'the failed dispatch reads as zeros');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.throws(
    assertDeviceHealthy,
    (error: unknown) => error instanceof UserError && /WebGPU device reported an error/.test(error.message) && /no_such_value/.test(error.message),
  );
  tf.dispose([x, y]);
});
