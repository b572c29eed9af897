/**
 * Up-front check of a folder a command will create or write into (--out, --db, a cache): a file in the way, or a
 * folder that cannot be written, is a one-line UsageError naming the flag and the value before any work starts.
 */
import { mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.ts';

/**
 * Throws unless `path` is a folder that can be written, or can be created: its nearest existing ancestor must be a
 * folder in which this process can create entries. Checked by creating and removing an empty folder there, since
 * permission bits do not tell (root ignores them, a read-only mount or /proc refuses root too).
 */
export function checkWritableFolder(path: string, flag: string): void {
  const target = resolve(path);
  let existing = target;
  for (;;) {
    const stat = statOrNull(existing);
    if (stat) {
      if (!stat.isDirectory()) {
        const why = existing === target ? 'is a file, not a folder' : `cannot be created: ${existing} is a file`;
        throw new UsageError(`${flag} '${path}' ${why}.`);
      }
      break;
    }
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  try {
    rmdirSync(mkdtempSync(join(existing, '.write-check-')));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const what = existing === target ? 'cannot be written' : `cannot be created: ${existing} cannot be written`;
    throw new UsageError(`${flag} '${path}' ${what} (${code}).`);
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
