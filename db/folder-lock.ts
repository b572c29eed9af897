/**
 * One process per PGlite folder. PGlite itself does not lock its data folder: a second process opening it runs a
 * second Postgres over the same files and corrupts them. The lock is a file in the folder, created exclusively,
 * holding the owner's pid and host; a lock left by a process that no longer runs (same host) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../common/errors.ts';

export const LOCK_FILE = 'melanoma.lock';

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Folders this thread holds. */
const held = new Set<string>();

/** Takes the folder's lock or throws a UserError naming the process that holds it. Returns the release function. */
export function lockFolder(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  if (held.has(dir)) {
    throw new UserError(
      `the database folder ${dir} is already open in this process; PGlite has a single connection per folder, so share the open database instead of opening it again.`,
    );
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    try {
      writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(file);
      if (owner === 'missing') continue; // released between our two calls
      if (owner && owner.host === me.host && !isAlive(owner.pid)) {
        rmSync(file, { force: true }); // stale: its process is gone
        continue;
      }
      throw new UserError(inUseMessage(dir, file, owner));
    }
    held.add(dir);
    const onExit = () => removeIfOurs(file);
    process.once('exit', onExit);
    return () => {
      if (!held.delete(dir)) return;
      process.removeListener('exit', onExit);
      removeIfOurs(file);
    };
  }
  throw new UserError(`could not lock the database folder ${dir}: its lock file ${file} keeps changing; is another process opening it?`);
}

/** Removes the lock file if it names this process (e.g. after a worker thread holding it was terminated). */
export function removeIfOurs(file: string): void {
  const owner = readOwner(file);
  if (owner && owner !== 'missing' && owner.pid === process.pid && owner.host === hostname()) rmSync(file, { force: true });
}

/** The process holding the folder's lock when it is alive on this host; null when none does. */
export function liveLockOwner(dir: string): LockOwner | null {
  const owner = readOwner(join(dir, LOCK_FILE));
  return owner && owner !== 'missing' && owner.host === hostname() && isAlive(owner.pid) ? owner : null;
}

function readOwner(file: string): LockOwner | null | 'missing' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? { pid: o.pid, host: o.host, since: String(o.since) } : null;
  } catch {
    return null; // being written right now, or damaged: treat as held
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

function inUseMessage(dir: string, file: string, owner: LockOwner | null): string {
  const who = owner
    ? `process ${owner.pid}${owner.pid === process.pid ? ' (this process, another thread)' : ''} on ${owner.host} since ${owner.since}`
    : 'another process';
  return (
    `the database folder ${dir} is in use by ${who}. A PGlite folder can be open in only one process at a time: ` +
    `wait for that process to finish (or stop it), or let several processes share a PostgreSQL server ` +
    `(--db postgres://... or DATABASE_URL). If no such process exists any more, delete ${file}.`
  );
}
