/**
 * The task a piscina worker thread runs: one RunSpec, its events posted back over a MessagePort. The thread keeps
 * its tfjs backend (and its GPU adapter) between runs; each run disposes its own tensors.
 */
import type { MessagePort } from 'node:worker_threads';
import { forTransfer } from '../common/errors.ts';
import type { RunEvent, RunResult, RunSpec } from '../study/run.ts';
import { executeRun } from './train/run.ts';

export interface ThreadTask {
  spec: RunSpec;
  port: MessagePort;
}

export default async function runTask({ spec, port }: ThreadTask): Promise<RunResult> {
  try {
    return await executeRun(spec, { emit: (event: RunEvent) => port.postMessage(event) });
  } catch (err) {
    throw forTransfer(err); // the orchestrator does not retry a run that failed on the user's input
  } finally {
    port.close();
  }
}
