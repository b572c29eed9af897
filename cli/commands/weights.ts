import type { Command } from 'commander';
import { downloadProgress, megabytes as mb } from '../../common/download-progress.ts';
import { PRETRAINED, PRETRAINED_NAMES, type PretrainedName } from '../../study/models.ts';
import { oneOf } from '../options.ts';
import { examples } from '../help.ts';

export function register(program: Command): void {
  const weights = program
    .command('weights')
    .description('Pretrained ImageNet weights (Keras Applications files).')
    .addHelpText('after', examples('melanoma weights download xception', 'melanoma weights list'));
  weights
    .command('download')
    .description("Download a model's ImageNet weights into the cache, resumably, and verify them (md5, or HDF5 structure where no hash is published).")
    .argument('<model>', `which weights: ${PRETRAINED_NAMES.join(', ')}`, oneOf(PRETRAINED_NAMES))
    .option('--dir <dir>', 'cache folder (default: $MELANOMA_WEIGHTS, else ~/.cache/melanoma/weights)')
    .option('--url <url>', 'download from this address (default: $MELANOMA_WEIGHTS_URL/<file>, else the Keras Applications bucket)')
    .addHelpText(
      'after',
      examples(
        'melanoma weights download xception',
        'melanoma weights download mobilenet --dir /srv/weights',
        'MELANOMA_WEIGHTS_URL=http://mirror.example.org/keras melanoma weights download xception   # a mirror with the same file names',
      ),
    )
    .action(async (model: PretrainedName, opts: { dir?: string; url?: string }) => {
      const { downloadPretrained } = await import('../../study/weights/download.ts');
      const progress = downloadProgress(PRETRAINED[model].file);
      let result: Awaited<ReturnType<typeof downloadPretrained>>;
      try {
        result = await downloadPretrained(model, { dir: opts.dir, url: opts.url, onProgress: (p) => progress.update(p) });
      } finally {
        progress.stop();
      }
      const check = PRETRAINED[model].md5 ? `md5 ${result.md5} verified` : `md5 ${result.md5} (none published; checked that it opens as Keras HDF5)`;
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
    .addHelpText('after', examples('melanoma weights list', 'melanoma weights list --dir /srv/weights --json'))
    .action(async (opts: { dir?: string; json?: boolean }) => {
      const { listCachedWeights } = await import('../../study/weights/download.ts');
      const { locatePretrained, weightsCacheDir } = await import('../../study/weights/pretrained.ts');
      const dir = opts.dir ?? weightsCacheDir();
      const files = listCachedWeights(dir);
      const used = PRETRAINED_NAMES.map((name) => {
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
