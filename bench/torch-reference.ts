/** The PyTorch reference of `melanoma bench --ref torch` (bench/torch_reference.py), run with the same shape. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../common/errors.ts';
import type { ModelName } from '../study/run.ts';

/** The step the reference times: the same model and shape as ours. */
export interface ReferenceShape {
  model: ModelName;
  imageSize: number;
  batchSize: number;
  steps: number;
  warmup: number;
  /** CPU threads (default: the framework's own default). */
  refThreads?: number;
}

export interface TorchReport {
  framework: string;
  device: string;
  trainStepMsMedian: number;
  trainImagesPerSec: number;
}

const REFERENCE = resolve(import.meta.dirname, 'torch_reference.py');

/** Runs bench/torch_reference.py with the same shape; python3 from $MELANOMA_PYTHON, else python3 on PATH. */
export function runTorchReference(f: ReferenceShape): TorchReport {
  if (f.model !== 'baseline' && f.model !== 'augmented' && f.model !== 'xception') {
    throw new UserError(`--ref torch has a reference for baseline, augmented and xception only, not ${f.model}.`);
  }
  const python = process.env.MELANOMA_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const args = [
    REFERENCE,
    '--model',
    f.model,
    '--image-size',
    String(f.imageSize),
    '--batch-size',
    String(f.batchSize),
    '--steps',
    String(f.steps),
    '--warmup',
    String(f.warmup),
  ];
  if (f.refThreads !== undefined) args.push('--threads', String(f.refThreads));
  const r = spawnSync(python, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split('\n').pop();
    throw new UserError(`the PyTorch reference could not run (${python} ${args.join(' ')}): ${why}. On Debian: apt-get install python3-torch.`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchReport;
}
