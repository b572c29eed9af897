import type { Command } from 'commander';
import { checkWritableFolder } from '../../common/writable-folder.ts';
import { checkMinImageSize } from '../../study/image-size.ts';
import { DEFAULT_PROTOCOL, PROTOCOL_NAMES } from '../../study/protocol.ts';
import { FINE_TUNES, MODEL_NAMES } from '../../study/models.ts';
import { backendOption, dataOption, nonNegativeInt, oneOf, overrideOptions, weightsOption, withOptions } from '../options.ts';
import { examples } from '../help.ts';

export function register(program: Command): void {
  const run = program
    .command('run')
    .description('Train one model once and evaluate it on train, val and test with every metric of the study.')
    .requiredOption('--model <name>', `model: ${MODEL_NAMES.join(', ')}`, oneOf(MODEL_NAMES))
    .option('--protocol <name>', `whose settings the run takes (flags override them): ${PROTOCOL_NAMES.join(', ')}`, oneOf(PROTOCOL_NAMES), DEFAULT_PROTOCOL)
    .addOption(dataOption());
  withOptions(run, overrideOptions('epochs', 'imageSize', 'batchSize', 'learningRate', 'patience'))
    .option('--seed <n>', 'fixes data order, augmentation and initial weights', nonNegativeInt, 1)
    .addOption(backendOption())
    .option('--gpu <index>', 'GPU (WebGPU adapter / CUDA device) to run on', nonNegativeInt)
    .option('--out <dir>', 'output folder (default: runs/<model>-seed<seed>-<time>)')
    .option('--init-from <dir>', `checkpoint of the base run (${Object.keys(FINE_TUNES).join(', ')})`)
    .addOption(weightsOption())
    .option('--no-cache', 'decode images from disk every epoch instead of caching them as uint8')
    .option('--feature-cache <dir>', 'keep frozen-trunk activations in this folder for later runs of transfer models to read')
    .option('--save-augmented <dir>', 'write the augmented training images the model saw into this folder')
    .option('--json', 'print one JSON document with config, history, final metrics, confusion matrices and curves')
    .addHelpText(
      'after',
      examples(
        'melanoma run --model baseline --data ./data',
        'melanoma run --model augmented --data ./data --epochs 10 --image-size 128 --out runs/augmented-128',
        'melanoma run --model xception --data ./data --out runs/xception   # downloads the ImageNet weights on first use',
        'melanoma run --model xception-ft --init-from runs/xception/best --data ./data',
        'melanoma run --model mobilenet --weights /srv/weights --backend wasm --json > mobilenet.json',
      ),
    )
    .action(async (opts) => {
      // Before tfjs loads or anything is written: flags that a run would otherwise trip over minutes in.
      checkMinImageSize(opts.imageSize, [opts.model]);
      checkWritableFolder(opts.out ?? 'runs', opts.out ? '--out' : '--out (default)');
      if (opts.featureCache) checkWritableFolder(opts.featureCache, '--feature-cache');
      if (opts.saveAugmented) checkWritableFolder(opts.saveAugmented, '--save-augmented');
      const { runCommand } = await import('./run-command.ts');
      await runCommand(opts);
    });
}
