import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('summary')
    .description(
      "Print an experiment's study table (per model: completed runs, mean ± sample std of the test metrics) and its " +
        'operating points (sensitivity at specificity 0.80 / 0.90 / 0.95, specificity at sensitivity 0.90 / 0.95: the ' +
        'threshold chosen on val, the rates measured on test) and the calibration of its probabilities (Brier score and ' +
        'ECE on test, before and after temperature scaling fitted on val), as the web page shows them. Read-only: on a PGlite ' +
        'folder that a running orchestrator holds, it reads a copy the orchestrator takes now.',
    )
    .option('--experiment <name>', 'the experiment, by name (default: the newest one)')
    .option('--db <target>', 'database: a PGlite folder, memory://, or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .option('--json', "print one JSON document (the API's numbers, unrounded) instead of the tables")
    .addHelpText(
      'after',
      [
        '',
        'Numbers in the tables are rounded to 4 places. Decision rule: an image is called malignant when p > t.',
        '',
        'Examples:',
        '  melanoma summary',
        '  melanoma summary --experiment study-224 --db ./.melanoma/db',
        '  melanoma summary --experiment study-224 --json > summary.json',
      ].join('\n'),
    )
    .action(async (opts: { experiment?: string; db?: string; json?: boolean }) => {
      const { summaryCommand } = await import('./summary-command.ts');
      await summaryCommand(opts);
    });
}
