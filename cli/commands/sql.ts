import { type Command, Option } from 'commander';
import { positiveNumber } from '../options.ts';
import type { SqlOptions } from './sql-command.ts';
import { examples } from '../help.ts';

export function register(program: Command): void {
  program
    .command('sql')
    .description('Run one read-only SQL statement over the run history (tables and views: see db/README.md).')
    .argument('<query>', 'the statement, e.g. "select * from metric_summary where metric = \'roc_auc\'"; - reads it from stdin')
    .option(
      '--db <target>',
      'database: a PGlite folder, memory://, or a postgres:// URL of a read-only role (see sql-reader) (default: $MELANOMA_SQL_DB, $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)',
    )
    .addOption(new Option('--json', 'print the rows as a JSON array of objects').conflicts('csv'))
    .addOption(new Option('--csv', 'print the rows as CSV with a header line').conflicts('json'))
    .option('--timeout <seconds>', 'cancel the statement after this many seconds', positiveNumber, 30)
    .option('--raw', 'print every digit of floats (the table rounds them to 4 places; --json and --csv never round)')
    .addOption(new Option('-x, --expanded', 'one line per field, a block per row (default: when the table is wider than the terminal)'))
    .addHelpText(
      'after',
      `
Examples:
  melanoma sql "select model, n, roc_auc_mean, roc_auc_std, recall_mean from metric_summary_wide where split = 'test'"
  melanoma sql "select * from run_overview where status <> 'completed'" -x
  melanoma sql --csv "select * from epoch_metrics" > epochs.csv
  echo "select count(*) from predictions" | melanoma sql -`,
    )
    .action(async (query: string, opts: SqlOptions) => {
      const { sqlCommand } = await import('./sql-command.ts');
      await sqlCommand(query, opts);
    });
  program
    .command('sql-reader')
    .description("Create or refresh the PostgreSQL role that melanoma sql connects as: it may read the study's tables and views, nothing else.")
    .option('--db <url>', 'postgres:// URL of a role that may create roles and grant on the study (default: $MELANOMA_DB, $DATABASE_URL)')
    .option('--role <name>', 'the read-only role', 'melanoma_reader')
    .option('--new-password', 'give an existing role a new random password (a new role always gets one)')
    .addHelpText(
      'after',
      examples(
        'melanoma sql-reader --db postgres://postgres@127.0.0.1:5432/melanoma',
        'melanoma sql-reader --db postgres://postgres@127.0.0.1:5432/melanoma --role study_reader --new-password',
      ),
    )
    .action(async (opts: { db?: string; role: string; newPassword?: boolean }) => {
      const { sqlReaderCommand } = await import('./sql-command.ts');
      await sqlReaderCommand(opts);
    });
}
