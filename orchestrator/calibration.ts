/**
 * The per-epoch cost of each model for the experiment's estimate: the database's completed runs of the same kind
 * when it has some (db/run-history.ts), else a short calibration in a process of its own (workers/calibrate.ts,
 * started by file path: the orchestrator loads no tfjs, and the backend's native stderr passes forwardStderr), with
 * every run assumed to train to its maximum epochs.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { epochHistory, type Database } from '../db/index.ts';
import type { ModelName } from '../study/models.ts';
import type { ResolvedProtocol } from '../study/protocol.ts';
import type { BackendName } from '../study/run.ts';
import type { ModelCost } from './estimate.ts';
import { forwardStderr } from '../common/native-stderr.mjs';
import type { CalibrationReport, ModelSpeed } from '../study/calibration.ts';

const CALIBRATE_ENTRY = fileURLToPath(new URL('../workers/calibrate-entry.mjs', import.meta.url));

export type SplitSizes = Record<'train' | 'val' | 'test', number>;

/**
 * One model's cost from measured speeds: an epoch trains on the train split and predicts val; a run also predicts
 * every split once at the end. A transfer model computes its frozen trunk's activations of every unaugmented split
 * once per run (an upper bound: runs share them through the feature cache) and trains on them unless it augments.
 */
export function costFromSpeed(s: ModelSpeed, images: SplitSizes, o: { maxEpochs: number; augment: boolean }): ModelCost {
  const all = images.train + images.val + images.test;
  const pace = (x: number | null, what: string) => {
    if (x === null) throw new Error(`the calibration of ${s.model} did not measure ${what}`);
    return x;
  };
  let secondsPerEpoch: number;
  let setupSeconds: number;
  if (s.trunk === null) {
    secondsPerEpoch = images.train / pace(s.trainImages, 'training') + images.val / pace(s.predictImages, 'predicting');
    setupSeconds = all / pace(s.predictImages, 'predicting');
  } else {
    const above = pace(s.predictAboveTrunk, 'predicting above the trunk');
    secondsPerEpoch = images.train / (o.augment ? pace(s.trainImages, 'training') : pace(s.trainAboveTrunk, 'training above the trunk')) + images.val / above;
    setupSeconds = all / s.trunk + all / above;
  }
  return { secondsPerEpoch, epochs: o.maxEpochs, maxEpochs: o.maxEpochs, setupSeconds, source: 'calibration', upperBound: true };
}

/** Runs workers/calibrate.ts in a child process; rejects after `timeoutMs`. */
export function runCalibration(
  request: { backend: BackendName; imageSize: number; batchSize: number; models: ModelName[]; augmented: ModelName[]; steps: number; dataDir?: string },
  timeoutMs = 300_000,
): Promise<CalibrationReport> {
  return new Promise((resolve, reject) => {
    const child = fork(CALIBRATE_ENTRY, [JSON.stringify(request)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    void forwardStderr(child.stderr!, process.stderr, process.env.MELANOMA_VERBOSE === '1');
    const timer = setTimeout(() => settle(() => reject(new Error(`the calibration took over ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    let settled = false;
    function settle(fn: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      fn();
    }
    child.once('message', (m: { report?: CalibrationReport; error?: string }) => settle(() => (m.report ? resolve(m.report) : reject(new Error(m.error)))));
    child.once('error', (err) => settle(() => reject(err)));
    child.once('exit', (code, sig) => settle(() => reject(new Error(`the calibration process exited (${sig ?? `code ${code}`})`))));
  });
}

export interface ExperimentCosts {
  costs: Partial<Record<ModelName, ModelCost>>;
  /** Per model, where its cost comes from, e.g. 'baseline 62 s/epoch measured over 4 runs, 23 epochs on average'. */
  basis: string[];
  /** The backend the calibration ran on (with its detail), when it ran. */
  calibratedOn: string | null;
  /**
   * Seconds each slot spends once before its first epoch: starting the backend and decoding every image of the
   * dataset (later runs of the slot find them cached), as calibrated; 0 without a calibration (a model's history
   * counts these in its runs' own time outside epochs).
   */
  slotSetupSeconds: number;
}

/**
 * The cost of every model of `models`: from the database's history where it has completed runs of the model at
 * the protocol's image size, batch size and `backend`, else calibrated (`calibrate`, injectable for tests).
 */
export async function experimentCosts(
  o: {
    models: ModelName[];
    protocol: ResolvedProtocol;
    backend: BackendName;
    images: SplitSizes;
    database: Database | null;
    steps?: number;
    dataDir?: string;
    /** The slots that start together: their first runs decode the dataset at once, sharing the cores. */
    slots?: number;
  },
  calibrate: typeof runCalibration = runCalibration,
): Promise<ExperimentCosts> {
  const costs: Partial<Record<ModelName, ModelCost>> = {};
  const basis: string[] = [];
  const toCalibrate: ModelName[] = [];
  for (const model of o.models) {
    const p = o.protocol.models[model];
    const history = o.database
      ? await epochHistory(o.database, {
          model,
          imageSize: p.imageSize.value,
          batchSize: p.batchSize.value,
          backend: o.backend,
          maxEpochs: p.epochs.value,
          patience: p.patience.value,
        })
      : null;
    if (!history) {
      toCalibrate.push(model);
      continue;
    }
    const epochs = history.meanEpochs === null ? p.epochs.value : Math.min(history.meanEpochs, p.epochs.value);
    costs[model] = {
      secondsPerEpoch: history.secondsPerEpoch,
      epochs,
      maxEpochs: p.epochs.value,
      setupSeconds: history.setupSeconds,
      source: 'history',
      upperBound: history.meanEpochs === null,
    };
    basis.push(
      `${model} ${history.secondsPerEpoch.toFixed(1)} s/epoch measured over ${history.runs} run(s)` +
        (history.meanEpochs === null
          ? `, ${p.epochs.value} epoch${p.epochs.value === 1 ? '' : 's'} assumed`
          : `, ${history.meanEpochs.toFixed(1)} epochs on average`) +
        `, ${history.setupSeconds.toFixed(0)} s a run outside its epochs`,
    );
  }
  let calibratedOn: string | null = null;
  let slotSetupSeconds = 0;
  const all = o.images.train + o.images.val + o.images.test;
  // One image size and batch size per calibration: the protocols' are the same for every model.
  const groups = new Map<string, { imageSize: number; batchSize: number; models: ModelName[] }>();
  for (const model of toCalibrate) {
    const p = o.protocol.models[model];
    const k = `${p.imageSize.value}:${p.batchSize.value}`;
    const group = groups.get(k) ?? { imageSize: p.imageSize.value, batchSize: p.batchSize.value, models: [] };
    group.models.push(model);
    groups.set(k, group);
  }
  for (const { imageSize, batchSize, models } of groups.values()) {
    const augmented = models.filter((m) => o.protocol.models[m].augment.value);
    const report = await calibrate({ backend: o.backend, imageSize, batchSize, models, augmented, steps: o.steps ?? 2, dataDir: o.dataDir });
    calibratedOn = `${report.backend} (${report.backendDetail})`;
    // The sample was decoded on all cores; the slots' first runs decode every image at the same time.
    const decoding = report.decodeImages ? (all * (o.slots ?? 1)) / report.decodeImages : 0;
    slotSetupSeconds = Math.max(slotSetupSeconds, report.backendSeconds + decoding);
    if (report.decodeImages) basis.push(`decoding ${report.decodeImages.toFixed(0)} images/s, ${decoding.toFixed(0)} s before the slots' first epochs`);
    for (const s of report.speeds) {
      const p = o.protocol.models[s.model];
      const cost = costFromSpeed(s, o.images, { maxEpochs: p.epochs.value, augment: p.augment.value });
      costs[s.model] = cost;
      const training = s.trainImages ?? s.trainAboveTrunk;
      basis.push(
        `${s.model} ${cost.secondsPerEpoch.toFixed(1)} s/epoch calibrated${training === null ? '' : ` (${training.toFixed(0)} images/s training)`}, ${p.epochs.value} epoch${p.epochs.value === 1 ? '' : 's'} assumed`,
      );
    }
  }
  return { costs, basis, calibratedOn, slotSetupSeconds };
}
