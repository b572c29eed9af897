/**
 * Executes runs on one slot, one at a time. A slot's runs execute in a piscina pool with exactly one worker thread (a
 * dead thread is replaced by piscina), in the orchestrator's process, or, where a run may open a WebGPU adapter, in a
 * process of its own (slot-host.mjs) whose native stderr the orchestrator filters (common/native-stderr.mjs: Dawn's
 * adapter warnings). With `--backend tensorflow` a slot forks a runner process per run instead, pinned to its GPU
 * with CUDA_VISIBLE_DEVICES (tfjs-node-gpu binds every visible GPU in a process, so threads cannot be pinned).
 * All load the same task file: default export `({ spec, port }) => Promise<RunResult>` posting RunEvents on `port`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { RunEvent, RunResult, RunSpec } from '../study/run.ts';
import { forwardStderr } from '../common/native-stderr.mjs';
import type { SlotPlan } from './slots.ts';

export const DEFAULT_THREAD_FILE = fileURLToPath(new URL('../workers/thread-entry.mjs', import.meta.url));
const CHILD_RUNNER = fileURLToPath(new URL('./child-runner.mjs', import.meta.url));
const SLOT_HOST = fileURLToPath(new URL('./slot-host.mjs', import.meta.url));

/**
 * A slot's process gets a process group of its own: Ctrl-C at a terminal signals the whole foreground group, and a
 * slot's process that died of it first would look like a failed run. The orchestrator stops the runs itself.
 */
const OWN_GROUP = { detached: true } as const;

export interface SlotRunner {
  readonly slot: SlotPlan;
  /** Runs one spec; every event reaches `onEvent` before the promise settles. Aborting kills the run. */
  run(spec: RunSpec, onEvent: (event: RunEvent) => void, signal?: AbortSignal): Promise<RunResult>;
  close(): Promise<void>;
}

export interface SlotRunnerOptions {
  threadFile?: string;
  /** 'process': a pinned child process per run (tfjs-node-gpu); 'thread': a piscina worker thread. */
  mode: 'thread' | 'process';
  /** With 'thread': the thread in a process of its own, whose stderr passes forwardStderr (slots.ts, opensWebgpu). */
  ownProcess?: boolean;
}

export function createSlotRunner(slot: SlotPlan, opts: SlotRunnerOptions): SlotRunner {
  const threadFile = opts.threadFile ?? DEFAULT_THREAD_FILE;
  if (opts.mode === 'process') return processSlot(slot, threadFile);
  return opts.ownProcess ? hostedSlot(slot, threadFile) : threadSlot(slot, threadFile);
}

/**
 * Delivers what is still queued on the receiving end of a run's channel, then closes it. A message posted by the
 * thread is queued on this port as soon as postMessage returns, so once the task's outcome (posted after every
 * event) has arrived, draining the queue synchronously yields every remaining event, in order.
 */
function drainAndClose(port: MessagePort, onEvent: (event: RunEvent) => void): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) onEvent(m.message as RunEvent);
  port.close();
}

/** The slot's thread in this process (slot-host.mjs holds its slot's this way). */
export function threadSlot(slot: SlotPlan, filename: string): SlotRunner {
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1 });
  return {
    slot,
    async run(spec, onEvent, signal) {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', onEvent);
      try {
        return (await pool.run({ spec, port: port2 }, { transferList: [port2], signal })) as RunResult;
      } finally {
        drainAndClose(port1, onEvent);
      }
    },
    close: () => pool.destroy(),
  };
}

/**
 * The slot's thread in a process of its own (slot-host.mjs), started at the slot's first run and kept for the next:
 * the thread keeps its backend and GPU adapter between runs, as in this process. The process's stderr reaches this
 * one's through forwardStderr. Aborting a run kills the process; the next run starts another.
 */
function hostedSlot(slot: SlotPlan, threadFile: string): SlotRunner {
  let host: { child: ChildProcess; stderrDone: Promise<void> } | null = null;
  const start = () => {
    const child = fork(SLOT_HOST, [threadFile, JSON.stringify(slot)], { ...OWN_GROUP, serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    const stderrDone = forwardStderr(child.stderr!, process.stderr, process.env.MELANOMA_VERBOSE === '1');
    child.once('exit', () => {
      if (host?.child === child) host = null;
    });
    return { child, stderrDone };
  };
  return {
    slot,
    run(spec, onEvent, signal) {
      host ??= start();
      const { child } = host;
      return new Promise<RunResult>((resolve, reject) => {
        const onAbort = () => child.kill('SIGKILL');
        const onMessage = (msg: ChildMessage) => {
          if (msg.type === 'event') onEvent(msg.event);
          else if (msg.type === 'result') finish(() => resolve(msg.result));
          else finish(() => reject(errorFromChild(msg)));
        };
        const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
          const why = signal?.aborted ? 'the run was aborted' : `the slot's process exited (${sig ?? `code ${code}`}) before the run finished`;
          finish(() => reject(new Error(why)));
        };
        const finish = (settle: () => void) => {
          child.off('message', onMessage);
          child.off('exit', onExit);
          signal?.removeEventListener('abort', onAbort);
          settle();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        child.on('message', onMessage);
        child.once('exit', onExit);
        if (signal?.aborted) onAbort();
        else child.send({ spec });
      });
    },
    async close() {
      if (!host) return;
      const { child, stderrDone } = host;
      host = null;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.disconnect();
        await exited;
      }
      await stderrDone;
    },
  };
}

function processSlot(slot: SlotPlan, threadFile: string): SlotRunner {
  const children = new Set<ReturnType<typeof fork>>();
  return {
    slot,
    run(spec, onEvent, signal) {
      return new Promise<RunResult>((resolve, reject) => {
        const env = { ...process.env };
        if (slot.gpu !== null) env.CUDA_VISIBLE_DEVICES = String(slot.gpu);
        const child = fork(CHILD_RUNNER, [threadFile], { ...OWN_GROUP, env, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.add(child);
        let settled = false;
        const onAbort = () => child.kill('SIGKILL');
        signal?.addEventListener('abort', onAbort, { once: true });
        child.on('message', (msg: ChildMessage) => {
          if (msg.type === 'event') onEvent(msg.event);
          else if (msg.type === 'result') finish(() => resolve(msg.result));
          else finish(() => reject(errorFromChild(msg)));
        });
        child.on('error', (err) => finish(() => reject(err)));
        child.on('close', (code, sig) => {
          children.delete(child);
          signal?.removeEventListener('abort', onAbort);
          const why = signal?.aborted ? 'the run was aborted' : `the run's process exited (${sig ?? `code ${code}`}) before it finished`;
          finish(() => reject(new Error(why)));
        });
        // Inside the child only the pinned GPU is visible, as device 0.
        child.send({ spec: { ...spec, gpu: slot.gpu === null ? null : 0 } });
        function finish(settle: () => void) {
          if (settled) return;
          settled = true;
          settle();
        }
      });
    },
    async close() {
      for (const child of children) child.kill('SIGKILL');
    },
  };
}

/** The run's error as its process sent it (child-error.mjs), cause and stack kept. */
function errorFromChild(msg: Extract<ChildMessage, { type: 'error' }>): Error {
  return Object.assign(new Error(msg.message, { cause: msg.cause }), { stack: msg.stack });
}

export type ChildMessage =
  | { type: 'event'; event: RunEvent }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; message: string; stack?: string; cause?: string };
