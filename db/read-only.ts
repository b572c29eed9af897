/**
 * One read-only statement against a database target, with a time limit, for `melanoma sql`. The statement can read
 * the study's tables and views and nothing more, whatever rights the target's user has; its transaction always
 * ends with ROLLBACK.
 *
 * PostgreSQL: the connection's own role must be read-only (db/sql-reader.ts checks it and refuses any other), and
 * the server enforces the time limit (SET LOCAL statement_timeout). PGlite has a single superuser session, so a
 * folder is copied to a temporary folder first and the statement runs there, in a worker thread, under the
 * sandbox of `PGLITE_SANDBOX`; the copy is deleted afterwards, so the folder itself is never opened. PGlite
 * accepts statement_timeout but never fires it (WebAssembly has no timer signal) and runs a query synchronously,
 * blocking its thread; so the worker is terminated when the time is up.
 *
 * A folder held by a running process (the orchestrator, `melanoma serve`) cannot be opened or locked here; when its
 * holder offers an endpoint (db/folder-endpoint.ts), the statement is sent there, and the holder runs it with
 * `runReadOnlyInHeldFolder`: the same copy, sandbox, role, worker and time limit, the copy taken by the holder itself.
 * The holder's own database (a superuser session on the live folder) never runs the statement: it would run in the
 * holder's thread, where PGlite cannot stop it, and with a session that could take its rights back.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../common/errors.ts';
import { type QueryOutput, noDatabaseAt, openDatabase, parseTarget, redact, rolledBackQuery } from './client.ts';
import { findEndpoint, queryThroughEndpoint } from './folder-endpoint.ts';
import { lockFolder } from './folder-lock.ts';
import { copyFolder } from './folder-snapshot.ts';
import { onlyRow } from './sql-helpers.ts';
import { PGLITE_SANDBOX, READER_ROLE, notReadOnlyError, rightsBeyondReading } from './sql-reader.ts';

export interface ReadOnlyRequest {
  target?: string;
  sql: string;
  timeoutMs: number;
}

type WorkerReply = { ok: true; output: QueryOutput } | { ok: false; message: string; code?: string; user: boolean };

export interface ReadOnlyOutput extends QueryOutput {
  /** Set when the folder was held by a running process and the statement ran through it. */
  heldBy?: { pid: number; holder: string };
}

export async function runReadOnly(request: ReadOnlyRequest): Promise<ReadOnlyOutput> {
  refuseTransactionControl(request.sql);
  const target = parseTarget(request.target);
  if (target.kind === 'postgres') return queryAsReader(target.url, request);
  if (target.kind === 'memory') return queryInWorker({ ...request, target: 'memory://' });
  if (!existsSync(join(target.dir, 'PG_VERSION'))) throw noDatabaseAt(target.dir);
  const endpoint = findEndpoint(target.dir);
  if (endpoint) {
    const output = await queryThroughEndpoint(endpoint, request);
    if (output !== 'gone') return { ...output, heldBy: { pid: endpoint.pid, holder: endpoint.holder } };
  }
  return queryInCopy(target.dir, request, { locked: false });
}

/**
 * For the process that holds folder `dir` open, in the thread that runs its PGlite (web/folder-endpoint.ts): the
 * statement, as `runReadOnly` runs it, on a copy of the folder. The copy is synchronous, so no query of this thread's
 * PGlite runs during it: the copy is the folder as a crash would leave it, which opening it recovers (uncommitted
 * work is dropped). The holder's thread is blocked for the copy only; the statement runs in a worker.
 */
export async function runReadOnlyInHeldFolder(dir: string, request: Omit<ReadOnlyRequest, 'target'>, signal?: AbortSignal): Promise<QueryOutput> {
  refuseTransactionControl(request.sql);
  return queryInCopy(dir, request, { locked: true, signal });
}

async function queryInCopy(dir: string, request: Omit<ReadOnlyRequest, 'target'>, o: { locked: boolean; signal?: AbortSignal }): Promise<QueryOutput> {
  const copy = mkdtempSync(join(tmpdir(), 'melanoma-sql-'));
  try {
    const release = o.locked ? () => {} : lockFolder(dir); // nobody writes to the folder while it is copied
    try {
      copyFolder(dir, join(copy, 'db'));
    } finally {
      release();
    }
    return await queryInWorker({ ...request, target: join(copy, 'db') }, o.signal);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

const TRANSACTION_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare']);

/**
 * The statement runs inside a transaction of ours that ends with ROLLBACK; one that would end it (COMMIT ...) is
 * refused before anything runs. A statement's kind is its first keyword, after blanks and comments. PREPARE is
 * refused too, for PREPARE TRANSACTION.
 */
function refuseTransactionControl(sql: string): void {
  const keyword = /^[a-z_]+/i.exec(withoutLeadingComments(sql))?.[0].toLowerCase();
  if (keyword && TRANSACTION_CONTROL.has(keyword)) {
    throw new UserError(
      `melanoma sql runs one query in a read-only transaction of its own that always ends with ROLLBACK; '${keyword.toUpperCase()}' controls transactions and is refused.`,
    );
  }
}

/** The SQL from its first token on: blanks, -- comments and (nested) block comments removed. */
function withoutLeadingComments(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      } while (depth > 0 && i < sql.length);
    } else {
      return sql.slice(i);
    }
  }
}

/** PostgreSQL: connects as the URL's role, refuses unless that role can only read, runs the statement, closes. */
async function queryAsReader(url: string, request: ReadOnlyRequest): Promise<QueryOutput> {
  const { default: postgres } = await import('postgres');
  const conn = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { application_name: 'melanoma sql' } });
  try {
    let role: string;
    let reasons: string[];
    try {
      ({ role } = onlyRow(await conn.unsafe<{ role: string }[]>('select session_user as role'), 'reading the session role'));
      reasons = await rightsBeyondReading(conn);
    } catch (err) {
      throw new UserError(`cannot open the PostgreSQL database ${redact(url)}: ${(err as Error).message}`);
    }
    if (reasons.length > 0) throw notReadOnlyError(url, role, reasons);
    return await rolledBackQuery(conn, request.sql, { timeoutMs: request.timeoutMs });
  } catch (err) {
    throw sqlError(err, request.timeoutMs);
  } finally {
    await conn.end({ timeout: 5 });
  }
}

/** PGlite (a throwaway copy, or memory://): the statement runs in a worker thread, stopped at the time limit. */
async function queryInWorker(request: ReadOnlyRequest, signal?: AbortSignal): Promise<QueryOutput> {
  signal?.throwIfAborted();
  const worker = new Worker(new URL('./read-only-worker.mjs', import.meta.url), { workerData: request });
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  try {
    const reply = await new Promise<WorkerReply | 'timeout'>((resolve, reject) => {
      onAbort = () => reject(new Error('the statement was abandoned by its caller'));
      signal?.addEventListener('abort', onAbort, { once: true });
      // The limit covers the query, not opening the database (which may include crash recovery).
      worker.on('message', (m: WorkerReply | 'opened') => {
        if (m === 'opened') timer = setTimeout(() => resolve('timeout'), request.timeoutMs);
        else resolve(m);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the query worker exited (code ${code}) without an answer`)));
    });
    if (reply === 'timeout') throw timeoutError(request.timeoutMs);
    if (reply.ok) return reply.output;
    throw reply.user ? new UserError(reply.message) : Object.assign(new Error(reply.message), { code: reply.code });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

/** In the worker: opens the PGlite copy, sets up the sandbox, runs the statement as `READER_ROLE`, closes. */
async function queryInSandbox(request: ReadOnlyRequest, onOpen: () => void): Promise<QueryOutput> {
  const database = await openDatabase(request.target, { create: request.target === 'memory://' });
  try {
    for (const statement of PGLITE_SANDBOX) await database.query(statement);
    onOpen();
    return await database.readOnlyQuery(request.sql, { timeoutMs: request.timeoutMs, role: READER_ROLE });
  } catch (err) {
    throw sqlError(err, request.timeoutMs);
  } finally {
    await database.close();
  }
}

function sqlError(err: unknown, timeoutMs: number): unknown {
  if (err instanceof UserError) return err;
  const e = err as { code?: string; message?: string; position?: string | number; hint?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('CONNECTION_')) {
    return new UserError(`the connection to the server ended during the statement (${e.message}), and its transaction with it; nothing was changed.`);
  }
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return err; // not from the server: a bug
  if (e.code === '25006') return new UserError(`the statement tries to write, but queries here are read-only (${e.message}); nothing was changed.`);
  if (e.code === '57014') return timeoutError(timeoutMs);
  if (e.code === '42501')
    return new UserError(`query refused: ${e.message}; melanoma sql statements may only read the study's tables and views, and nothing was changed.`);
  const at = e.position ? ` (at character ${e.position})` : '';
  const hint = e.hint ? `; hint: ${e.hint.replace(/\s*\n\s*/g, ' ')}` : '';
  return new UserError(`query failed: ${e.message}${at}${hint}`);
}

function timeoutError(timeoutMs: number): UserError {
  return new UserError(`the query was cancelled after the ${timeoutMs / 1000} s statement timeout (raise it with --timeout).`);
}

/** Entry of the query worker (read-only-worker.mjs loads TypeScript support, then calls this). */
export async function workerMain(request: ReadOnlyRequest, post: (reply: WorkerReply | 'opened') => void): Promise<void> {
  try {
    post({ ok: true, output: await queryInSandbox(request, () => post('opened')) });
  } catch (err) {
    const e = err as Error & { code?: string };
    post({ ok: false, message: err instanceof UserError ? e.message : String(e?.stack ?? e), code: e?.code, user: err instanceof UserError });
  }
}
