import type { Command } from 'commander';
import { oneOf } from '../options.ts';

const PRETRAINED = ['xception', 'mobilenet'] as const;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** A cli-progress bar on a terminal; otherwise a plain line at every 10% (or every 10 MB when the size is unknown). */
async function progressReporter(label: string) {
  const { SingleBar, Presets } = await import('cli-progress');
  let bar: InstanceType<typeof SingleBar> | null = null;
  let lastStep = -1;
  return {
    update(p: { resumedFrom: number; received: number; total: number | null }) {
      if (process.stderr.isTTY && p.total !== null) {
        if (bar === null) {
          bar = new SingleBar(
            { format: `${label} [{bar}] {percentage}% | {done}/{size} | ETA {eta}s`, stream: process.stderr, hideCursor: true },
            Presets.shades_classic,
          );
          bar.start(p.total, p.received, { done: mb(p.received), size: mb(p.total) });
        }
        bar.update(p.received, { done: mb(p.received), size: mb(p.total) });
        return;
      }
      const step = p.total ? Math.floor((10 * p.received) / p.total) : Math.floor(p.received / 10e6);
      if (step !== lastStep) {
        lastStep = step;
        const of = p.total ? ` of ${mb(p.total)} (${Math.floor((100 * p.received) / p.total)}%)` : '';
        process.stderr.write(`${label}: ${mb(p.received)}${of}${p.resumedFrom > 0 ? `, resumed at ${mb(p.resumedFrom)}` : ''}\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

export function register(program: Command): void {
  const weights = program.command('weights').description('Pretrained ImageNet weights (Keras Applications files).');
  weights
    .command('download')
    .description('Download a model\'s ImageNet weights into the cache, resumably, and verify them (md5, or HDF5 structure where no hash is published).')
    .argument('<model>', `which weights: ${PRETRAINED.join(', ')}`, oneOf(PRETRAINED))
    .option('--dir <dir>', 'cache folder (default: $MELANOMA_WEIGHTS, else ~/.cache/melanoma/weights)')
    .option('--url <url>', 'download from this address instead of the Keras Applications bucket')
    .action(async (model: (typeof PRETRAINED)[number], opts: { dir?: string; url?: string }) => {
      const { downloadPretrained } = await import('../../workers/models/weights-download.ts');
      const { PRETRAINED: FILES } = await import('../../workers/models/pretrained.ts');
      const progress = await progressReporter(FILES[model].file);
      let result;
      try {
        result = await downloadPretrained(model, { dir: opts.dir, url: opts.url, onProgress: (p) => progress.update(p) });
      } finally {
        progress.stop();
      }
      const check = FILES[model].md5 ? `md5 ${result.md5} verified` : `md5 ${result.md5} (none published; checked that it opens as Keras HDF5)`;
      process.stdout.write(
        result.alreadyCached
          ? `${result.path}: already cached, ${mb(result.bytes)}, ${check}\n`
          : `${result.path}: ${mb(result.bytes)}${result.resumedFrom > 0 ? ` (resumed at ${mb(result.resumedFrom)})` : ''}, ${check}\n`,
      );
    });
  weights
    .command('list')
    .description('What the weights cache holds, and which weights each pretrained model would use.')
    .option('--dir <dir>', 'cache folder (default: $MELANOMA_WEIGHTS, else ~/.cache/melanoma/weights)')
    .option('--json', 'print one JSON document')
    .action(async (opts: { dir?: string; json?: boolean }) => {
      const { listCachedWeights } = await import('../../workers/models/weights-download.ts');
      const { weightsCacheDir } = await import('../../workers/models/pretrained.ts');
      const { locatePretrained } = await import('../../workers/models/pretrained.ts');
      const dir = opts.dir ?? weightsCacheDir();
      const files = listCachedWeights(dir);
      const used = PRETRAINED.map((name) => {
        try {
          const where = locatePretrained(name, opts.dir ?? null);
          return { model: name, path: where.path, format: where.format };
        } catch {
          return { model: name, path: null, format: null };
        }
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ dir, files, models: used }, null, 2)}\n`);
        return;
      }
      const lines = [`weights cache: ${dir}${files.length === 0 ? ' (empty)' : ''}`];
      for (const f of files) {
        const what = f.partial ? 'partial download (resumable)' : f.model ? `${f.model} weights` : 'other';
        lines.push(`  ${f.name.padEnd(72)} ${mb(f.bytes).padStart(10)}  ${what}`);
      }
      lines.push('models use:');
      for (const u of used) {
        lines.push(`  ${u.model.padEnd(10)} ${u.path ? `${u.path} (${u.format})` : `not found: melanoma weights download ${u.model}`}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
