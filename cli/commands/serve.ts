import type { Command } from 'commander';
import { port } from '../options.ts';
import { examples } from '../help.ts';

interface ServeOptions {
  db?: string;
  host: string;
  port: number;
  data?: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve the results web page (read-only): experiments, summary table and charts, runs, dataset. JSON API under /api.')
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
      const { openDatabase } = await import('../../db/index.ts');
      const { startServer } = await import('../../web/server.ts');
      const { resolveDataDir } = await import('../../workers/data/dataset.ts');
      let dataDir: string | null;
      try {
        dataDir = resolveDataDir(opts.data);
      } catch (err) {
        if (opts.data) throw err; // an explicit --data that is wrong is an error, the defaults are optional
        dataDir = null;
      }
      const db = await openDatabase(opts.db, { create: false });
      let server;
      try {
        server = await startServer({ db, host: opts.host, port: opts.port, dataDir });
      } catch (err) {
        await db.close();
        throw err;
      }
      process.stdout.write(`Serving ${db.target} at ${server.url}/${dataDir ? ` (dataset ${dataDir})` : ' (no dataset folder: the Dataset view is empty; use --data)'}\nPress Ctrl-C to stop.\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await db.close();
    });
}
