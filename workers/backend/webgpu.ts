/**
 * WebGPU in Node through Dawn's node binding (the `webgpu` package, or the dawn.node file named by $DAWN_NODE
 * on machines that carry it without node_modules).
 *
 * Adapter choice: dawn.node enumerates the adapters itself and picks the first whose name contains its
 * `adapter=` flag (adapters.ts lists them). GPU number g therefore means the g-th adapter of that list, opened by
 * its name. Identical GPUs (eight of the same model) share one name, and dawn.node offers no other selector, so
 * they all open the first of them; the backend detail says so when it happens.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../common/errors.ts';
import { registerTrainingKernels } from '../kernels/index.ts';
import { isSoftwareName, listAdapters, loadDawnModule, type DawnModule } from './adapters.ts';

export { listAdapters, type AdapterDescription } from './adapters.ts';

let globalsSet = false;

async function loadDawn(): Promise<DawnModule> {
  const dawn = await loadDawnModule();
  // tfjs' webgpu backend uses the GPUBufferUsage, GPUMapMode, ... constants as globals.
  if (!globalsSet) Object.assign(globalThis, dawn.globals);
  globalsSet = true;
  return dawn;
}

function describe(info: GPUAdapterInfo): string {
  const parts = [info.vendor, info.architecture].filter((s) => s);
  return `${info.description || info.device || 'unnamed adapter'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** A CPU implementation of Vulkan (Mesa's lavapipe/llvmpipe, SwiftShader): correct, but slower than wasm. */
export function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return info.architecture === 'software' || isSoftwareName(text);
}

export interface OpenedAdapter {
  adapter: GPUAdapter;
  info: GPUAdapterInfo;
  note: string;
}

/** Opens adapter number `gpu` (null: Dawn's default choice), or returns null when there is no adapter. */
export async function openAdapter(gpu: number | null): Promise<OpenedAdapter | null> {
  const { create } = await loadDawn();
  const adapters = await listAdapters();
  if (adapters.length === 0) return null;
  let flags: string[] = [];
  let note = '';
  if (gpu !== null) {
    const chosen = adapters[gpu];
    if (!chosen) {
      throw new UserError(`GPU ${gpu} does not exist: WebGPU sees ${adapters.length} adapter(s): ` + adapters.map((a) => `${a.index}: ${a.name}`).join('; '));
    }
    flags = [`adapter=${chosen.name}`];
    const first = adapters.find((a) => a.name === chosen.name)!;
    if (first.index !== gpu) note = `; GPU ${gpu} has the same name as GPU ${first.index}, which dawn.node opens instead`;
  }
  const gpuApi = create(flags);
  const adapter = await gpuApi.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) return null;
  // tfjs' webgpu backend requests its adapter from navigator.gpu when it initialises: this instance, whose
  // `adapter=` flag makes it return the chosen one.
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpuApi, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuApi }, configurable: true, writable: true });
  return { adapter, info: adapter.info, note };
}

let initialisedOn: string | null = null;
let firstDeviceError: string | null = null;

/**
 * The first error the device reported since this thread opened it, or null. WebGPU reports a failed dispatch
 * (a buffer over the adapter's binding limit, an invalid shader) asynchronously and tfjs does not listen, so
 * without this the op's result silently reads as zeros.
 */
export function deviceError(): string | null {
  return firstDeviceError;
}

/** Initialises tfjs' webgpu backend on an adapter opened by openAdapter; returns the backend detail. */
export async function initWebgpu(opened: OpenedAdapter): Promise<string> {
  const detail = `${describe(opened.info)}${opened.note}`;
  if (initialisedOn !== null && initialisedOn !== detail) {
    throw new Error(`this thread already runs webgpu on ${initialisedOn}; one thread drives one GPU`);
  }
  // Imported only now: the package registers its backend at load time, and only if navigator.gpu exists.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu') === null) {
    throw new Error('@tensorflow/tfjs-backend-webgpu was loaded before navigator.gpu existed; it did not register');
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error(`the webgpu backend failed to initialise on ${describe(opened.info)}`);
  registerTrainingKernels('webgpu');
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  device.addEventListener('uncapturederror', (event) => {
    firstDeviceError ??= (event as GPUUncapturedErrorEvent).error.message;
  });
  initialisedOn = detail;
  return detail;
}

// One upload buffer per device and byte size (a run has a few batch shapes: the full batch and each split's last).
const uploadBuffers = new WeakMap<GPUDevice, Map<number, GPUBuffer>>();

/**
 * A tensor of `values` on the webgpu backend, uploaded with queue.writeBuffer. tfjs' own upload (a tensor made
 * from a typed array) creates a new mapped staging buffer for every tensor: 15.9 ms for one 224 px batch's 4.8
 * MB of image bytes on lavapipe, against 0.74 ms through this (bench/input-pipeline.ts). tfjs copies that buffer
 * into a tensor of its own and submits the copy at once, so the next write to it cannot overtake the copy.
 */
export function uploadToDevice(values: Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>, shape: number[]): tf.Tensor {
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  let buffers = uploadBuffers.get(device);
  if (buffers === undefined) {
    buffers = new Map();
    uploadBuffers.set(device, buffers);
  }
  let buffer = buffers.get(values.byteLength);
  if (buffer === undefined) {
    buffer = device.createBuffer({ size: values.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    buffers.set(values.byteLength, buffer);
  }
  device.queue.writeBuffer(buffer, 0, values);
  return tf.tensor({ buffer }, shape, values instanceof Int32Array ? 'int32' : 'float32');
}

export { describe as describeAdapter };
