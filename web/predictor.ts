/**
 * Where the page's predictions and saliency maps are computed: one worker thread (workers/predict/thread.ts,
 * started by file path through piscina, so that the page's process never loads tfjs), started on the first request
 * and ended after IDLE_MS without one. It keeps its backend and the models it loaded while it lives.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { isUserError, UserError } from '../common/errors.ts';
import type { PredictionTask, SaliencyResult } from '../study/prediction.ts';
import { HttpError } from './http-errors.ts';

const THREAD_FILE = fileURLToPath(new URL('../workers/predict/thread-entry.mjs', import.meta.url));
const IDLE_MS = 5 * 60_000;
/** Requests waiting for the thread at most; more are answered 503. */
const MAX_WAITING = 4;

export interface Predictor {
  /** Each image's probability under each run ([image][run]). */
  predict(task: Extract<PredictionTask, { kind: 'predict' }>): Promise<number[][]>;
  saliency(task: Extract<PredictionTask, { kind: 'saliency' }>): Promise<SaliencyResult>;
  close(): Promise<void>;
}

export function threadPredictor(filename = THREAD_FILE): Predictor {
  let pool: Piscina | null = null;
  const run = async (task: PredictionTask) => {
    pool ??= new Piscina({ filename, minThreads: 0, maxThreads: 1, idleTimeout: IDLE_MS, concurrentTasksPerWorker: 1 });
    if (pool.queueSize >= MAX_WAITING) throw new HttpError(503, `${pool.queueSize} predictions are waiting already: try again in a moment.`);
    try {
      return await pool.run(task);
    } catch (err) {
      // A mistake in the input (an image that does not decode) keeps its message; anything else is the server's.
      throw isUserError(err) ? new UserError((err as Error).message) : err;
    }
  };
  return {
    predict: (task) => run(task) as Promise<number[][]>,
    saliency: (task) => run(task) as Promise<SaliencyResult>,
    close: async () => {
      await pool?.destroy();
      pool = null;
    },
  };
}
