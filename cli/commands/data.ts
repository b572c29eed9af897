import { InvalidArgumentError, type Command } from 'commander';
import { HASH_BITS, NEAR_DUPLICATE_BITS } from '../../study/duplicates.ts';
import { DEFAULT_PROTOCOL, PROTOCOL_NAMES } from '../../study/protocol.ts';
import { nonNegativeInt, oneOf, positiveInt } from '../options.ts';
import { examples } from '../help.ts';
import { decodingProgress } from '../../common/decoding-progress.ts';

function hashBits(value: string): number {
  const n = nonNegativeInt(value);
  if (n > HASH_BITS) throw new InvalidArgumentError(`'${value}' is more than the hash's ${HASH_BITS} bits.`);
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError(`'${value}' is not a fraction in [0, 1).`);
  }
  return n;
}

export function register(program: Command): void {
  const data = program
    .command('data')
    .description('Look at the dataset (Kaggle "Skin Cancer: Malignant vs. Benign" layout).')
    .addHelpText('after', examples('melanoma data inspect --data ./data', 'melanoma data duplicates --data ./data'));
  data
    .command('duplicates')
    .description(
      'Exact (the same pixels) and near-duplicate images (a 256-bit DCT perceptual hash, robust to resizing and ' +
        'recompression) within and across train, val and test, and how many test images have a duplicate in train or ' +
        "val. With --experiment: that experiment's test metrics recomputed from its stored predictions without those images.",
    )
    .option('--data <dir>', 'dataset folder in the Kaggle layout (default: $MELANOMA_DATA, else ./data)')
    .option('--protocol <name>', `whose validation rule splits the training folders: ${PROTOCOL_NAMES.join(', ')}`, oneOf(PROTOCOL_NAMES), DEFAULT_PROTOCOL)
    .option('--threshold <bits>', `near-duplicates differ in at most this many of the hash's ${HASH_BITS} bits`, hashBits, NEAR_DUPLICATE_BITS)
    .option('--experiment <name>', "also recompute this experiment's test metrics without the leaked test images")
    .option('--db <target>', 'database of --experiment: a PGlite folder or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .option('--json', 'print one JSON document')
    .option('--markdown', 'print docs/duplicates.md')
    .addHelpText(
      'after',
      examples(
        'melanoma data duplicates --data ./data',
        'melanoma data duplicates --data ./data --threshold 30 --json',
        'melanoma data duplicates --data ./data --experiment seed-224 --db ./.melanoma/db --markdown > docs/duplicates.md',
      ),
    )
    .action(
      async (opts: {
        data?: string;
        protocol: (typeof PROTOCOL_NAMES)[number];
        threshold: number;
        json?: boolean;
        markdown?: boolean;
        experiment?: string;
        db?: string;
      }) => {
        const { duplicatesCommand } = await import('./duplicates-command.ts');
        await duplicatesCommand(opts);
      },
    );
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
    .addHelpText('after', examples('melanoma data inspect --data ./data', 'melanoma data inspect --data ./data --protocol extended --json'))
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
