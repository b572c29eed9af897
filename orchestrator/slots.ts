/**
 * Where runs execute. A slot runs one run at a time: with --gpus, one slot per listed GPU (times --runs-per-gpu),
 * each pinned to its GPU; otherwise --workers CPU slots.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../common/errors.ts';
import type { BackendName } from '../study/run.ts';

export interface SlotPlan {
  /** Stable name recorded with every run it executes: 'gpu0', 'gpu1.2' (second slot of GPU 1), 'cpu0'. */
  name: string;
  gpu: number | null;
}

/**
 * Cores one CPU run keeps busy: tfjs' wasm backend computes on one thread (its multi-threaded build cannot start in
 * Node), and after the first epoch images come from the in-memory cache. Measured on 2 cores (baseline, 64 px, the
 * real data): one run alone 8.4 s an epoch, two side by side 9.0-9.5 s each, so two slots do 1.8x the work of one;
 * at 224 px (bench/cpu-cores.ts) one run alone trains 53.4 images/s, two side by side 51.3 + 50.2.
 */
export const THREADS_PER_CPU_RUN = 1;

export function defaultCpuWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / THREADS_PER_CPU_RUN));
}

/**
 * Throws a UsageError unless --workers fits the cores (defaultCpuWorkers): more slots than cores share them, every
 * run slows down, and a study's runs can outlast any timeout. `oversubscribe` (--oversubscribe) allows it.
 */
export function checkWorkers(workers: number | undefined, oversubscribe: boolean, cores = availableParallelism()): void {
  const most = defaultCpuWorkers(cores);
  if (workers === undefined || workers <= most || oversubscribe) return;
  throw new UsageError(
    `--workers ${workers} is more CPU slots than this machine runs at once (${cores} core(s), ${THREADS_PER_CPU_RUN} per run: at most ${most}); ` +
      `use --workers ${most}, or add --oversubscribe to run ${workers} anyway.`,
  );
}

/** `--gpus` value: 'none', or a comma-separated list of distinct GPU indices. */
export function parseGpus(value: string): number[] {
  if (value.trim() === 'none') return [];
  const items = value.split(',').map((s) => s.trim());
  const gpus = items.map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`--gpus: '${s}' is not a GPU index (use e.g. --gpus 0,1 or --gpus none).`);
    return Number(s);
  });
  if (new Set(gpus).size !== gpus.length) throw new UsageError(`--gpus: '${value}' lists a GPU twice.`);
  return gpus;
}

/** `nvidia-smi -L` output ("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-...)"), index to name. */
export function parseGpuList(out: string): Map<number, string> {
  return new Map([...out.matchAll(/^GPU (\d+): (.*?)(?: \(UUID: [^)]*\))?\s*$/gm)].map((m) => [Number(m[1]), m[2]!]));
}

/** The NVIDIA GPUs `nvidia-smi -L` lists, index to name; none when it is absent or fails. */
export function detectGpuNames(): Map<number, string> {
  try {
    return parseGpuList(execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }));
  } catch {
    return new Map();
  }
}

/** Indices of the NVIDIA GPUs `nvidia-smi -L` lists; none when it is absent or fails. */
export function detectGpus(): number[] {
  return [...detectGpuNames().keys()];
}

const LIST_ADAPTERS = fileURLToPath(new URL('../workers/backend/list-adapters.mjs', import.meta.url));

/** The WebGPU adapters Dawn finds (workers/backend/list-adapters.mjs, run as a child: the orchestrator loads no Dawn). */
export function detectWebgpuAdapters(): { index: number; name: string }[] {
  try {
    const out = execFileSync(process.execPath, [LIST_ADAPTERS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
    return JSON.parse(out) as { index: number; name: string }[];
  } catch {
    return [];
  }
}

/** Dawn's name of a CPU implementation of Vulkan (lavapipe/llvmpipe, SwiftShader); as workers/backend/adapters.ts. */
export const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader/i;

export interface GpuFinders {
  nvidia: () => Map<number, string>;
  webgpu: () => { index: number; name: string }[];
  installed: () => boolean;
}

/**
 * Throws a UsageError unless every GPU of --gpus is one the runs of `backend` can reach: a CUDA device of
 * nvidia-smi where runs use tensorflow (process mode), else a WebGPU adapter (the g-th of Dawn's list, see
 * workers/backend/webgpu.ts); `auto` skips a software adapter for wasm, so there it must be a hardware one. The
 * message lists what exists and what to use instead.
 */
export function checkListedGpus(
  gpus: number[] | undefined,
  backend: BackendName,
  find: GpuFinders = { nvidia: detectGpuNames, webgpu: detectWebgpuAdapters, installed: tensorflowInstalled },
): void {
  if (!gpus || gpus.length === 0 || CPU_BACKENDS.includes(backend)) return; // --gpus none; cpu backends: planSlots
  const listed = gpus.join(',');
  let found: { index: number; name: string }[];
  let what: string;
  let skipped: { index: number; name: string }[] = [];
  if (runnerMode(backend, find.installed) === 'process') {
    found = [...find.nvidia()].map(([index, name]) => ({ index, name }));
    what = 'CUDA GPUs (nvidia-smi)';
  } else {
    const adapters = find.webgpu();
    found = backend === 'auto' ? adapters.filter((a) => !SOFTWARE_ADAPTER.test(a.name)) : adapters;
    skipped = adapters.filter((a) => !found.includes(a));
    what = backend === 'auto' ? 'hardware WebGPU adapters' : 'WebGPU adapters';
  }
  const missing = gpus.filter((g) => !found.some((f) => f.index === g));
  if (missing.length === 0) return;
  const exist = found.length ? found.map((f) => `${f.index}: ${f.name}`).join('; ') : 'none';
  const software = skipped.length ? ` (the software adapter ${skipped.map((a) => `${a.index}: ${a.name}`).join('; ')} is left for wasm)` : '';
  const instead = found.length
    ? `use --gpus ${found.map((f) => f.index).join(',')}, or --gpus none --workers N for CPU slots`
    : `use --gpus none --workers N (or leave --gpus out) for CPU slots${skipped.length ? ', or --backend webgpu to run on the software adapter' : ''}`;
  throw new UsageError(
    `--gpus ${listed}: ${missing.length > 1 ? 'GPUs' : 'GPU'} ${missing.join(', ')} not found; --backend ${backend} sees ${what}: ${exist}${software}; ${instead}.`,
  );
}

/** Whether runs of `backend` may use webgpu in this process's threads (not in processes of their own). */
function webgpuInThreads(backend: BackendName, installed: () => boolean): boolean {
  return backend === 'webgpu' || (backend === 'auto' && runnerMode(backend, installed) === 'thread');
}

/** GPUs after the first of their name: dawn.node opens an adapter by name, the first that has it (webgpu.ts). */
function shadowedGpus(gpus: number[], names: Map<number, string>): { gpu: number; first: number; name: string }[] {
  const firstOfName = new Map<string, number>();
  const shadowed: { gpu: number; first: number; name: string }[] = [];
  for (const gpu of gpus) {
    const name = names.get(gpu);
    if (name === undefined) continue;
    const first = firstOfName.get(name);
    if (first === undefined) firstOfName.set(name, gpu);
    else shadowed.push({ gpu, first, name });
  }
  return shadowed;
}

/**
 * The detected GPUs that runs of `backend` can use, and a note on those they cannot: webgpu reaches only the first
 * of GPUs that share a name, so the others get no slot (rather than slots that would run on the first).
 */
export function usableGpus(backend: BackendName, names = detectGpuNames, installed = tensorflowInstalled): { gpus: number[]; note: string | null } {
  const known = names();
  const gpus = [...known.keys()];
  if (!webgpuInThreads(backend, installed)) return { gpus, note: null };
  const shadowed = shadowedGpus(gpus, known);
  if (shadowed.length === 0) return { gpus, note: null };
  return {
    gpus: gpus.filter((g) => !shadowed.some((s) => s.gpu === g)),
    note:
      `GPU ${shadowed.map((s) => s.gpu).join(', ')} left out: the webgpu backend opens a GPU by its name (dawn.node takes the ` +
      `first that has it), and ${shadowed.map((s) => `GPU ${s.gpu} has GPU ${s.first}'s ('${s.name}')`).join('; ')}. ` +
      `--backend tensorflow (npm install @tensorflow/tfjs-node-gpu) pins each run to its GPU with CUDA_VISIBLE_DEVICES.`,
  };
}

/**
 * Throws a UsageError when two slots' GPUs have the same name and their runs would use webgpu in threads: both
 * would run on the first (see usableGpus).
 */
export function checkGpusDistinguishable(slots: SlotPlan[], backend: BackendName, names = detectGpuNames, installed = tensorflowInstalled): void {
  if (!webgpuInThreads(backend, installed)) return;
  const gpus = [...new Set(slots.map((s) => s.gpu).filter((g) => g !== null))];
  if (gpus.length < 2) return;
  const [shadowed] = shadowedGpus(gpus, names());
  if (shadowed === undefined) return;
  const { gpu, first, name } = shadowed;
  throw new UsageError(
    `GPUs ${first} and ${gpu} are both '${name}'. The webgpu backend opens a GPU by its name (dawn.node takes the first ` +
      `that has it), so the runs of GPU ${gpu} would run on GPU ${first}. Use --gpus ${first} --runs-per-gpu 2 for two ` +
      `runs at a time on GPU ${first}, or --backend tensorflow (npm install @tensorflow/tfjs-node-gpu), whose runs are ` +
      `pinned to their GPU with CUDA_VISIBLE_DEVICES.`,
  );
}

export interface SlotOptions {
  /** Listed GPUs ([] = none); undefined = detect them (for backends that can use a GPU, when --workers is absent). */
  gpus?: number[];
  runsPerGpu: number;
  /** CPU slots when no GPU is used; undefined = defaultCpuWorkers(). */
  workers?: number;
  backend: BackendName;
}

/** Backends that compute on the CPU only. */
export const CPU_BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

export function planSlots(opts: SlotOptions, detect = detectGpus): SlotPlan[] {
  const cpuOnly = CPU_BACKENDS.includes(opts.backend);
  if (cpuOnly && opts.gpus && opts.gpus.length > 0) {
    throw new UsageError(`--backend ${opts.backend} computes on the CPU: use --gpus none (or leave --gpus out) with --workers N.`);
  }
  if (opts.gpus && opts.gpus.length > 0 && opts.workers !== undefined) {
    throw new UsageError('--workers sets CPU slots; with --gpus use --runs-per-gpu (or --gpus none --workers N).');
  }
  // Without --gpus: --workers asks for CPU slots; otherwise every detected GPU gets its slots.
  const gpus = opts.gpus ?? (cpuOnly || opts.workers !== undefined ? [] : detect());
  if (gpus.length > 0) {
    return gpus.flatMap((gpu) => Array.from({ length: opts.runsPerGpu }, (_, k) => ({ name: opts.runsPerGpu === 1 ? `gpu${gpu}` : `gpu${gpu}.${k}`, gpu })));
  }
  const workers = opts.workers ?? defaultCpuWorkers();
  return Array.from({ length: workers }, (_, k) => ({ name: `cpu${k}`, gpu: null }));
}

/** Whether the native TensorFlow binding is installed (resolved, not loaded: the main thread stays free of tfjs). */
export function tensorflowInstalled(): boolean {
  const require = createRequire(import.meta.url);
  return ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((name) => {
    try {
      require.resolve(name);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Whether a run of `backend` may open a WebGPU adapter in its thread: `webgpu`, and `auto`, which takes a hardware
 * GPU where Dawn finds one. Dawn then writes its adapter warnings to that process's native stderr, so the slot's
 * thread gets a process of its own whose stderr the orchestrator filters (slot-runner.ts).
 */
export function opensWebgpu(backend: BackendName): boolean {
  return backend === 'webgpu' || backend === 'auto';
}

/**
 * Threads, or a process per run where the run may use the tensorflow backend (named, or taken by `auto` when
 * installed): tfjs-node binds every GPU its process can see, so only a process pinned with CUDA_VISIBLE_DEVICES
 * keeps a slot on its GPU, and its native addon is not meant to be loaded by several threads of one process.
 */
export function runnerMode(backend: BackendName, installed = tensorflowInstalled): 'thread' | 'process' {
  return backend === 'tensorflow' || (backend === 'auto' && installed()) ? 'process' : 'thread';
}
