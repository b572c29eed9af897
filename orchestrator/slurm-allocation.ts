/**
 * An orchestrator inside a Slurm job: which job it is (recorded with every run it claims) and the slots its
 * allocation gives (`--gpus slurm`). Slurm describes the allocation in the job's environment: SLURM_JOB_GPUS (the
 * node's indices of the allocated GPUs), CUDA_VISIBLE_DEVICES (the same GPUs as CUDA in this job numbers them) and
 * SLURM_CPUS_ON_NODE.
 */
import { UsageError } from '../common/errors.ts';
import type { BackendName } from '../study/run.ts';
import { CPU_BACKENDS, detectWebgpuAdapters, runnerMode, SOFTWARE_ADAPTER } from './slots.ts';

type Env = Record<string, string | undefined>;

/** The job as squeue and scancel name it: `<array job id>_<task id>` for a task of an array job, else the job id; null outside Slurm. */
export function slurmJob(env: Env = process.env): string | null {
  const array = env.SLURM_ARRAY_JOB_ID;
  const task = env.SLURM_ARRAY_TASK_ID;
  if (array && task) return `${array}_${task}`;
  return env.SLURM_JOB_ID || null;
}

export interface SlurmAllocation {
  job: string;
  /** The allocated GPUs by the node's numbering (SLURM_JOB_GPUS, else CUDA_VISIBLE_DEVICES); empty without GPUs. */
  nodeGpus: number[];
  /** The same GPUs as CUDA sees them in this job (CUDA_VISIBLE_DEVICES, else nodeGpus). */
  cudaGpus: number[];
  /** CPUs allocated on this node. */
  cpus: number;
}

/** The allocation of the Slurm job this process runs in; a UsageError outside Slurm or on a value it cannot read. */
export function slurmAllocation(env: Env = process.env): SlurmAllocation {
  const job = slurmJob(env);
  if (job === null) {
    throw new UsageError("--gpus slurm: this process is not in a Slurm job (no SLURM_JOB_ID): give --gpus a list, or 'none' with --workers N.");
  }
  const list = (name: string): number[] | null => {
    const value = env[name]?.trim();
    if (value === undefined || value === '' || value === 'NoDevFiles') return value === undefined ? null : [];
    const items = value.split(',').map((s) => s.trim());
    if (!items.every((s) => /^\d+$/.test(s))) throw new UsageError(`--gpus slurm: ${name}='${value}' is not a list of GPU indices.`);
    return items.map(Number);
  };
  const jobGpus = list('SLURM_JOB_GPUS');
  const cuda = list('CUDA_VISIBLE_DEVICES');
  const nodeGpus = jobGpus ?? cuda ?? [];
  const cudaGpus = cuda ?? nodeGpus;
  if (cudaGpus.length !== nodeGpus.length) {
    throw new UsageError(
      `--gpus slurm: SLURM_JOB_GPUS (${nodeGpus.join(',')}) and CUDA_VISIBLE_DEVICES (${cudaGpus.join(',')}) name a different number of GPUs.`,
    );
  }
  const cpus = Number(env.SLURM_CPUS_ON_NODE);
  if (!Number.isSafeInteger(cpus) || cpus < 1)
    throw new UsageError(`--gpus slurm: SLURM_CPUS_ON_NODE='${env.SLURM_CPUS_ON_NODE ?? ''}' is not a number of CPUs.`);
  return { job, nodeGpus, cudaGpus, cpus };
}

export interface AllocatedSlots {
  /** The GPU numbers the slots take (`--gpus`), in the runners' numbering; empty for CPU slots. */
  gpus: number[];
  /** CPU slots when there is no GPU (`--workers`): the allocation's CPUs unless --workers says otherwise. */
  workers?: number;
  /** Said on stderr: allocated GPUs the backend does not use. */
  note: string | null;
}

/**
 * The slots of `allocation`. Runs in processes of their own (tfjs-node) are pinned with CUDA_VISIBLE_DEVICES, so
 * they take CUDA's numbers. Runs in threads (webgpu) open the g-th adapter of Dawn's list, where Slurm's numbers
 * mean nothing: when Dawn sees exactly as many hardware adapters as were allocated (the node confines the job to
 * its GPUs, cgroup.conf ConstrainDevices=yes), they are the allocated GPUs; when it sees the node's every GPU, the
 * allocated ones are at the node's numbers. Dawn opens an adapter by its name, so two GPUs of one model cannot be
 * told apart: a UsageError says what to ask Slurm for instead. A backend without GPUs (wasm, cpu) gets CPU slots.
 */
export function allocatedSlots(
  allocation: SlurmAllocation,
  o: { mode: 'thread' | 'process'; cpuOnly: boolean; workers?: number },
  webgpuAdapters: () => { index: number; name: string }[],
): AllocatedSlots {
  const cpuSlots = (note: string | null): AllocatedSlots => ({ gpus: [], workers: o.workers ?? allocation.cpus, note });
  const n = allocation.nodeGpus.length;
  if (n === 0) return cpuSlots(null);
  if (o.cpuOnly) return cpuSlots(`the allocation's ${n} GPU(s) are unused: the backend computes on the CPU.`);
  if (o.workers !== undefined) throw new UsageError('--workers sets CPU slots, and this Slurm job has GPUs: leave --workers out (or ask Slurm for no GPU).');
  if (o.mode === 'process') return { gpus: allocation.cudaGpus, note: null };

  const adapters = webgpuAdapters();
  const hardware = adapters.filter((a) => !SOFTWARE_ADAPTER.test(a.name));
  const seen = hardware.length ? hardware.map((a) => `${a.index}: ${a.name}`).join('; ') : 'none';
  const atNodeNumbers = allocation.nodeGpus.flatMap((g) => hardware.filter((a) => a.index === g));
  let chosen: { index: number; name: string }[];
  if (hardware.length === n) chosen = hardware;
  else if (hardware.length > n && atNodeNumbers.length === n) chosen = atNodeNumbers;
  else {
    throw new UsageError(
      `--gpus slurm: Slurm allocated GPU(s) ${allocation.nodeGpus.join(',')} of this node, and WebGPU sees ${hardware.length} hardware adapter(s) (${seen}): ` +
        'they cannot be matched; ask Slurm to confine jobs to their GPUs (ConstrainDevices=yes in cgroup.conf), or use --backend tensorflow.',
    );
  }
  const shadowed = chosen.find((a) => adapters.find((b) => b.name === a.name) !== a);
  if (shadowed) {
    throw new UsageError(
      `--gpus slurm: this job sees several GPUs named '${shadowed.name}' (${seen}), and the webgpu backend opens a GPU by its name, so all its ` +
        'slots would run on the first: ask Slurm for one GPU per task (e.g. --gres=gpu:1) on nodes that confine jobs to their GPUs, or use --backend tensorflow.',
    );
  }
  return { gpus: chosen.map((a) => a.index), note: null };
}

/**
 * Options with `--gpus slurm` replaced by the slots of this process's Slurm allocation (`gpus`, `workers`), and a
 * note on allocated GPUs they leave unused.
 */
export function withSlurmSlots<T extends { gpus?: number[] | 'slurm'; workers?: number; backend: BackendName }>(
  o: T,
  env: Record<string, string | undefined> = process.env,
): Omit<T, 'gpus' | 'workers'> & { gpus: number[]; workers?: number; slotNote: string | null } {
  const slots = allocatedSlots(
    slurmAllocation(env),
    { mode: runnerMode(o.backend), cpuOnly: CPU_BACKENDS.includes(o.backend), workers: o.workers },
    detectWebgpuAdapters,
  );
  return { ...o, gpus: slots.gpus, workers: slots.workers, slotNote: slots.note };
}
