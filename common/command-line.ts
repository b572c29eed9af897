/** This process's command line, as a shell command the user can paste to run it again. */
import { relative } from 'node:path';

/** A word as a POSIX shell reads it back: bare when it holds only safe characters, else single-quoted. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `node <script> <args...>` of this process (script relative to the working folder), with `extra` arguments appended. */
export function thisCommand(extra: string[] = [], argv = process.argv): string {
  const path = argv[1];
  const script = path === undefined ? [] : [relative(process.cwd(), path) || path];
  return ['node', ...script, ...argv.slice(2), ...extra].map(shellWord).join(' ');
}
