import type { Command } from 'commander';
import { BACKEND_NAMES } from '../../study/run.ts';
import { examples } from '../help.ts';
import { oneOf, positiveInt } from '../options.ts';

export interface SaliencyFlags {
  run: number;
  out: string;
  db?: string;
  backend?: (typeof BACKEND_NAMES)[number];
}

export function register(program: Command): void {
  program
    .command('saliency')
    .description(
      "Where a run looks: the Grad-CAM of its best checkpoint's last convolution layer (the baseline's last separable " +
        "block, the pretrained base's last activation) for one image, drawn over the image as PNG. Stores nothing in the database.",
    )
    .argument('<image>', 'the image (JPEG, PNG, WebP, TIFF)')
    .requiredOption('--run <id>', 'the completed run, by id (the page and `melanoma sql "select id, model, run_index from runs"` show them)', positiveInt)
    .requiredOption('--out <file.png>', 'the PNG to write (its folder must exist)')
    .option('--db <target>', 'database: a PGlite folder or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .option('--backend <name>', `compute backend (default: the one the run ran on): ${BACKEND_NAMES.join(', ')}`, oneOf(BACKEND_NAMES))
    .addHelpText(
      'after',
      examples(
        'melanoma saliency --run 3 lesion.jpg --out lesion-run3.png',
        'melanoma saliency --run 12 --db postgres://user@host/melanoma data/test/malignant/1.jpg --out where.png',
      ),
    )
    .action(async (image: string, opts: SaliencyFlags) => {
      const { saliencyCommand } = await import('./saliency-command.ts');
      await saliencyCommand(image, opts);
    });
}
