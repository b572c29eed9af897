import { type Command, Option } from 'commander';
import { positiveNumber } from '../options.ts';

export function register(program: Command): void {
  program
    .command('sql')
    .description('Run one read-only SQL statement over the run history (tables and views: see db/README.md).')
    .argument('<query>', "the statement, e.g. \"select * from metric_summary where metric = 'roc_auc'\"; - reads it from stdin")
    .option('--db <target>', 'database: a PGlite folder, memory://, or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .addOption(new Option('--json', 'print the rows as a JSON array of objects').conflicts('csv'))
    .addOption(new Option('--csv', 'print the rows as CSV with a header line').conflicts('json'))
    .option('--timeout <seconds>', 'cancel the statement after this many seconds', positiveNumber, 30)
    .action(async (query: string, opts: { db?: string; json?: boolean; csv?: boolean; timeout: number }) => {
      const { sqlCommand } = await import('./sql-command.ts');
      await sqlCommand(query, opts);
    });
}
