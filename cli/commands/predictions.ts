import type { Command } from 'commander';
import { examples } from '../help.ts';

export function register(program: Command): void {
  program
    .command('predictions')
    .description(
      "Store every image's predicted probability for the completed runs of an experiment recorded before predictions were " +
        "kept: each run's best checkpoint is run again on its backend, and stored only if it gives the run's stored evaluation.",
    )
    .requiredOption('--experiment <name>', 'the experiment, by name')
    .option('--db <target>', 'database: a PGlite folder or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .option('--data <dir>', "the experiment's dataset folder (default: the folder it was run on)")
    .addHelpText(
      'after',
      examples('melanoma predictions --experiment study', 'melanoma predictions --experiment seed-224 --db postgres://user@host/melanoma --data ./data'),
    )
    .action(async (opts: { experiment: string; db?: string; data?: string }) => {
      const { predictionsCommand } = await import('./predictions-command.ts');
      await predictionsCommand(opts);
    });
}
