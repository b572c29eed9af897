import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_PROTOCOL, PROTOCOL_NAMES } from '../../study/protocol.ts';
import { oneOf, positiveInt } from '../options.ts';
import { examples } from '../help.ts';
import { decodingProgress } from '../../common/decoding-progress.ts';

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError(`'${value}' is not a fraction in [0, 1).`);
  }
  return n;
}

export function register(program: Command): void {
  const data = program.command('data').description('Look at the dataset (Kaggle "Skin Cancer: Malignant vs. Benign" layout).')
    .addHelpText('after', examples('melanoma data inspect --data ./data'));
  data
    .command('inspect')
    .description(
      'Counts per split and class, class ratios, skipped entries, an image size/channel check, a decoding of every image ' +
        '(each unreadable one named with the reason), and the dataset fingerprint. Exits 1 when an image cannot be decoded.',
    )
    .option('--data <dir>', 'dataset folder in the Kaggle layout (default: $MELANOMA_DATA, else ./data)')
    .option('--protocol <name>', `whose validation rule splits the training folders: ${PROTOCOL_NAMES.join(', ')}`, oneOf(PROTOCOL_NAMES), DEFAULT_PROTOCOL)
    .option('--validation-split <x>', "fraction of each train class folder used for validation (default: the protocol's, 0.2)", fraction)
    .option('--image-size <px>', "expected image size (default: the protocol's, 224)", positiveInt)
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      examples(
        'melanoma data inspect --data ./data',
        'melanoma data inspect --data ./data --protocol extended --json',
      ),
    )
    .action(async (opts: { data?: string; protocol: (typeof PROTOCOL_NAMES)[number]; validationSplit?: number; imageSize?: number; json?: boolean }) => {
      const { resolveDataDir } = await import('../../study/data/dataset.ts');
      const { inspectDataset, formatReport } = await import('../../study/data/inspect.ts');
      const dir = resolveDataDir(opts.data);
      // Progress on stderr (drawn on a terminal only); none with --json.
      const bar = decodingProgress(!opts.json);
      let report;
      try {
        report = await inspectDataset(dir, {
          protocol: opts.protocol,
          validationFraction: opts.validationSplit,
          expectedSize: opts.imageSize,
          onProgress: bar.onProgress,
        });
      } finally {
        bar.stop();
      }
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      if (report.images.unreadable > 0) process.exitCode = 1;
    });
}
