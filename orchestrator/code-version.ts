/** The commit the code runs from, stored with each experiment; a tree with uncommitted changes is marked `-dirty`. */
import { execFileSync } from 'node:child_process';

/** `abc1234` or `abc1234-dirty`; null outside a git checkout (an installed copy). Tags are ignored. */
export function codeVersion(dir: string = import.meta.dirname): string | null {
  try {
    const args = ['describe', '--always', '--dirty', '--abbrev=7', '--exclude', '*'];
    return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}
