/** `melanoma sql`: read-only, time-limited, three output formats, on a PGlite folder and on PostgreSQL. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { formatCsv, formatJson, formatTable } from '../../../cli/commands/sql-command.ts';
import { createOrResumeExperiment, openDatabase } from '../../../db/index.ts';
import { runReadOnly } from '../../../db/read-only.ts';
import { createReader } from '../../../db/sql-reader.ts';
import { pgUrlOrSkip, scratchPgDatabase, tempDir } from '../../db/fixtures.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';

const exec = promisify(execFile);

async function sql(...args: (string | NodeJS.ProcessEnv)[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ...args.find((a) => typeof a === 'object') };
  const argv = args.filter((a) => typeof a === 'string');
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), 'sql', ...argv], {
      cwd: PROJECT_ROOT,
      timeout: 120_000,
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('the table aligns columns (numbers right), CSV quotes, JSON keeps NaN and duplicate names', () => {
  const output = {
    columns: ['model', 'auc', 'auc', 'note'],
    rows: [
      ['baseline', 0.8, NaN, null],
      ['mobilenet-ft', 0.935, 1, 'a,"b"\nc'],
    ],
  };
  assert.equal(
    formatTable(output),
    [
      'model        | auc   | auc | note',
      '-------------+-------+-----+---------',
      'baseline     |   0.8 | NaN |',
      'mobilenet-ft | 0.935 |   1 | a,"b"\\nc',
      '(2 rows)',
      '',
    ].join('\n'),
  );
  assert.equal(formatCsv(output), 'model,auc,auc,note\nbaseline,0.8,NaN,\nmobilenet-ft,0.935,1,"a,""b""\nc"\n');
  assert.deepEqual(JSON.parse(formatJson(output)), [
    { model: 'baseline', auc: 0.8, auc_2: 'NaN', note: null },
    { model: 'mobilenet-ft', auc: 0.935, auc_2: 1, note: 'a,"b"\nc' },
  ]);
});

test('the table rounds the floats of numeric columns to 4 places unless raw; text columns and big integers keep their digits', () => {
  const output = {
    columns: ['model', 'auc', 'n', 'note'],
    rows: [
      ['baseline', 0.93953612345, '12345678901234567890', '0.123456'],
      ['augmented', '0.9012499999', 2, 'x'],
      ['tiny', 1.23e-7, 0, null],
    ],
  };
  assert.equal(
    formatTable(output),
    [
      'model     | auc    | n                    | note',
      '----------+--------+----------------------+---------',
      'baseline  | 0.9395 | 12345678901234567890 | 0.123456',
      'augmented | 0.9012 |                    2 | x',
      'tiny      | 1.2e-7 |                    0 |',
      '(3 rows)',
      '',
    ].join('\n'),
  );
  assert.match(formatTable(output, { raw: true }), /baseline {2}\| 0\.93953612345 \| 12345678901234567890/);
  assert.match(formatCsv(output), /baseline,0\.93953612345,12345678901234567890/, 'CSV keeps every digit');
});

test('expanded: a block per row, one line per field; auto only when the table is wider than the terminal', () => {
  const output = {
    columns: ['model', 'roc_auc_mean'],
    rows: [
      ['baseline', 0.91],
      ['mobilenet', 0.94],
    ],
  };
  const expanded = [
    '-[ RECORD 1 ]--',
    'model        | baseline',
    'roc_auc_mean | 0.91',
    '-[ RECORD 2 ]--',
    'model        | mobilenet',
    'roc_auc_mean | 0.94',
    '(2 rows)',
    '',
  ].join('\n');
  assert.equal(formatTable(output, { expanded: true }), expanded);
  assert.equal(formatTable(output, { expanded: 'auto', width: 20 }), expanded, 'the table is 24 characters wide');
  assert.match(formatTable(output, { expanded: 'auto', width: 80 }), /^model {5}\| roc_auc_mean\n/);
  assert.match(formatTable(output, { expanded: 'auto' }), /^model {5}\| roc_auc_mean\n/, 'no terminal: never expanded');
});

let folder = '';
before(async () => {
  folder = join(tempDir('sql'), 'db');
  const database = await openDatabase(folder);
  await createOrResumeExperiment(database, { name: 'study', config: { runs: 10 }, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });
  await database.close();
});

test('on a PGlite folder: prints rows; refuses writes; cancels a query past the timeout and leaves the folder usable', async () => {
  const table = await sql('select id, name, config from experiments', '--db', folder);
  assert.equal(table.code, 0, table.stderr);
  assert.equal(table.stdout, 'id | name  | config\n---+-------+------------\n 1 | study | {"runs":10}\n(1 row)\n');

  const write = await sql('delete from experiments', '--db', folder);
  assert.equal(write.code, 1);
  assert.equal(
    write.stderr,
    'melanoma: the statement tries to write, but queries here are read-only (cannot execute DELETE in a read-only transaction); nothing was changed.\n',
  );
  await assert.rejects(
    runReadOnly({ target: folder, sql: 'select count(*) from generate_series(1, 1000000000)', timeoutMs: 1000 }),
    /cancelled after the 1 s statement timeout \(raise it with --timeout\)/,
  );
  const after = await runReadOnly({ target: folder, sql: 'select count(*)::integer as n from experiments', timeoutMs: 30_000 });
  assert.deepEqual(after.rows, [[1]], 'nothing was written, and the folder opens again after the cancelled query');
});

test('bad targets and bad SQL are one-line errors', async () => {
  await assert.rejects(runReadOnly({ target: join(tempDir('sql-none'), 'nothing'), sql: 'select 1', timeoutMs: 1000 }), /no database at .*nothing/);
  await assert.rejects(runReadOnly({ target: 'mysql://host/db', sql: 'select 1', timeoutMs: 1000 }), /unsupported database 'mysql:\/\/host\/db'/);
  const typo = await sql('selec 1', '--db', folder);
  assert.equal(typo.code, 1);
  assert.equal(typo.stderr, 'melanoma: query failed: syntax error at or near "selec" (at character 1)\n');
});

test('on PostgreSQL, as the role melanoma sql-reader creates ($MELANOMA_SQL_DB): refuses writes and enforces statement_timeout', async (t) => {
  const server = pgUrlOrSkip(t);
  if (!server) return;
  const scratch = await scratchPgDatabase(server);
  try {
    const reader = (await createReader(scratch.url)).url;
    const write = await sql("insert into experiments (name, config) values ('x', '{}')", '--json', { MELANOMA_SQL_DB: reader });
    assert.equal(write.code, 1);
    assert.match(write.stderr, /cannot execute INSERT in a read-only transaction/);
    await assert.rejects(runReadOnly({ target: reader, sql: 'select pg_sleep(30)', timeoutMs: 500 }), /cancelled after the 0.5 s statement timeout/);
    const count = await runReadOnly({ target: reader, sql: 'select count(*)::integer as n from experiments', timeoutMs: 5000 });
    assert.deepEqual(count, { columns: ['n'], rows: [[0]] });
  } finally {
    await scratch.drop();
  }
});
