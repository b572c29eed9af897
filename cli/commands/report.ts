/** `melanoma report`: an experiment's reproduction report (study/reproduction.ts), as Markdown or JSON. */
import type { Command } from 'commander';
import { UsageError, UserError } from '../../common/errors.ts';
import { examples } from '../help.ts';

interface ReportOptions {
  experiment: string;
  db?: string;
  markdown?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description(
      "An experiment's reproduction of the article: the study's table (mean ± std over the runs), the article's numbers " +
        'beside it, its claims with verdicts, Welch and DeLong tests between the models, the ensembles and the lesions every ' +
        'run gets wrong. Markdown (ready to paste) or JSON (the same document as /api/experiments/:id/reproduction).',
    )
    .requiredOption('--experiment <name>', 'the experiment, by name')
    .option('--db <target>', 'database: a PGlite folder or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .option('--markdown', 'print Markdown (the default)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      examples(
        'melanoma report --experiment study',
        'melanoma report --experiment seed-224 --markdown > docs/results.md',
        'melanoma report --experiment seed-224 --db postgres://user@host/melanoma --json',
      ),
    )
    .action(async (opts: ReportOptions) => {
      if (opts.markdown && opts.json) throw new UsageError('--markdown and --json exclude each other: pick one.');
      await reportCommand(opts);
    });
}

export async function reportCommand(opts: ReportOptions): Promise<void> {
  const { openDatabaseToRead, findExperiment } = await import('../../db/index.ts');
  const { reproductionReport } = await import('../../web/reproduction.ts');
  const { reproductionMarkdown } = await import('../../study/reproduction-markdown.ts');
  const db = await openDatabaseToRead(opts.db, 'melanoma report');
  try {
    const experiment = await findExperiment(db, opts.experiment);
    if (!experiment) throw new UserError(`--experiment: no experiment named '${opts.experiment}' in ${db.target}.`);
    const report = (await reproductionReport(db, experiment.id))!;
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${reproductionMarkdown(report)}\n`);
  } finally {
    await db.close();
  }
}
