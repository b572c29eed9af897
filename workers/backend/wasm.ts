/**
 * The wasm backend in Node: tfjs' WebAssembly build (XNNPACK, SIMD) loaded from the package's dist folder.
 * Node gets the single-threaded build: tfjs disables its threaded build under Node (tfjs issue #3830), so
 * XNNPACK runs on one core per worker thread and parallelism comes from running several workers.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingKernels } from '../kernels/index.ts';

const require = createRequire(import.meta.url);

let detail: string | null = null;

export async function initWasm(): Promise<string> {
  if (detail !== null) {
    await tf.setBackend('wasm');
    return detail;
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  wasm.setWasmPaths(dist);
  // The Emscripten module installs process-wide handlers that rethrow every uncaught error and rejection,
  // printing its whole minified source with them; Node's defaults do the same job legibly.
  const before = {
    uncaughtException: new Set<unknown>(process.listeners('uncaughtException')),
    unhandledRejection: new Set<unknown>(process.listeners('unhandledRejection')),
  };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  } finally {
    const emitter: NodeJS.EventEmitter = process;
    for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
      for (const listener of emitter.listeners(event)) {
        if (!before[event].has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
  const kernels = registerTrainingKernels('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  detail = `tfjs-backend-wasm ${wasm.version_wasm} (${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread; training kernels: ${kernels.join(', ')})`;
  return detail;
}
