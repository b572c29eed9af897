import type { Command } from 'commander';
import { examples } from '../help.ts';

export function register(program: Command): void {
  program
    .command('rescore')
    .description(
      'Fill in the metrics that the completed runs of an experiment lack in their final evaluation (metrics added to ' +
        'study/metrics/definitions.ts after they were recorded), computed from their stored predictions by the same ' +
        "code as a run's own. Stored values are never changed; epochs keep no predictions, so their new metrics stay empty.",
    )
    .requiredOption('--experiment <name>', 'the experiment, by name')
    .option('--db <target>', 'database: a PGlite folder or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .addHelpText('after', examples('melanoma rescore --experiment seed-224', 'melanoma rescore --experiment study --db postgres://user@host/melanoma'))
    .action(async (opts: { experiment: string; db?: string }) => {
      const { rescoreCommand } = await import('./rescore-command.ts');
      await rescoreCommand(opts);
    });
}
