/**
 * One read-only statement against a database target, with a time limit, for `melanoma sql`.
 *
 * PostgreSQL enforces the limit itself (SET LOCAL statement_timeout). PGlite accepts the setting but never fires
 * it (WebAssembly has no timer signal) and runs a query synchronously, blocking its thread; so for PGlite the query
 * runs in a worker thread, which is terminated when the time is up. The statement was read-only, so the folder
 * only needs Postgres' normal crash recovery on its next open; its lock file is removed here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../common/errors.ts';
import { type QueryOutput, noDatabaseAt, openDatabase, parseTarget } from './client.ts';
import { LOCK_FILE, removeIfOurs } from './folder-lock.ts';

export interface ReadOnlyRequest {
  target?: string;
  sql: string;
  timeoutMs: number;
}

type WorkerReply = { ok: true; output: QueryOutput } | { ok: false; message: string; code?: string; user: boolean };

export async function runReadOnly(request: ReadOnlyRequest): Promise<QueryOutput> {
  const target = parseTarget(request.target);
  if (target.kind === 'postgres') return queryIn(request);
  if (target.kind === 'folder' && !existsSync(join(target.dir, 'PG_VERSION'))) throw noDatabaseAt(target.dir); // fail before starting a worker
  const worker = new Worker(new URL('./read-only-worker.mjs', import.meta.url), { workerData: request });
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = await new Promise<WorkerReply | 'timeout'>((resolve, reject) => {
      // The limit covers the query, not opening the database (which may include crash recovery).
      worker.on('message', (m: WorkerReply | 'opened') => {
        if (m === 'opened') timer = setTimeout(() => resolve('timeout'), request.timeoutMs);
        else resolve(m);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the query worker exited (code ${code}) without an answer`)));
    });
    if (reply === 'timeout') {
      await worker.terminate();
      if (target.kind === 'folder') removeIfOurs(join(target.dir, LOCK_FILE));
      throw timeoutError(request.timeoutMs);
    }
    if (reply.ok) return reply.output;
    throw reply.user ? new UserError(reply.message) : Object.assign(new Error(reply.message), { code: reply.code });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** Opens the target (never creating it), runs the statement, closes. Errors from the SQL become UserErrors. */
async function queryIn(request: ReadOnlyRequest, onOpen = () => {}): Promise<QueryOutput> {
  const database = await openDatabase(request.target, { create: false });
  try {
    onOpen();
    return await database.readOnlyQuery(request.sql, { timeoutMs: request.timeoutMs });
  } catch (err) {
    throw sqlError(err, request.timeoutMs);
  } finally {
    await database.close();
  }
}

function sqlError(err: unknown, timeoutMs: number): unknown {
  if (err instanceof UserError) return err;
  const e = err as { code?: string; message?: string; position?: string | number; hint?: string };
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return err; // not from the server: a bug
  if (e.code === '25006') return new UserError(`the statement tries to write, but queries here are read-only (${e.message}); nothing was changed.`);
  if (e.code === '57014') return timeoutError(timeoutMs);
  const at = e.position ? ` (at character ${e.position})` : '';
  const hint = e.hint ? `\nhint: ${e.hint}` : '';
  return new UserError(`query failed: ${e.message}${at}${hint}`);
}

function timeoutError(timeoutMs: number): UserError {
  return new UserError(`the query was cancelled after the ${timeoutMs / 1000} s statement timeout (raise it with --timeout).`);
}

/** Entry of the query worker (read-only-worker.mjs loads TypeScript support, then calls this). */
export async function workerMain(request: ReadOnlyRequest, post: (reply: WorkerReply | 'opened') => void): Promise<void> {
  try {
    post({ ok: true, output: await queryIn(request, () => post('opened')) });
  } catch (err) {
    const e = err as Error & { code?: string };
    post({ ok: false, message: err instanceof UserError ? e.message : String(e?.stack ?? e), code: e?.code, user: err instanceof UserError });
  }
}
