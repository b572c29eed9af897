/**
 * The WebGPU adapters Dawn's node binding finds, without tfjs: the workers open GPU number g as the g-th of this
 * list (webgpu.ts), and the orchestrator checks --gpus against it (through list-adapters.mjs, in a process of its
 * own, so that Dawn's console warnings stay out of the orchestrator's output).
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

export interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

export interface AdapterDescription {
  index: number;
  backend: string;
  name: string;
}

let dawn: DawnModule | null = null;

/** The `webgpu` package, or the dawn.node file named by $DAWN_NODE (machines that carry it without node_modules). */
export async function loadDawnModule(): Promise<DawnModule> {
  if (dawn) return dawn;
  const path = process.env.DAWN_NODE;
  dawn = path ? (createRequire(import.meta.url)(resolve(path)) as DawnModule) : ((await import('webgpu')) as unknown as DawnModule);
  return dawn;
}

const NO_SUCH_ADAPTER = 'adapter=\u0001no adapter has this name';

/**
 * The WebGPU adapters Dawn finds on this machine (empty when there is none, e.g. no Vulkan driver): dawn.node
 * lists their names in the error it raises for an `adapter=` name that matches nothing.
 */
export async function listAdapters(): Promise<AdapterDescription[]> {
  const { create } = await loadDawnModule();
  try {
    const adapter = await create([NO_SUCH_ADAPTER]).requestAdapter();
    if (adapter === null) return [];
    throw new Error('dawn.node opened an adapter for a name that matches none');
  } catch (error) {
    const message = String((error as Error)?.message ?? error);
    const adapters: AdapterDescription[] = [];
    for (const match of message.matchAll(/^ \* backend: '([^']*)', name: '(.*)'$/gm)) {
      adapters.push({ index: adapters.length, backend: match[1]!, name: match[2]! }); // both groups always match
    }
    if (adapters.length === 0 && !/Available adapters/.test(message)) throw error;
    return adapters;
  }
}

/** A CPU implementation of Vulkan (Mesa's lavapipe/llvmpipe, SwiftShader), by its name: correct, but slower than wasm. */
export function isSoftwareName(name: string): boolean {
  return /llvmpipe|lavapipe|swiftshader/i.test(name);
}
