/** `melanoma run`: flags → RunSpec, one run in this process, Keras-like progress on stderr, JSON on stdout. */
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { thisCommand } from '../../common/command-line.ts';
import { downloadProgress, megabytes } from '../../common/download-progress.ts';
import { ensurePretrained } from '../../study/weights/download.ts';
import { resolveDataDir } from '../../study/data/dataset.ts';
import { isPretrainedName, PRETRAINED, withoutPretrained } from '../../study/models.ts';
import { overridesIn, resolveProtocol, type Overrides, type ProtocolName } from '../../study/protocol.ts';
import { buildRunSpec } from '../../study/run-spec.ts';
import { METRIC_NAMES, type BackendName, type EpochRecord, type Metrics, type ModelName, type RunResult, type RunSpec } from '../../study/run.ts';
import { executeRun } from '../../workers/train/run.ts';

/** `melanoma run`'s flags, as cli/commands/run.ts defines them. */
export interface RunFlags extends Omit<Overrides, 'runs'> {
  model: ModelName;
  protocol: ProtocolName;
  data?: string;
  seed: number;
  backend: BackendName;
  gpu?: number;
  out?: string;
  initFrom?: string;
  weights?: string;
  cache: boolean;
  featureCache?: string;
  saveAugmented?: string;
  json?: boolean;
}

export function specFromFlags(f: RunFlags): RunSpec {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return buildRunSpec(resolveProtocol(f.protocol, overridesIn(f)), f.model, f.seed, {
    dataDir: resolveDataDir(f.data),
    outDir: resolve(f.out ?? `runs/${f.model}-seed${f.seed}-${stamp}`),
    backend: f.backend,
    gpu: f.gpu ?? null,
    initFrom: f.initFrom ? resolve(f.initFrom) : null,
    weights: f.weights ? resolve(f.weights) : null,
    cacheImages: f.cache,
    featureCacheDir: f.featureCache ? resolve(f.featureCache) : null,
    saveAugmented: f.saveAugmented ? resolve(f.saveAugmented) : null,
  });
}

const fmt = (x: number) => (Number.isNaN(x) ? 'nan' : x.toFixed(4));

export function metricsLine(m: Metrics, prefix = ''): string {
  return METRIC_NAMES.map((k) => `${prefix}${k}: ${fmt(m[k])}`).join(' - ');
}

export function epochLine(r: EpochRecord, epochs: number, best: boolean): string {
  return `Epoch ${r.epoch}/${epochs} - ${r.seconds.toFixed(1)}s - ${metricsLine(r.train)} - ${metricsLine(r.val, 'val_')}${best ? ' (best)' : ''}`;
}

export function finalTable(result: RunResult): string {
  const rows = result.final.map(
    (e) =>
      `${e.split.padEnd(5)} ${String(e.n).padStart(5)}  ${METRIC_NAMES.map((k) => fmt(e.metrics[k]).padStart(9)).join(' ')}   tp ${e.confusion.tp} fp ${e.confusion.fp} tn ${e.confusion.tn} fn ${e.confusion.fn}`,
  );
  const header = `split     n  ${METRIC_NAMES.map((k) => k.padStart(9)).join(' ')}   confusion at 0.5`;
  return [header, ...rows].join('\n');
}

/**
 * The ImageNet weights of a model that starts from them (a fine-tuning model starts from a checkpoint): taken from
 * --weights or a weights folder, else downloaded into the cache with a progress bar on stderr, before the run starts.
 */
async function ensureRunWeights(model: ModelName, weights: string | null, err: NodeJS.WriteStream): Promise<void> {
  if (!isPretrainedName(model)) return;
  const name = model;
  const progress = downloadProgress(`  ${PRETRAINED[name].file}`, err);
  try {
    const got = await ensurePretrained(name, {
      weights,
      alternative: withoutPretrained(name, 'run'),
      onDownload: (url, dest) => err.write(`weights: ${model} not cached; downloading ${url} to ${dest}\n`),
      onProgress: (p) => progress.update(p),
    });
    if (got.download)
      err.write(`weights: ${got.location.path}, ${megabytes(got.download.bytes)}, md5 ${got.download.md5}${PRETRAINED[name].md5 ? ' verified' : ''}\n`);
  } finally {
    progress.stop();
  }
}

export async function runCommand(flags: RunFlags): Promise<void> {
  const spec = specFromFlags(flags);
  const err = process.stderr;
  await ensureRunWeights(spec.model, spec.weights, err);
  const bar = err.isTTY
    ? new cliProgress.SingleBar({ format: '  {bar} {value}/{total} {what}', stream: err, clearOnComplete: true }, cliProgress.Presets.shades_classic)
    : null;
  let checkStarted = 0;
  // OUT/resume holds the last completed epoch (run.ts): the same command with the same OUT continues from there.
  const onSigint = () => {
    bar?.stop();
    err.write(`\ninterrupted; to continue from the last completed epoch: ${thisCommand(flags.out ? [] : ['--out', spec.outDir])}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  const result = await executeRun(spec, {
    emit(event) {
      if (event.type === 'started') {
        err.write(`backend: ${event.backend} (${event.backendDetail})\n`);
        err.write(`model: ${spec.model}, ${event.params.total.toLocaleString('en')} parameters (${event.params.trainable.toLocaleString('en')} trainable)\n`);
        err.write(`output: ${spec.outDir}\n`);
      } else if (event.type === 'epoch') {
        bar?.stop();
        err.write(epochLine(event.record, spec.epochs, event.best) + '\n');
      } else if (event.type === 'log') {
        err.write(`${event.message}\n`);
      }
    },
    onCheck(done, total) {
      if (done === 1) checkStarted = performance.now();
      if (bar) {
        if (done === 1) bar.start(total, 0, { what: 'images decoded' });
        bar.update(done);
        if (done === total) bar.stop();
      }
      if (done === total) err.write(`data: ${total} images checked in ${((performance.now() - checkStarted) / 1000).toFixed(1)}s\n`);
    },
    onBatch(done, total) {
      if (!bar) return;
      if (done <= spec.batchSize) bar.start(total, 0, { what: 'images' });
      bar.update(done);
      if (done === total) bar.stop();
    },
  });
  process.off('SIGINT', onSigint);
  err.write(`best epoch ${result.bestEpoch} of ${result.history.length}${result.stoppedEarly ? ' (stopped early)' : ''}; ${result.seconds.toFixed(1)}s\n`);
  err.write(finalTable(result) + '\n');
  if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
}
