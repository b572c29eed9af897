// The melanoma commands that may open a WebGPU adapter run the CLI in a child process (bin/melanoma.mjs) whose native
// stderr passes forwardStderr (common/native-stderr.mjs), Dawn's adapter warnings dropped unless verbose. When stderr
// is a terminal, the child gets the terminal too, as an extra fd that becomes its process.stderr: what JavaScript
// writes (progress bars, which need a TTY, included) goes straight there; only what native code writes to fd 2
// passes the filter. Plain JavaScript, as bin/melanoma.mjs loads it before tsx; types in filtered-child.d.mts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { WriteStream } from 'node:tty';
import { forwardStderr } from '../common/native-stderr.mjs';

/** The `melanoma` commands that may open a WebGPU adapter (serve: in its upload-predict thread); they take --verbose. */
export const FILTERED_COMMANDS = ['run', 'predict', 'saliency', 'predictions', 'rescore', 'bench', 'serve'];

/** Set in the child: the fd of the terminal that is its stderr, or 'pipe'. */
const CHILD_STDERR = 'MELANOMA_CHILD_STDERR';
const TERMINAL_FD = 4; // after stdin, stdout, stderr and the IPC channel

/**
 * Runs `node script ...args` so and, once it has exited and its stderr has been passed on, ends this process as it
 * ended: with its exit code, or by the signal that ended it. SIGTERM is passed on; so is SIGINT, unless Ctrl-C at a
 * terminal sent it to the whole foreground process group, the child included.
 */
export async function runFilteredChild(script, args, verbose) {
  const terminal = process.stderr.isTTY === true;
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc', ...(terminal ? [2] : [])],
    env: { ...process.env, [CHILD_STDERR]: terminal ? String(TERMINAL_FD) : 'pipe' },
  });
  const terminate = () => child.kill('SIGTERM');
  const interrupt = () => {
    if (!inTerminalForeground()) child.kill('SIGINT');
  };
  process.on('SIGTERM', terminate);
  process.on('SIGINT', interrupt);
  const [[code, signal]] = await Promise.all([once(child, 'exit'), forwardStderr(child.stderr, process.stderr, verbose)]);
  process.off('SIGTERM', terminate);
  process.off('SIGINT', interrupt);
  if (signal) process.kill(process.pid, signal);
  process.exitCode = code ?? 1;
}

/**
 * In a child of runFilteredChild: makes process.stderr the terminal it was given, if any, and ends this process when
 * its parent is gone. Returns false in any other process.
 */
export function adoptFilteredStderr() {
  const stderr = process.env[CHILD_STDERR];
  if (stderr === undefined) return false;
  delete process.env[CHILD_STDERR]; // not for the processes this one starts
  if (stderr !== 'pipe') Object.defineProperty(process, 'stderr', { value: new WriteStream(Number(stderr)), configurable: true, enumerable: true });
  process.once('disconnect', () => process.exit(1));
  process.channel?.unref(); // after the listener, which refs it
  return true;
}

/** Whether this process is in its terminal's foreground process group (/proc/self/stat: pgrp, tpgid); true without /proc. */
function inTerminalForeground() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const [, , pgrp, , , tpgid] = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return pgrp === tpgid;
  } catch {
    return true;
  }
}
