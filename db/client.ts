/**
 * Opens the study database: PGlite (Postgres compiled to WebAssembly, in this process) for a folder or memory://,
 * or a PostgreSQL server for a postgres:// URL. Both give the same Drizzle type, schema and queries; pending
 * migrations from db/migrations/ are applied on open.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite } from '@electric-sql/pglite';
import type { Sql, UnsafeQueryOptions } from 'postgres';
import { UsageError, UserError } from '../common/errors.ts';
import { checkWritableFolder } from '../common/writable-folder.ts';
import { backfillCalibrations } from './calibration.ts';
import { LOCK_FILE, lockFolder } from './folder-lock.ts';
import * as schema from './schema.ts';
import { WriteLog } from './write-log.ts';

/** The Drizzle database both drivers produce; every query in db/ is written against it. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DatabaseKind = 'pglite' | 'postgres';

export interface QueryOutput {
  columns: string[];
  rows: unknown[][];
}

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /** What was opened: an absolute folder, memory://, or the URL. */
  target: string;
  /** Raw SQL with $1, $2 ... parameters; rows as objects, values as the driver parses them. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * One statement in a READ ONLY transaction with `SET LOCAL statement_timeout`, ended by ROLLBACK whatever
   * happens; rows as arrays, in column order. `role`: under SET LOCAL ROLE. It runs with the rights of the
   * connection's session user, which SET ROLE does not take away: user SQL goes through db/read-only.ts, which
   * connects as a read-only role. PGlite accepts but does not enforce statement_timeout (it has no timer signal).
   */
  readOnlyQuery(text: string, opts: { timeoutMs: number; role?: string }): Promise<QueryOutput>;
  /** PGlite: the writes this process commits (db/write-log.ts). PostgreSQL: null, other processes write too. */
  writes: WriteLog | null;
  close(): Promise<void>;
}

export type DatabaseTarget = { kind: 'memory' } | { kind: 'folder'; dir: string } | { kind: 'postgres'; url: string };

/** The project database when neither --db, $MELANOMA_DB nor $DATABASE_URL says otherwise (relative to the cwd). */
export const DEFAULT_DB_DIR = '.melanoma/db';
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/** `target`, else $MELANOMA_DB, else $DATABASE_URL, else ./.melanoma/db. */
export function parseTarget(target?: string): DatabaseTarget {
  const { value, source } = targetSource(target);
  const t = value.trim();
  if (t === '') throw new UsageError(`${source} is empty: give a folder, memory:// or a postgres:// URL.`);
  if (t === 'memory://' || t === 'memory:') return { kind: 'memory' };
  if (/^postgres(ql)?:\/\//i.test(t)) {
    if (!URL.canParse(t)) throw new UsageError(`${source} '${redact(t)}' is not a valid URL (expected postgres://user:password@host:port/database).`);
    return { kind: 'postgres', url: t };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    throw new UsageError(`${source}: unsupported database '${redact(t)}': use a folder (PGlite), memory://, or a postgres:// or postgresql:// URL.`);
  }
  return { kind: 'folder', dir: resolve(t) };
}

/** Where the database target comes from, for messages: the flag or the environment variable that gave it. */
function targetSource(target?: string): { value: string; source: string } {
  if (target !== undefined) return { value: target, source: '--db' };
  if (process.env.MELANOMA_DB !== undefined) return { value: process.env.MELANOMA_DB, source: '$MELANOMA_DB' };
  if (process.env.DATABASE_URL !== undefined) return { value: process.env.DATABASE_URL, source: '$DATABASE_URL' };
  return { value: DEFAULT_DB_DIR, source: '--db (default)' };
}

/**
 * The target, checked before anything is opened: a valid URL, or a PGlite folder that is a folder and can be
 * created or written (see common/writable-folder.ts). Throws a one-line UsageError naming --db and the value.
 */
export function checkTarget(target?: string): DatabaseTarget {
  const t = parseTarget(target);
  if (t.kind === 'folder') checkWritableFolder(t.dir, targetSource(target).source);
  return t;
}

/** The URL without its password, for messages (an unparsable URL loses everything between '://user:' and its last '@'). */
export function redact(url: string): string {
  if (URL.canParse(url)) {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  }
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):.*@/i, '$1:***@');
}

/**
 * Opens (and migrates) the database, and calibrates the completed runs stored before run_calibrations existed
 * (db/calibration.ts; nothing to do once they are). `create: false` refuses a folder that holds no database yet
 * (for read-only commands); PostgreSQL databases must exist already.
 */
export async function openDatabase(target?: string, opts: { create?: boolean } = {}): Promise<Database> {
  const t = checkTarget(target);
  const database = t.kind === 'postgres' ? await openPostgres(t.url) : await openPglite(t.kind === 'memory' ? null : t.dir, opts.create ?? true);
  try {
    await backfillCalibrations(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

// ---------------------------------------------------------------------------------------------------------------
// PGlite

/**
 * A migrated, empty cluster. Creating a cluster from scratch (initdb) takes several seconds, loading this copy
 * about one; so the first memory database of a process is created and copied, and every later one, and every new
 * folder, starts from the copy.
 */
let template: Promise<Blob> | null = null;

async function freshCluster(dir: string | null): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (template) {
    const copy = await template.catch(() => null);
    if (copy) return PGlite.create(dir ?? undefined, { loadDataDir: copy });
  }
  const pg = await PGlite.create();
  try {
    await migratePglite(pg);
    template = pg.dumpDataDir('none'); // before anyone writes to it
    const copy = await template;
    if (!dir) return pg;
    await pg.close();
    return PGlite.create(dir, { loadDataDir: copy });
  } catch (err) {
    template = null;
    if (!pg.closed) await pg.close();
    throw err;
  }
}

async function openPglite(dir: string | null, create: boolean): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  let release = () => {};
  let fresh = true;
  if (dir) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`the database path ${dir} is a file, not a folder.`);
    fresh = !existsSync(resolve(dir, 'PG_VERSION'));
    if (fresh && existsSync(dir) && readdirSync(dir).some((f) => f !== LOCK_FILE)) {
      throw new UserError(`the folder ${dir} is not empty and holds no database (no PG_VERSION): give an empty or a database folder.`);
    }
    if (fresh && !create) throw noDatabaseAt(dir);
    mkdirSync(dir, { recursive: true });
    release = lockFolder(dir);
  }
  let pg: PGlite | undefined;
  try {
    pg = fresh ? await freshCluster(dir) : await PGlite.create(dir!);
    await migratePglite(pg);
  } catch (err) {
    if (pg && !pg.closed) await pg.close().catch(() => {});
    release();
    if (err instanceof UserError || !dir) throw err;
    throw new UserError(`cannot open the PGlite database in ${dir}: ${(err as Error).message}`);
  }
  const { drizzle } = await import('drizzle-orm/pglite');
  const readOnlyTransaction = pg.transaction.bind(pg);
  const writes = countWrites(pg);
  const db: Db = drizzle({ client: pg, schema });
  return {
    db,
    kind: 'pglite',
    target: dir ?? 'memory://',
    writes,
    async query<T>(text: string, params: unknown[] = []) {
      return (await pg.query<T>(text, params)).rows;
    },
    async readOnlyQuery(text, { timeoutMs, role }) {
      return readOnlyTransaction(async (tx) => {
        try {
          await tx.exec(`set transaction read only; ${readOnlySettings(timeoutMs, role)}`);
          // query() uses the extended protocol: exactly one statement, so `commit; delete ...` cannot slip through.
          const r = await tx.query<unknown[]>(text, [], { rowMode: 'array' });
          return { columns: r.fields.map((f) => f.name), rows: r.rows };
        } finally {
          if (!tx.closed) await tx.rollback();
        }
      });
    },
    async close() {
      try {
        if (!pg.closed) await pg.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * Tells a WriteLog about every transaction and every statement outside one that may write, once it has finished,
 * whoever sends it (Drizzle, `query`, migrations). A statement is taken for a read only when it is a SELECT (or
 * WITH ... SELECT) that names no data-changing command.
 */
function countWrites(pg: PGlite): WriteLog {
  const log = new WriteLog();
  const mayWrite = (text: string) => !READ_ONLY_TEXT.test(text) || WRITE_WORD.test(text);
  const query = pg.query.bind(pg);
  const exec = pg.exec.bind(pg);
  const transaction = pg.transaction.bind(pg);
  const after = async <T>(write: boolean, p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } finally {
      if (write) log.wrote();
    }
  };
  pg.query = ((text: string, ...rest: unknown[]) => after(mayWrite(text), (query as (...a: unknown[]) => Promise<unknown>)(text, ...rest))) as PGlite['query'];
  pg.exec = ((text: string, ...rest: unknown[]) => after(mayWrite(text), (exec as (...a: unknown[]) => Promise<unknown>)(text, ...rest))) as PGlite['exec'];
  pg.transaction = ((fn: Parameters<PGlite['transaction']>[0]) => after(true, transaction(fn))) as PGlite['transaction'];
  return log;
}

const READ_ONLY_TEXT = /^\s*\(?\s*(select|with)\b/i;
const WRITE_WORD = /\b(insert|update|delete|merge|truncate|copy|nextval|setval)\b/i;

/** For commands that only read: the folder holds no database yet. */
export function noDatabaseAt(dir: string): UserError {
  return new UserError(`no database at ${dir}: run an experiment first, or pass --db (a folder, or a postgres:// URL).`);
}

async function migratePglite(pg: PGlite): Promise<void> {
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  await migrate(drizzle({ client: pg }), { migrationsFolder: MIGRATIONS_DIR });
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

/** pg_advisory_lock key that serialises migrations when several processes open one server at once. */
const MIGRATION_LOCK = 0x6d656c61; // 'mela'

async function openPostgres(url: string): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const options = { onnotice: () => {}, connect_timeout: 10, connection: { application_name: 'melanoma' } };

  const migrator = postgres(url, { ...options, max: 1 });
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(drizzle({ client: migrator }), { migrationsFolder: MIGRATIONS_DIR });
  } catch (err) {
    throw new UserError(`cannot open the PostgreSQL database ${redact(url)}: ${(err as Error).message}`);
  } finally {
    await migrator.end({ timeout: 5 }); // also releases the advisory lock (session-level)
  }

  const client: Sql = postgres(url, { ...options, max: 10 });
  // A separate client: drizzle replaces the date parsers of the client it wraps with pass-through ones.
  const raw: Sql = postgres(url, { ...options, max: 2 });
  const db: Db = drizzle({ client, schema });
  return {
    db,
    kind: 'postgres',
    target: url,
    writes: null,
    async query<T>(text: string, params: unknown[] = []) {
      return [...(await raw.unsafe(text, params as never[]))] as T[];
    },
    readOnlyQuery: (text, opts) => rolledBackQuery(raw, text, opts),
    async close() {
      await Promise.all([client.end({ timeout: 5 }), raw.end({ timeout: 5 })]);
    },
  };
}

/** postgres.js runs a parameterless unsafe() with the simple protocol (several statements) unless told not to. */
const EXTENDED_PROTOCOL = { simple: false } as UnsafeQueryOptions;

/**
 * `Database.readOnlyQuery` on a postgres.js client: the transaction always ends with ROLLBACK, or with the end of
 * the connection when the statement ends it (pg_terminate_backend of its own session): then nothing more is sent
 * on it, as postgres.js throws an uncaught error when it writes to a closed connection.
 */
export async function rolledBackQuery(conn: Sql, text: string, opts: { timeoutMs: number; role?: string }): Promise<QueryOutput> {
  const session = await conn.reserve();
  let open = true;
  try {
    await session.unsafe('begin read only');
    await session.unsafe(readOnlySettings(opts.timeoutMs, opts.role));
    // simple: false forces the extended protocol, which runs exactly one statement.
    const result = await session.unsafe(text, [], EXTENDED_PROTOCOL).values();
    if (!Array.isArray(result))
      throw new UserError('the statement returns no rows to print (COPY ... TO STDOUT?); write it as a query, and use --csv for CSV.');
    return { columns: (result.columns ?? []).map((c) => c.name), rows: [...result] as unknown[][] };
  } catch (err) {
    open = !isConnectionLoss(err);
    throw err;
  } finally {
    if (open) await session.unsafe('rollback');
    session.release();
  }
}

/** The server ended the session (its backend, and so the transaction, is gone) or the connection broke. */
function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('CONNECTION_') || code.startsWith('57P') || code.startsWith('08'));
}

function readOnlySettings(timeoutMs: number, role?: string): string {
  const timeout = `set local statement_timeout = ${timeoutMsLiteral(timeoutMs)}`;
  if (role === undefined) return timeout;
  if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new Error(`not a plain role name: ${role}`);
  return `${timeout}; set local role ${role}`;
}

function timeoutMsLiteral(ms: number): number {
  if (!Number.isFinite(ms) || ms < 1) throw new UserError(`the statement timeout must be at least 1 ms (got ${ms}).`);
  return Math.round(ms);
}
