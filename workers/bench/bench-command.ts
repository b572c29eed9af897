import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../common/errors.ts';
import type { BackendName, ModelName } from '../../study/run.ts';
import { benchmark, type BenchReport } from './benchmark.ts';

interface BenchFlags {
  backend: BackendName;
  model: ModelName;
  imageSize: number;
  batchSize: number;
  steps: number;
  warmup: number;
  gpu?: number;
  data?: string;
  ref?: 'torch';
  refThreads?: number;
  json?: boolean;
}

export interface TorchReport {
  framework: string;
  device: string;
  trainStepMsMedian: number;
  trainImagesPerSec: number;
}

const REFERENCE = resolve(import.meta.dirname, '..', '..', 'bench', 'torch_reference.py');

/** Runs bench/torch_reference.py with the same shape; python3 from $MELANOMA_PYTHON, else python3 on PATH. */
export function runTorchReference(f: Pick<BenchFlags, 'model' | 'imageSize' | 'batchSize' | 'steps' | 'warmup' | 'refThreads'>): TorchReport {
  if (f.model !== 'baseline' && f.model !== 'augmented' && f.model !== 'xception') {
    throw new UserError(`--ref torch has a reference for baseline, augmented and xception only, not ${f.model}.`);
  }
  const python = process.env.MELANOMA_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const args = [REFERENCE, '--model', f.model, '--image-size', String(f.imageSize), '--batch-size', String(f.batchSize), '--steps', String(f.steps), '--warmup', String(f.warmup)];
  if (f.refThreads !== undefined) args.push('--threads', String(f.refThreads));
  const r = spawnSync(python, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split('\n').pop();
    throw new UserError(`the PyTorch reference could not run (${python} ${args.join(' ')}): ${why}. On Debian: apt-get install python3-torch.`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchReport;
}

function dataDirOrNull(flag?: string): string | null {
  const dir = resolve(flag ?? process.env.MELANOMA_DATA ?? 'data');
  return existsSync(join(dir, 'train')) ? dir : null;
}

export async function benchCommand(f: BenchFlags): Promise<void> {
  const ours: BenchReport = await benchmark({
    backend: f.backend,
    model: f.model,
    imageSize: f.imageSize,
    batchSize: f.batchSize,
    steps: f.steps,
    warmup: f.warmup,
    gpu: f.gpu ?? null,
    dataDir: dataDirOrNull(f.data),
  });
  const ref = f.ref === 'torch' ? runTorchReference(f) : null;
  const ratio = ref ? ours.trainImagesPerSec / ref.trainImagesPerSec : null;
  if (f.json) {
    process.stdout.write(JSON.stringify({ ...ours, reference: ref, trainRatioVsReference: ratio }) + '\n');
    return;
  }
  const n = (x: number) => x.toFixed(1);
  const lines = [
    `backend        ${ours.backend} (${ours.backendDetail})`,
    `model          ${ours.model}, ${ours.imageSize}x${ours.imageSize}, batch ${ours.batchSize}, ${ours.steps} steps`,
    `train step     median ${n(ours.trainStepMs.median)} ms (min ${n(ours.trainStepMs.min)}, max ${n(ours.trainStepMs.max)}), of which ${n(ours.trainIssueMs)} ms issuing its kernels`,
    `train          ${n(ours.trainImagesPerSec)} images/s waiting for each step; ${n(ours.trainImagesPerSecOverlapped)} images/s as a run issues them (each read one step late)`,
    `predict        ${n(ours.predictImagesPerSec)} images/s`,
    `data pipeline  ${ours.dataImagesPerSec === null ? 'decoding skipped (no dataset; pass --data); ' : `${n(ours.dataImagesPerSec)} images/s decoding (first epoch), `}${n(ours.cachedDataImagesPerSec)} images/s from the image cache (later epochs); augmented, as input tensors`,
    `top kernels    ${ours.topKernels.map((k) => `${k.name} ${n(k.ms)} ms`).join(', ')} (${ours.kernelCalls} kernel calls a step, peak ${n(ours.stepPeakBytes / 2 ** 20)} MiB of tensors)`,
  ];
  if (ref && ratio !== null) {
    lines.push(`reference      ${ref.framework} on ${ref.device}: ${n(ref.trainImagesPerSec)} images/s (median step ${n(ref.trainStepMsMedian)} ms)`);
    lines.push(`ratio          ${ratio.toFixed(2)}x the reference's training throughput`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
