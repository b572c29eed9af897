/**
 * The time an experiment takes on this machine's slots: a per-epoch cost per model (measured history, or a short
 * calibration) times the epochs each run is expected to train, laid out on the slots as the scheduler claims runs
 * (base runs by run index, then each `-ft` run once its base has finished). Kept current while the runs go on:
 * epochs measured in this experiment replace the prior cost of their model.
 */
import { FINE_TUNES, type ModelName } from '../study/models.ts';
import { MODEL_NAMES } from '../study/models.ts';
import { formatDuration } from './progress.ts';

export interface ModelCost {
  /** Wall seconds of one epoch (training and validation). */
  secondsPerEpoch: number;
  /** Epochs a run is expected to train: the history's mean, else the maximum. */
  epochs: number;
  maxEpochs: number;
  /** Seconds a run spends outside its epochs (frozen-trunk activations, the final evaluation). */
  setupSeconds: number;
  /** Where the numbers come from, e.g. 'measured over 12 runs' or 'calibrated: 4 steps'. */
  source: 'history' | 'calibration';
  /** True when `epochs` is the maximum because no alike run says how early runs stop. */
  upperBound: boolean;
}

export interface PlannedRunState {
  model: ModelName;
  runIndex: number;
  /** completed (or failed for good): takes no more time. */
  state: 'pending' | 'running' | 'done';
  /** Epochs a running run has finished. */
  epochsDone?: number;
}

/** Seconds until every run of `runs` has finished on `slots` slots, each slot starting after `slotSetupSeconds`. */
export function estimateSeconds(runs: PlannedRunState[], costs: Partial<Record<ModelName, ModelCost>>, slots: number, slotSetupSeconds = 0): number {
  const cost = (m: ModelName) => {
    const c = costs[m];
    if (!c) throw new Error(`no cost for model ${m}`);
    return c;
  };
  const remaining = (r: PlannedRunState) => {
    const c = cost(r.model);
    if (r.state === 'pending') return c.setupSeconds + c.epochs * c.secondsPerEpoch;
    // A running run past its expected epochs trains at least one more.
    const done = r.epochsDone ?? 0;
    const left = Math.max(Math.min(c.epochs, c.maxEpochs) - done, done < c.maxEpochs ? 1 : 0);
    return left * c.secondsPerEpoch + (done === 0 ? c.setupSeconds : 0);
  };
  const n = Math.max(1, slots);
  const free = Array.from({ length: n }, () => slotSetupSeconds);
  const finished = new Map<string, number>(); // model:runIndex -> finish time
  const key = (m: ModelName, i: number) => `${m}:${i}`;
  let end = 0;
  /** The slot that frees first (the first of equals); n >= 1, so there is one. */
  const earliest = () => {
    let k = 0;
    for (let j = 1; j < n; j++) if (free[j]! < free[k]!) k = j;
    return k;
  };
  const take = (seconds: number, notBefore = 0) => {
    const k = earliest();
    const finish = Math.max(free[k]!, notBefore) + seconds;
    free[k] = finish;
    end = Math.max(end, finish);
    return finish;
  };
  // Runs in flight hold a slot from now; with more in flight than slots (several processes) they queue.
  for (const r of runs.filter((x) => x.state === 'running')) {
    const finish = remaining(r);
    free[earliest()] = finish;
    end = Math.max(end, finish);
    finished.set(key(r.model, r.runIndex), finish);
  }
  for (const r of runs.filter((x) => x.state === 'done')) finished.set(key(r.model, r.runIndex), 0);
  const claimOrder = runs
    .filter((r) => r.state === 'pending')
    .sort(
      (a, b) =>
        Number(FINE_TUNES[a.model] !== undefined) - Number(FINE_TUNES[b.model] !== undefined) ||
        a.runIndex - b.runIndex ||
        MODEL_NAMES.indexOf(a.model) - MODEL_NAMES.indexOf(b.model),
    );
  for (const r of claimOrder) {
    const base = FINE_TUNES[r.model];
    const notBefore = base ? (finished.get(key(base, r.runIndex)) ?? 0) : 0;
    finished.set(key(r.model, r.runIndex), take(remaining(r), notBefore));
  }
  return end;
}

/**
 * The line `orchestrate` prints before its runs: 'estimate: 31 runs ≈ 41h00m on 2 CPU slots (upper bound: every
 * run to its max epochs; baseline 62.0 s/epoch calibrated ...)'.
 */
export function estimateLine(o: { runs: number; seconds: number; upperBound: boolean; slots: { gpu: number | null }[]; basis: string[] }): string {
  const gpu = o.slots.some((s) => s.gpu !== null);
  const slots = `${o.slots.length} ${gpu ? 'GPU' : 'CPU'} slot${o.slots.length === 1 ? '' : 's'}`;
  const bound = o.upperBound ? 'upper bound: runs stop early, the estimate takes every run without history to its max epochs; ' : '';
  return `estimate: ${o.runs} run${o.runs === 1 ? '' : 's'} ≈ ${formatDuration(o.seconds)} on ${slots} (${bound}${o.basis.join('; ')})`;
}

/** "about 41h00m" or "at most about 41h00m" for an estimate. */
export function describeEstimate(seconds: number, upperBound: boolean): string {
  return upperBound ? `at most about ${formatDuration(seconds)}` : `about ${formatDuration(seconds)}`;
}

/**
 * The estimate of one experiment while it runs: the planned runs' states, and per model the prior cost, replaced by
 * the mean epoch time measured in this experiment once one of its epochs has finished.
 */
export class ExperimentClock {
  readonly #runs = new Map<string, PlannedRunState>();
  readonly #measured = new Map<ModelName, { seconds: number; epochs: number }>();

  /** Seconds each slot spends before its first epoch; past once an epoch has ended. */
  #slotSetupSeconds: number;

  constructor(
    runs: PlannedRunState[],
    readonly costs: Partial<Record<ModelName, ModelCost>>,
    readonly slots: number,
    slotSetupSeconds = 0,
  ) {
    this.#slotSetupSeconds = slotSetupSeconds;
    for (const r of runs) this.#runs.set(`${r.model}:${r.runIndex}`, { ...r });
  }

  runStarted(model: ModelName, runIndex: number): void {
    this.#set(model, runIndex, { state: 'running', epochsDone: 0 });
  }

  epochEnded(model: ModelName, runIndex: number, epoch: number, seconds: number): void {
    this.#set(model, runIndex, { state: 'running', epochsDone: epoch });
    this.#slotSetupSeconds = 0;
    const m = this.#measured.get(model) ?? { seconds: 0, epochs: 0 };
    this.#measured.set(model, { seconds: m.seconds + seconds, epochs: m.epochs + 1 });
  }

  /** `done`: completed or failed for good; otherwise (a retry, an interruption) the run is pending again. */
  runEnded(model: ModelName, runIndex: number, done: boolean): void {
    this.#set(model, runIndex, { state: done ? 'done' : 'pending', epochsDone: 0 });
  }

  /** The costs in use: each model's prior, with this experiment's measured seconds per epoch where there are some. */
  currentCosts(): Partial<Record<ModelName, ModelCost>> {
    const out: Partial<Record<ModelName, ModelCost>> = {};
    for (const [model, c] of Object.entries(this.costs) as [ModelName, ModelCost][]) {
      const m = this.#measured.get(model);
      out[model] = m ? { ...c, secondsPerEpoch: m.seconds / m.epochs } : c;
    }
    return out;
  }

  secondsLeft(): number {
    return estimateSeconds([...this.#runs.values()], this.currentCosts(), this.slots, this.#slotSetupSeconds);
  }

  upperBound(): boolean {
    const models = new Set([...this.#runs.values()].filter((r) => r.state !== 'done').map((r) => r.model));
    return [...models].some((m) => this.costs[m]?.upperBound);
  }

  #set(model: ModelName, runIndex: number, patch: Partial<PlannedRunState>): void {
    const k = `${model}:${runIndex}`;
    const r = this.#runs.get(k);
    if (r) this.#runs.set(k, { ...r, ...patch });
  }
}
