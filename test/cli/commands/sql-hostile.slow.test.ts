/**
 * Hostile `melanoma sql` statements (test/fixtures/hostile/sql-cases.ts): on the PostgreSQL test server through its
 * superuser's URL (refused before anything runs) and through the read-only role that `melanoma sql-reader` creates,
 * and on a PGlite folder. After each: no file appeared, no large object, role or row was added or removed, the
 * other sessions are the same sessions, and a PGlite folder's files are unchanged byte for byte.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { createOrResumeExperiment, openDatabase, type Database } from '../../../db/index.ts';
import { runReadOnly } from '../../../db/read-only.ts';
import { LOCK_FILE } from '../../../db/folder-lock.ts';
import { PG_URL, pgUrlOrSkip, scratchPgDatabase, tableCounts, tempDir } from '../../db/fixtures.ts';
import { HOSTILE_SQL, assertAnswer, type Answer } from '../../fixtures/hostile/sql-cases.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';

const exec = promisify(execFile);
const TIMEOUT_MS = 3000;
const SUPERUSER_REFUSED: Answer = { error: 'can do more than read the study (it is a superuser' };

/** A folder the server's system user may write to, so that a statement that could write there would. */
const watched = tempDir('hostile-files');
chmodSync(watched, 0o777);

function sqlFor(sql: string, label: string, caseIndex: number): { sql: string; file: string } {
  const file = join(watched, `${label}-${caseIndex}`);
  return { sql: sql.replaceAll('{file}', file), file };
}

async function answerOf(target: string, sql: string): Promise<Answer> {
  try {
    const out = await runReadOnly({ target, sql, timeoutMs: TIMEOUT_MS });
    return { rows: out.rows.length };
  } catch (err) {
    const message = (err as Error).message;
    assert.ok(!message.includes('\n'), `the error is one line: ${message}`);
    return { error: message };
  }
}

test('README.md lists every hostile SQL case with its answers', () => {
  const readme = readFileSync(join(PROJECT_ROOT, 'test/fixtures/hostile/README.md'), 'utf8');
  for (const c of HOSTILE_SQL) {
    assert.ok(readme.includes(`\`${c.sql.replaceAll('|', '\\|')}\``), `README.md lists the SQL of "${c.name}"`);
    assert.ok(readme.includes(c.name), `README.md names "${c.name}"`);
  }
});

describe('on PostgreSQL', () => {
  let scratch: Awaited<ReturnType<typeof scratchPgDatabase>> | null = null;
  let admin: postgres.Sql;
  let orchestrator: Database;
  let readerUrl = '';
  let bystanders: { admin: number; orchestrator: number };

  const state = async () => {
    const [server] = await admin.unsafe(
      `select (select count(*) from pg_largeobject_metadata)::int as large_objects, (select count(*) from pg_roles)::int as roles,
        (select count(*) from pg_class)::int as relations,
        (select string_agg(name || '=' || setting, ',' order by name) from pg_settings where source <> 'default' and source <> 'session'
          and source <> 'client') as settings`,
    );
    return { server, tables: await tableCounts(orchestrator) };
  };
  const pids = async () => ({
    admin: (await admin`select pg_backend_pid() as pid`)[0]!.pid as number,
    orchestrator: (await orchestrator.query<{ pid: number }>('select pg_backend_pid() as pid'))[0]!.pid,
  });

  before(async () => {
    if (!PG_URL) return;
    scratch = await scratchPgDatabase(PG_URL);
    orchestrator = await openDatabase(scratch.url);
    await createOrResumeExperiment(orchestrator, { name: 'study', config: {}, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });
    admin = postgres(scratch.url, { max: 1, onnotice: () => {} });
    // The project's own command creates the role, as a user would.
    const { stdout } = await exec(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), 'sql-reader', '--db', scratch.url, '--new-password'], {
      cwd: PROJECT_ROOT,
    });
    readerUrl = /--db (postgres:\/\/\S+)/.exec(stdout)![1]!;
    bystanders = await pids();
  });
  after(async () => {
    await admin?.end();
    await orchestrator?.close();
    await scratch?.drop();
  });

  test('melanoma sql-reader prints a URL whose role may only read; the superuser URL is refused with a one-line error naming it', async (t) => {
    if (!pgUrlOrSkip(t)) return;
    assert.match(readerUrl, /^postgres:\/\/melanoma_reader:[^@]+@127\.0\.0\.1:\d+\/melanoma_t_/);
    assert.deepEqual(await runReadOnly({ target: readerUrl, sql: 'select name from experiments', timeoutMs: TIMEOUT_MS }), {
      columns: ['name'],
      rows: [['study']],
    });
    const refused = await answerOf(scratch!.url, 'select name from experiments');
    assert.ok('error' in refused);
    assert.match(
      refused.error,
      /^the role postgres of postgres:\/\/postgres@.* can do more than read the study \(it is a superuser; .*"npx melanoma sql-reader --db postgres:\/\/postgres@/,
    );
  });

  HOSTILE_SQL.forEach((c, i) => {
    for (const as of ['superuser', 'reader'] as const) {
      test(`${c.name}, as the ${as === 'superuser' ? "superuser's URL" : 'read-only role'}`, async (t) => {
        if (!pgUrlOrSkip(t)) return;
        const before = await state();
        const { sql, file } = sqlFor(c.sql, `pg-${as}`, i);
        const got = await answerOf(as === 'superuser' ? scratch!.url : readerUrl, sql);
        // Transaction control is refused before connecting; everything else, by the superuser check.
        const upfront = 'error' in c.postgres && c.postgres.error.includes('controls transactions') ? c.postgres : SUPERUSER_REFUSED;
        assertAnswer(got, as === 'superuser' ? upfront : c.postgres);
        assert.equal(existsSync(file), false, `no file at ${file}`);
        assert.deepEqual(await state(), before, 'no large object, role, relation, setting or row changed');
        assert.deepEqual(await pids(), bystanders, 'the other sessions are alive (the same backends)');
      });
    }
  });
});

describe('on a PGlite folder', () => {
  let folder = '';
  const fingerprint = () => {
    const hash = createHash('sha256');
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name !== LOCK_FILE) hash.update(path).update(readFileSync(path));
      }
    };
    walk(folder);
    return hash.digest('hex');
  };

  before(async () => {
    folder = join(tempDir('hostile-pglite'), 'db');
    mkdirSync(folder);
    const database = await openDatabase(folder);
    await createOrResumeExperiment(database, { name: 'study', config: {}, datasetFingerprint: 'fp', datasetDir: '/data', codeVersion: 'v1' });
    await database.close();
  });

  HOSTILE_SQL.forEach((c, i) => {
    test(c.name, async () => {
      const before = fingerprint();
      const { sql, file } = sqlFor(c.sql, 'pglite', i);
      assertAnswer(await answerOf(folder, sql), c.pglite);
      assert.equal(existsSync(file), false, `no file at ${file}`);
      assert.equal(fingerprint(), before, "the folder's files are unchanged");
    });
  });
});
