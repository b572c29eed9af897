/**
 * What a running experiment shows between its stored events: each running run's progress inside its current epoch
 * and the experiment's estimated time left. The orchestrator keeps them in memory (they are never stored) and the
 * web server of the same process (`orchestrate --serve`) reads them. No tfjs.
 */

/** What a run is doing: decoding its images, caching a frozen trunk's activations, training an epoch, evaluating. */
export const PROGRESS_PHASES = ['decoding', 'caching', 'training', 'evaluating'] as const;
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];

/** A run's progress through one phase, as its worker reports it (at most a few times a second). */
export interface PhaseProgress {
  phase: ProgressPhase;
  /** The epoch the phase belongs to (1-based); null before training (decoding, caching) and for the final evaluation. */
  epoch: number | null;
  /** Images done and to do in this phase. */
  done: number;
  total: number;
  /** Images per second since the phase began; null until there is something to measure. */
  imagesPerSecond: number | null;
}

/** PhaseProgress as the page gets it: when the main thread received it (ISO time). */
export interface LiveRunProgress extends PhaseProgress {
  at: string;
}

/** The estimated time left of an experiment, kept current as epochs finish. */
export interface LiveEstimate {
  /** Seconds from `at` until every run of the plan is expected to have finished. */
  secondsLeft: number;
  /** True when some model's epochs are taken at their maximum (runs stop early), so the real time is shorter. */
  upperBound: boolean;
  /** One line that says what the estimate rests on. */
  basis: string;
  at: string;
}

/** The in-memory feed one orchestrator process keeps for its web server. */
export class LiveFeed {
  readonly #runs = new Map<number, LiveRunProgress>();
  readonly #estimates = new Map<number, LiveEstimate>();

  setRun(runId: number, progress: PhaseProgress, at = new Date()): void {
    this.#runs.set(runId, { ...progress, at: at.toISOString() });
  }

  clearRun(runId: number): void {
    this.#runs.delete(runId);
  }

  run(runId: number): LiveRunProgress | null {
    return this.#runs.get(runId) ?? null;
  }

  setEstimate(experimentId: number, estimate: Omit<LiveEstimate, 'at'>, at = new Date()): void {
    this.#estimates.set(experimentId, { ...estimate, at: at.toISOString() });
  }

  estimate(experimentId: number): LiveEstimate | null {
    return this.#estimates.get(experimentId) ?? null;
  }
}
