/**
 * Reading a PGlite folder that a running process holds (the orchestrator, `melanoma serve`). A PGlite folder admits
 * one process, so the commands that only read it (summary, report, export, predict, saliency, data duplicates) open
 * `openDatabaseToRead`: on a held folder whose holder offers an endpoint (db/folder-endpoint.ts), the holder copies the
 * folder, as `runReadOnlyInHeldFolder` does (crash-consistent, its own thread blocked for the copy only), into a new
 * private folder in the reader's temporary folder, and the reader opens that copy and deletes it when it closes the
 * database, when opening fails, and when the process exits or is stopped by a signal. The reader checks the path the
 * holder answers before it opens or deletes it: a folder of this user's, directly in the temporary folder, named as
 * ours, readable by its owner only, not a link; so nothing the endpoint answers makes it delete another folder.
 * Commands that write keep `openDatabase` and its refusal of a held folder.
 */
import { cpSync, existsSync, lstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../common/errors.ts';
import { type Database, openDatabase, parseTarget } from './client.ts';
import { findEndpoint, isEndpointFile, requestSnapshot } from './folder-endpoint.ts';
import { LOCK_FILE } from './folder-lock.ts';

const SNAPSHOT_PREFIX = 'melanoma-snapshot-';
/** mkdtemp's six random characters after the prefix. */
const SNAPSHOT_NAME = /^melanoma-snapshot-[A-Za-z0-9]{6}$/;

/**
 * Copies PGlite folder `dir` to `dest` (which must not exist), without our own files in it (the lock, the endpoint
 * file). Synchronous: in the process that holds the folder, no query of its PGlite runs meanwhile, so the copy is the
 * folder as a crash would leave it, which opening it recovers. A process that does not hold it locks it around this.
 */
export function copyFolder(dir: string, dest: string): void {
  const ours = (path: string) => path === join(dir, LOCK_FILE) || (dirname(path) === dir && isEndpointFile(basename(path)));
  cpSync(dir, dest, { recursive: true, filter: (path) => !ours(path) });
}

/**
 * For the process that holds folder `dir`, in the thread that runs its PGlite (web/folder-endpoint.ts): a copy of it
 * in `<folder>/db`, `<folder>` a new folder (mode 0700) in `into`, which must be an existing folder. Returns `<folder>`;
 * the reader deletes it.
 */
export function takeSnapshot(dir: string, into: string): string {
  if (!isAbsolute(into) || !statSync(into, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UserError(`a snapshot goes into an existing folder given by its absolute path, not '${into}'.`);
  }
  const folder = mkdtempSync(join(into, SNAPSHOT_PREFIX));
  try {
    copyFolder(dir, join(folder, 'db'));
  } catch (err) {
    rmSync(folder, { recursive: true, force: true });
    throw new UserError(`could not copy the database folder into ${folder}: ${(err as Error).message}`);
  }
  return folder;
}

/**
 * `path` when it is a snapshot folder this process may open and delete: a folder (not a link) directly in `tmp`,
 * named as `takeSnapshot` names it, owned by this user and closed to everyone else. Throws a UserError otherwise.
 */
export function checkSnapshotPath(path: unknown, tmp = tmpdir()): string {
  const refuse = (why: string) =>
    new UserError(`the process that holds the folder answered ${JSON.stringify(path)} as its copy, which ${why}; it was not opened.`);
  if (typeof path !== 'string' || !isAbsolute(path) || resolve(path) !== path) throw refuse('is not a plain absolute path');
  if (dirname(path) !== resolve(tmp) || !SNAPSHOT_NAME.test(basename(path))) throw refuse(`is not a snapshot folder directly in ${resolve(tmp)}`);
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw refuse('is not a folder');
  if (stat.uid !== process.getuid?.()) throw refuse('belongs to another user');
  if ((stat.mode & 0o077) !== 0) throw refuse('others may read or write');
  return path;
}

/**
 * Opens the database for a command that only reads it (`command` names it in messages, e.g. 'melanoma summary'),
 * as `openDatabase(target, { create: false })` does, except that a PGlite folder held by a running process with an
 * endpoint is read through a snapshot (above), said on stderr in one line. The database's `target` is the folder.
 */
export async function openDatabaseToRead(target: string | undefined, command: string): Promise<Database> {
  const t = parseTarget(target);
  const endpoint = t.kind === 'folder' && existsSync(join(t.dir, 'PG_VERSION')) ? findEndpoint(t.dir) : null;
  if (!endpoint) return openDatabase(target, { create: false });
  const answer = await requestSnapshot(endpoint, tmpdir());
  if (answer === 'gone') return openDatabase(target, { create: false });
  const folder = checkSnapshotPath(answer);
  const remove = removedOnExit(folder);
  try {
    process.stderr.write(`${command}: the database folder is held by the running ${endpoint.holder} (pid ${endpoint.pid}); reading a copy of it taken now.\n`);
    const database = await openDatabase(join(folder, 'db'), { create: false });
    return {
      ...database,
      target: t.kind === 'folder' ? t.dir : database.target,
      async close() {
        try {
          await database.close();
        } finally {
          remove();
        }
      },
    };
  } catch (err) {
    remove();
    throw err;
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Deletes `folder` at exit or on a stop signal (then the signal is raised again, unless another listener takes it),
 * or when the returned function is called.
 */
function removedOnExit(folder: string): () => void {
  const remove = () => {
    process.removeListener('exit', remove);
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    rmSync(folder, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once('exit', remove);
  for (const signal of SIGNALS) process.once(signal, onSignal);
  return remove;
}
