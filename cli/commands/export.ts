import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../../common/errors.ts';

export function register(program: Command): void {
  program
    .command('export')
    .description(
      'Write one experiment to one file (gzip, with a SHA-256 checksum): its configuration, runs, epochs, evaluations, curves, ' +
        'predictions and logs, to carry it to another machine (`melanoma import`) or to commit it. The same results give the same bytes.',
    )
    .requiredOption('--experiment <name>', 'the experiment, by name')
    .requiredOption('--out <file>', 'the file to write, e.g. results/seed-224.ndjson.gz (replaced if it exists)')
    .option('--db <target>', 'database: a PGlite folder or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  melanoma export --experiment seed-224 --out results/seed-224.ndjson.gz\n' +
        '  melanoma export --experiment seed-224 --db postgres://user@host/melanoma --out /tmp/seed-224.ndjson.gz',
    )
    .action(exportCommand);
}

export async function exportCommand(opts: { experiment: string; out: string; db?: string }): Promise<void> {
  const out = resolve(opts.out);
  if (existsSync(out) && !statSync(out).isFile()) throw new UserError(`--out ${opts.out} is a folder: give a file name.`);
  const [{ openDatabaseToRead, redact }, { exportExperiment }, { encodeExperimentFile }] = await Promise.all([
    import('../../db/index.ts'),
    import('../../db/transfer.ts'),
    import('../../db/transfer-format.ts'),
  ]);
  const database = await openDatabaseToRead(opts.db, 'melanoma export');
  let file;
  try {
    file = await exportExperiment(database, opts.experiment);
  } finally {
    await database.close();
  }
  if (!file) throw new UserError(`no experiment '${opts.experiment}' in ${redact(database.target)}.`);
  const bytes = encodeExperimentFile(file);
  const unchanged = existsSync(out) && readFileSync(out).equals(bytes);
  if (!unchanged) {
    mkdirSync(dirname(out), { recursive: true });
    const partial = `${out}.partial-${process.pid}`;
    writeFileSync(partial, bytes);
    renameSync(partial, out); // a reader never sees half a file
  }
  const byStatus = new Map<string, number>();
  for (const r of file.runs) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const predictions = file.runs.reduce((n, r) => n + r.predictions.reduce((m, p) => m + p.image.length, 0), 0);
  process.stdout.write(
    `experiment '${file.experiment.name}': ${file.runs.length} runs (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ') || 'none'}), ` +
      `${predictions} predictions -> ${opts.out} (${bytes.length} bytes${unchanged ? ', unchanged' : ''})\n`,
  );
}
