/**
 * Executes runs on one slot, one at a time. A thread slot is a piscina pool with exactly one worker thread (a dead
 * thread is replaced by piscina); with `--backend tensorflow` a slot forks a runner process per run, pinned to its
 * GPU with CUDA_VISIBLE_DEVICES (tfjs-node-gpu binds every visible GPU in a process, so threads cannot be pinned).
 * Both load the same task file: default export `({ spec, port }) => Promise<RunResult>` posting RunEvents on `port`.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { RunEvent, RunResult, RunSpec } from '../study/run.ts';
import type { SlotPlan } from './slots.ts';

export const DEFAULT_THREAD_FILE = fileURLToPath(new URL('../workers/thread-entry.mjs', import.meta.url));
const CHILD_RUNNER = fileURLToPath(new URL('./child-runner.mjs', import.meta.url));

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
}

export function createSlotRunner(slot: SlotPlan, opts: SlotRunnerOptions): SlotRunner {
  const threadFile = opts.threadFile ?? DEFAULT_THREAD_FILE;
  return opts.mode === 'process' ? processSlot(slot, threadFile) : threadSlot(slot, threadFile);
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

function threadSlot(slot: SlotPlan, filename: string): SlotRunner {
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

function processSlot(slot: SlotPlan, threadFile: string): SlotRunner {
  const children = new Set<ReturnType<typeof fork>>();
  return {
    slot,
    run(spec, onEvent, signal) {
      return new Promise<RunResult>((resolve, reject) => {
        const env = { ...process.env };
        if (slot.gpu !== null) env.CUDA_VISIBLE_DEVICES = String(slot.gpu);
        const child = fork(CHILD_RUNNER, [threadFile], { env, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.add(child);
        let settled = false;
        const onAbort = () => child.kill('SIGKILL');
        signal?.addEventListener('abort', onAbort, { once: true });
        child.on('message', (msg: ChildMessage) => {
          if (msg.type === 'event') onEvent(msg.event);
          else if (msg.type === 'result') finish(() => resolve(msg.result));
          else finish(() => reject(Object.assign(new Error(msg.message, { cause: msg.cause }), { stack: msg.stack })));
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

export type ChildMessage =
  | { type: 'event'; event: RunEvent }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; message: string; stack?: string; cause?: string };
