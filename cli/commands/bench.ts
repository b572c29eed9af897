import type { Command } from 'commander';
import { DEFAULT_BATCH_SIZE, DEFAULT_IMAGE_SIZE } from '../../study/protocol.ts';
import { BACKEND_NAMES, MODEL_NAMES } from '../../study/run.ts';
import { nonNegativeInt, oneOf, positiveInt } from '../options.ts';
import { examples } from '../help.ts';

export function register(program: Command): void {
  program
    .command('bench')
    .description('Measure training and inference speed of one backend on one model, and the data pipeline that feeds it.')
    .option('--backend <name>', `compute backend: ${BACKEND_NAMES.join(', ')}`, oneOf(BACKEND_NAMES), 'auto')
    .option('--model <name>', `model: ${MODEL_NAMES.join(', ')}`, oneOf(MODEL_NAMES), 'baseline')
    .option('--image-size <px>', 'square image size', positiveInt, DEFAULT_IMAGE_SIZE)
    .option('--batch-size <n>', 'images per step', positiveInt, DEFAULT_BATCH_SIZE)
    .option('--steps <n>', 'timed steps (after warm-up)', positiveInt, 10)
    .option('--warmup <n>', 'untimed steps first', nonNegativeInt, 2)
    .option('--gpu <index>', 'GPU adapter to use', nonNegativeInt)
    .option('--data <dir>', 'dataset for the data-pipeline measurement (default: $MELANOMA_DATA, else ./data; skipped if absent)')
    .option('--ref <framework>', 'also run the reference implementation in the same invocation and print the ratio', oneOf(['torch'] as const))
    .option('--ref-threads <n>', "CPU threads for the reference (default: the framework's own default)", positiveInt)
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      examples(
        'melanoma bench',
        'melanoma bench --backend wasm --model xception --image-size 224 --batch-size 16 --steps 5',
        'melanoma bench --backend cpu --ref torch --json',
      ),
    )
    .action(async (opts) => {
      const { benchCommand } = await import('./bench-command.ts');
      await benchCommand(opts);
    });
}
