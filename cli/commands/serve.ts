import type { Command } from 'commander';
import { port } from '../options.ts';
import { examples } from '../help.ts';

export interface ServeOptions {
  db?: string;
  host: string;
  port: number;
  data?: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve the results web page (read-only): experiments, summary table and charts, runs, dataset. JSON API under /api. On a PGlite folder that a running orchestrator holds, its page, live.',
    )
    .option('--db <target>', 'database: a PGlite folder, memory://, or a postgres:// URL (default: the project database)')
    .option('--host <host>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', port, 8080)
    .option('--data <dir>', 'dataset folder for the Dataset view (default: $MELANOMA_DATA, else ./data when present)')
    .addHelpText(
      'after',
      examples(
        'melanoma serve',
        'melanoma serve --db postgres://melanoma_reader@host/melanoma --port 0',
        'melanoma serve --db .melanoma/demo/db --data ./data',
      ),
    )
    .action(async (opts: ServeOptions) => {
      const { serve } = await import('./serve-command.ts');
      await serve(opts);
    });
}
