/** `melanoma bench`: one backend's training and inference speed on one model, and the data pipeline feeding it. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendName, ModelName } from '../../study/run.ts';
import { benchmark, type BenchReport } from '../../bench/benchmark.ts';
import { runTorchReference } from '../../bench/torch-reference.ts';

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
