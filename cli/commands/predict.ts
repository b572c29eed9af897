import { type Command, InvalidArgumentError } from 'commander';
import { MAX_TTA } from '../../study/prediction.ts';
import { BACKEND_NAMES, MODEL_NAMES } from '../../study/run.ts';
import { examples } from '../help.ts';
import { oneOf, positiveInt } from '../options.ts';

export interface PredictFlags {
  experiment: string;
  model?: (typeof MODEL_NAMES)[number];
  db?: string;
  tta: number;
  backend?: (typeof BACKEND_NAMES)[number];
  json?: boolean;
}

function views(value: string): number {
  const n = positiveInt(value);
  if (n > MAX_TTA) throw new InvalidArgumentError(`${n} views is over the ${MAX_TTA} a prediction takes.`);
  return n;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description(
      "Put new lesion images through the best checkpoints of an experiment's completed runs of one model: per image the " +
        "ensemble's probability of melanoma (the runs' mean), their std and range, and the calls at 0.5 and at the " +
        'operating points (each threshold chosen on val). Reads the database, stores nothing.',
    )
    .argument('<images...>', 'image files (JPEG, PNG, WebP, TIFF) or folders, searched for images at any depth')
    .requiredOption('--experiment <name>', 'the experiment, by name')
    .option(
      '--model <name>',
      `the model whose runs predict (default: the experiment's best by mean val ROC AUC): ${MODEL_NAMES.join(', ')}`,
      oneOf(MODEL_NAMES),
    )
    .option('--db <target>', 'database: a PGlite folder or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .option(
      '--tta <n>',
      `views averaged per image and run: the image, then n-1 rotated and flipped as the protocol's augmentation does it (at most ${MAX_TTA})`,
      views,
      1,
    )
    .option('--backend <name>', `compute backend (default: the one the runs ran on): ${BACKEND_NAMES.join(', ')}`, oneOf(BACKEND_NAMES))
    .option('--json', "print one JSON document: the runs, every threshold, and per image each run's probability and every call")
    .addHelpText(
      'after',
      [
        '',
        "Decision rule: an image is called malignant when p > t. An image smaller than the runs' input size is refused",
        '(it would be upscaled).',
        examples(
          'melanoma predict --experiment seed-224 lesion.jpg',
          'melanoma predict --experiment seed-224 --model augmented --tta 8 ./new-lesions',
          'melanoma predict --experiment seed-224 --db postgres://user@host/melanoma --json a.jpg b.png > predictions.json',
        ),
      ].join('\n'),
    )
    .action(async (images: string[], opts: PredictFlags) => {
      const { predictCommand } = await import('./predict-command.ts');
      await predictCommand(images, opts);
    });
}
