import type { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../../common/errors.ts';

export function register(program: Command): void {
  program
    .command('import')
    .description(
      'Load an experiment written by `melanoma export` into a database (PGlite or PostgreSQL), in one transaction. Runs the ' +
        'database lacks are added, runs the file has further along replace its own, completed runs are never replaced: ' +
        'importing the same file again changes nothing. A damaged file, or an experiment of the same name recorded on ' +
        'another dataset, protocol or configuration, is refused and nothing is written. `orchestrate` resumes an imported ' +
        'experiment like any other.',
    )
    .argument('<file>', 'the exported file, e.g. results/seed-224.ndjson.gz')
    .option('--db <target>', 'database: a PGlite folder, memory://, or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  melanoma import results/seed-224.ndjson.gz --db .melanoma/db\n' +
        '  melanoma import results/seed-224.ndjson.gz --db postgres://user@host/melanoma\n' +
        '  # then continue the study here, and carry it back:\n' +
        '  orchestrate --experiment seed-224 --db .melanoma/db ...   # the same flags as where it started\n' +
        '  melanoma export --experiment seed-224 --out results/seed-224.ndjson.gz',
    )
    .action(importCommand);
}

export async function importCommand(path: string, opts: { db?: string }): Promise<void> {
  let bytes: Buffer;
  try {
    if (!statSync(path).isFile()) throw new Error('it is not a file');
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`);
  }
  const [{ openDatabase, redact }, { importExperiment }, { decodeExperimentFile }] = await Promise.all([
    import('../../db/client.ts'),
    import('../../db/transfer.ts'),
    import('../../db/transfer-format.ts'),
  ]);
  const file = decodeExperimentFile(bytes, path); // checked whole before the database is opened
  const database = await openDatabase(opts.db);
  try {
    const o = await importExperiment(database, file, path);
    process.stdout.write(
      `${path} -> experiment '${file.experiment.name}' (id ${o.experimentId}, ${o.created ? 'new' : 'merged'}) in ${redact(database.target)}: ` +
        `${o.added} run${o.added === 1 ? '' : 's'} added, ${o.updated} updated, ${o.unchanged} unchanged\n`,
    );
  } finally {
    await database.close();
  }
}
