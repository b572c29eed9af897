/**
 * Chooses and initialises the tfjs backend of this thread (the tfjs engine and its kernel registry are per
 * thread: every worker thread calls initBackend once). All backends plug into the one @tensorflow/tfjs-core the
 * project imports.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { isSoftwareName, type AdapterDescription } from './adapters.ts';
import { UserError } from '../../common/errors.ts';
import type { BackendName } from '../../study/run.ts';
import { initWasm } from './wasm.ts';
import { describeAdapter, deviceError, initWebgpu, isSoftwareAdapter, openAdapter, uploadToDevice } from './webgpu.ts';

export type ActiveBackend = 'webgpu' | 'wasm' | 'tensorflow' | 'cpu';

export interface BackendInfo {
  name: ActiveBackend;
  /** Framework and hardware details, e.g. the GPU adapter's name. */
  detail: string;
}

const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** One initialisation per requested backend and GPU in this thread; later calls reuse it. */
const started = new Map<string, Promise<BackendInfo>>();

/**
 * Initialises `requested` in this thread and makes it tfjs' active backend. `gpu` pins webgpu to one adapter
 * (see webgpu.ts for how adapters are numbered). `auto` takes tensorflow if it loads, else a hardware WebGPU
 * adapter, else wasm; a software Vulkan adapter (lavapipe) is slower than wasm, so auto does not take it.
 */
export async function initBackend(requested: BackendName, opts: { gpu?: number | null } = {}): Promise<BackendInfo> {
  const gpu = opts.gpu ?? null;
  const key = `${requested}:${gpu}`;
  let info = started.get(key);
  if (!info) {
    info = start(requested, gpu);
    started.set(key, info);
    info.catch(() => started.delete(key));
  }
  const ready = await info;
  if (tf.getBackend() !== ready.name) await tf.setBackend(ready.name);
  return ready;
}

/**
 * Throws if the GPU device reported an error: every result computed since may be wrong (a failed dispatch
 * leaves zeros), so nothing computed after it may be stored. Called before a run's numbers are kept.
 */
export function assertDeviceHealthy(): void {
  const error = deviceError();
  if (error === null) return;
  throw new UserError(
    `the WebGPU device reported an error, so the results computed since are not valid: ${error.split('\n')[0]}` +
      (/binding size/i.test(error) ? " (a tensor exceeds the adapter's buffer limit: lower --batch-size or --image-size)" : ''),
  );
}

/**
 * A tensor of `values` (a batch of input) on the active backend. On webgpu it bypasses tfjs' upload, which costs
 * a new staging buffer per tensor (see webgpu.ts uploadToDevice).
 */
export function inputTensor(values: Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>, shape: number[]): tf.Tensor {
  if (tf.getBackend() === 'webgpu') return uploadToDevice(values, shape);
  return tf.tensor(values, shape, values instanceof Int32Array ? 'int32' : 'float32');
}

async function start(requested: BackendName, gpu: number | null): Promise<BackendInfo> {
  // tfjs-core's Node build registers no gradient functions; tfjs-layers' build carries and registers them all.
  await import('@tensorflow/tfjs-layers');
  switch (requested) {
    case 'cpu':
      return initCpu();
    case 'wasm':
      return { name: 'wasm', detail: await initWasm() };
    case 'tensorflow': {
      const loaded = await loadTensorflow();
      if (typeof loaded !== 'string') return loaded;
      throw new UserError(
        `the tensorflow backend needs @tensorflow/tfjs-node-gpu (or @tensorflow/tfjs-node for CPUs): ` + `npm install @tensorflow/tfjs-node-gpu (${loaded})`,
      );
    }
    case 'webgpu': {
      const opened = await openAdapter(gpu);
      if (opened === null) {
        throw new UserError('the webgpu backend found no WebGPU adapter (no Vulkan driver on this machine?)');
      }
      return { name: 'webgpu', detail: await initWebgpu(opened) };
    }
    case 'auto': {
      const tensorflow = await loadTensorflow();
      if (typeof tensorflow !== 'string') return tensorflow;
      const listed = await adaptersInChild();
      if (!listed.some((a) => !isSoftwareName(a.name))) {
        const software = listed.length ? `; skipped the software adapter ${listed.map((a) => a.name).join(', ')}` : '';
        return { name: 'wasm', detail: (await initWasm()) + software };
      }
      const opened = await openAdapter(gpu).catch((error: unknown) => {
        if (error instanceof UserError) throw error;
        return null; // no usable Dawn/Vulkan: fall through to wasm
      });
      if (opened !== null && !isSoftwareAdapter(opened.info)) {
        return { name: 'webgpu', detail: await initWebgpu(opened) };
      }
      const skipped = opened ? `; skipped the software adapter ${describeAdapter(opened.info)}` : '';
      return { name: 'wasm', detail: (await initWasm()) + skipped };
    }
    default:
      throw new UserError(`unknown backend '${String(requested)}'`);
  }
}

const LIST_ADAPTERS = fileURLToPath(new URL('./list-adapters.mjs', import.meta.url));

/**
 * The adapters Dawn finds, listed by a child process: Dawn prints warnings to the process's native stderr when it
 * opens adapters (e.g. "maxDynamicUniformBuffersPerPipelineLayout artificially reduced"), which no JavaScript can
 * silence in-process. `auto` asks here first, so that a machine without a hardware GPU never loads Dawn in the
 * run's thread; the child's stderr shows only with MELANOMA_VERBOSE=1 (`orchestrate --verbose`).
 */
async function adaptersInChild(): Promise<AdapterDescription[]> {
  const verbose = process.env.MELANOMA_VERBOSE === '1';
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [LIST_ADAPTERS], { encoding: 'utf8', timeout: 60_000 });
    if (verbose && stderr) process.stderr.write(stderr);
    return JSON.parse(stdout) as AdapterDescription[];
  } catch {
    return [];
  }
}

async function initCpu(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
  // Its first write prints a banner recommending tfjs-node; the choice of backend is deliberate here.
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return { name: 'cpu', detail: `tfjs-backend-cpu ${tf.version_core} (pure JavaScript)` };
}

/** Loads the native TensorFlow binding; returns why it could not when neither package is installed. */
async function loadTensorflow(): Promise<BackendInfo | string> {
  const failures: string[] = [];
  for (const name of TENSORFLOW_PACKAGES) {
    try {
      const module = (await import(name)) as { version?: Record<string, string> };
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the backend failed to initialise');
      const version = module.version?.['tfjs-node'] ?? module.version?.['tfjs-node-gpu'] ?? '';
      return { name: 'tensorflow', detail: `${name} ${version}`.trim() };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      failures.push(code === 'ERR_MODULE_NOT_FOUND' ? `${name} is not installed` : `${name}: ${(error as Error).message}`);
    }
  }
  return failures.join('; ');
}
