import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../../common/errors.ts';
import { initBackend } from '../../../workers/backend/index.ts';
import { isSoftwareAdapter, listAdapters } from '../../../workers/backend/webgpu.ts';

const require = createRequire(import.meta.url);

function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

async function adaptersOrSkip(t: { name: string; skip(why: string): void }): Promise<boolean> {
  if ((await listAdapters().catch(() => [])).length > 0) return true;
  const why = `SKIPPED: ${t.name} needs a WebGPU (Vulkan) adapter; install mesa-vulkan-drivers (lavapipe)`;
  process.stderr.write(`\n*** ${why} ***\n`);
  t.skip(why);
  return false;
}

test('cpu and wasm initialise and become the active backend', async () => {
  const cpu = await initBackend('cpu');
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const wasm = await initBackend('wasm');
  assert.equal(wasm.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(wasm.detail, /tfjs-backend-wasm 4\.\d+\.\d+ \(SIMD/);
  for (const kernel of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
    assert.ok(tf.getKernel(kernel, 'wasm'), `${kernel} is registered for wasm`);
  }
  assert.deepEqual(await initBackend('wasm'), wasm, 'a second call reuses the first');
});

test('all backends share the one @tensorflow/tfjs-core the project imports', async () => {
  await initBackend('wasm');
  const cjs = require('@tensorflow/tfjs-core') as typeof tf;
  assert.equal(cjs.engine(), tf.engine());
  const layers = require('@tensorflow/tfjs-layers') as { sequential: unknown };
  assert.ok(layers.sequential);
  assert.equal(cjs.getBackend(), 'wasm');
});

test('tensorflow without tfjs-node fails with one clear UserError', async (t) => {
  if (installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node')) {
    t.skip('tfjs-node is installed here');
    return;
  }
  await assert.rejects(initBackend('tensorflow'), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /^the tensorflow backend needs @tensorflow\/tfjs-node-gpu.*npm install/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
});

test('software adapters are recognised from their adapter info', () => {
  const info = (vendor: string, architecture: string, device: string, description: string) => ({ vendor, architecture, device, description }) as GPUAdapterInfo;
  assert.ok(isSoftwareAdapter(info('mesa', 'software', 'llvmpipe-llvm-15', 'llvmpipe: Mesa 25.0.7')));
  assert.ok(isSoftwareAdapter(info('google', '', 'swiftshader device', 'SwiftShader')));
  assert.ok(!isSoftwareAdapter(info('nvidia', 'hopper', 'NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3')));
});

test('webgpu opens the numbered adapter; a missing number is a UserError', async (t) => {
  if (!(await adaptersOrSkip(t))) return;
  const adapters = await listAdapters();
  const webgpu = await initBackend('webgpu', { gpu: 0 });
  assert.equal(webgpu.name, 'webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.ok(webgpu.detail.length > 0);
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'webgpu'));
  await assert.rejects(initBackend('webgpu', { gpu: adapters.length }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, new RegExp(`GPU ${adapters.length} does not exist: WebGPU sees ${adapters.length} adapter`));
    return true;
  });
});

test('auto prefers a hardware GPU and does not take a software adapter over wasm', async (t) => {
  if (installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node')) {
    t.skip('tfjs-node is installed here: auto takes it');
    return;
  }
  const auto = await initBackend('auto');
  const adapters = await listAdapters().catch(() => []);
  if (adapters.length > 0 && adapters.every((a) => /llvmpipe|lavapipe|swiftshader/i.test(a.name))) {
    assert.equal(auto.name, 'wasm');
    assert.match(auto.detail, /skipped the software adapter/);
  } else if (adapters.length === 0) {
    assert.equal(auto.name, 'wasm');
  } else {
    assert.equal(auto.name, 'webgpu');
  }
});

function inWorker(backend: string): Promise<{ info: { name: string }; active: string; loss: number }> {
  return new Promise((resolve, reject) => {
    // A worker thread does not inherit tsx's loader hooks; a small ES module bootstrap imports the TypeScript
    // entry through tsx's API.
    const entry = new URL('./init-worker.ts', import.meta.url).href;
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import { tsImport } from ${JSON.stringify(tsxApi)}; await tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)});`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData: { backend } });
    worker.once('message', (message) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

test('wasm initialises and trains inside a worker thread', async () => {
  const result = await inWorker('wasm');
  assert.equal(result.info.name, 'wasm');
  assert.equal(result.active, 'wasm');
  assert.ok(Number.isFinite(result.loss));
});

test('webgpu initialises and trains inside a worker thread', async (t) => {
  if (!(await adaptersOrSkip(t))) return;
  const result = await inWorker('webgpu');
  assert.equal(result.info.name, 'webgpu');
  assert.equal(result.active, 'webgpu');
  assert.ok(Number.isFinite(result.loss));
});
