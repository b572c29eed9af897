/**
 * Shared pieces of the orchestrator tests: a tiny dataset, the fake thread, `orchestrate`'s flags, the CLI as a
 * child process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ModelName } from '../../study/run.ts';
import { PROJECT_ROOT } from '../helpers/real-data.ts';

export const FAKE_THREAD = join(import.meta.dirname, 'fixtures', 'fake-thread.mjs');
export const ORCHESTRATE = join(PROJECT_ROOT, 'bin', 'orchestrate.mjs');
export const MELANOMA = join(PROJECT_ROOT, 'bin', 'melanoma.mjs');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `orch-${prefix}-`));
}

/**
 * A dataset folder in the Kaggle layout with 5 tiny JPEGs (8x8, one grey each) per class and split: the fake thread
 * reads none, the orchestrator's preflight decodes them all.
 */
export async function tinyDataset(): Promise<string> {
  const dir = tempDir('data');
  for (const split of ['train', 'test']) {
    for (const cls of ['benign', 'malignant']) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      for (let i = 0; i < 5; i++) {
        const grey = 40 * i;
        await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: grey, g: grey, b: grey } } })
          .jpeg()
          .toFile(join(dir, split, cls, `${i}.jpg`));
      }
    }
  }
  return dir;
}

/** `orchestrate`'s flags by name: an option left out is a flag not given (`out` excepted). */
export interface OrchestrateOptions {
  data: string;
  db: string;
  /** Default: a new temporary folder. */
  out?: string;
  pollMs?: number;
  workers?: number;
  models?: readonly ModelName[];
  runs?: number;
  experiment?: string;
  epochs?: number;
  imageSize?: number;
  /** false: --no-estimate. */
  estimate?: false;
}

/**
 * The argument list of `orchestrate` running the fake thread on the cpu backend with these options; a flag without
 * an option here goes after it.
 */
export function orchestrateArgv(o: OrchestrateOptions): string[] {
  const flags: [string, string | number | undefined][] = [
    ['--data', o.data],
    ['--db', o.db],
    ['--out', o.out ?? tempDir('out')],
    ['--thread-file', FAKE_THREAD],
    ['--backend', 'cpu'],
    ['--poll-ms', o.pollMs],
    ['--workers', o.workers],
    ['--models', o.models?.join(',')],
    ['--runs', o.runs],
    ['--experiment', o.experiment],
    ['--epochs', o.epochs],
    ['--image-size', o.imageSize],
  ];
  const argv = flags.flatMap(([flag, value]) => (value === undefined ? [] : [flag, String(value)]));
  return o.estimate === false ? [...argv, '--no-estimate'] : argv;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `node bin/orchestrate.mjs ...args` (or bin/melanoma.mjs); `done` settles when it exits. */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  bin = ORCHESTRATE,
): { child: ChildProcess; done: Promise<Finished>; stderrSoFar(): string } {
  return startProcess(process.execPath, [bin, ...args], env);
}

/** Starts `command ...args` with `env` added to this process's; `done` settles when it exits. */
export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof startCli> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Finished>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderrSoFar: () => stderr };
}

export const runCli = (args: string[], env: NodeJS.ProcessEnv = {}, bin = ORCHESTRATE) => startCli(args, env, bin).done;

/**
 * The pid of the process that runs the command: for the melanoma commands that bin/melanoma.mjs runs in a child of
 * its own (cli/filtered-child.mjs), that child, e.g. the process that holds a database folder.
 */
export function cliPid(started: ReturnType<typeof startCli>): number {
  try {
    return Number(
      execFileSync('ps', ['-o', 'pid=', '--ppid', String(started.child.pid)], { encoding: 'utf8' })
        .trim()
        .split(/\s+/)[0],
    );
  } catch {
    return started.child.pid!; // ps exits 1 when it lists nothing
  }
}

/** Resolves once `predicate(stderr)` holds, polling every 50 ms; rejects after `ms`. */
export async function waitForStderr(started: ReturnType<typeof startCli>, predicate: (s: string) => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!predicate(started.stderrSoFar())) {
    if (Date.now() > until) throw new Error(`timed out waiting; stderr so far:\n${started.stderrSoFar()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
