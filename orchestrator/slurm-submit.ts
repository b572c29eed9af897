/**
 * `orchestrate --slurm N [-- sbatch options]`: the study as a Slurm array job of N tasks over one PostgreSQL. The
 * submitting orchestrator checks and stores the experiment with its runs; each array task is then an orchestrator
 * that joins it (--join) on the slots of its own allocation (--gpus slurm, slurm-allocation.ts) and claims runs
 * until none is left. A task that Slurm stops (time limit, preemption, scancel) marks its runs interrupted on
 * SIGTERM, or leaves them to be taken back once their lease expires on SIGKILL; the other tasks, or a later
 * submission of the same script, run them.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellWord } from '../common/command-line.ts';
import { UsageError, UserError } from '../common/errors.ts';
import { parseTarget } from '../db/index.ts';
import { OVERRIDE_FLAGS, type Overrides, overridesIn } from '../study/protocol.ts';
import type { BackendName, ModelName } from '../study/run.ts';
import type { OrchestrateOptions } from './orchestrate.ts';

const ORCHESTRATE_BIN = fileURLToPath(new URL('../bin/orchestrate.mjs', import.meta.url));

/** sbatch options the script sets itself from orchestrate's flags, by every name sbatch knows them by. */
const OWN_OPTIONS: Record<string, string> = {
  '--array': '--slurm N sets the array (one task per index)',
  '-a': '--slurm N sets the array (one task per index)',
  '--wrap': 'the script is the job',
};

/**
 * The sbatch options given after `--`, one #SBATCH line each: an option with its value (`--time=2:00:00`, `-p gpu`,
 * `--time 2:00:00`). Throws a UsageError naming a word that is not an option, holds a space (an #SBATCH line takes
 * words), or sets what the script sets itself.
 */
export function sbatchLines(options: readonly string[]): string[] {
  const lines: string[][] = [];
  for (const word of options) {
    if (word === '' || /\s/.test(word)) throw new UsageError(`sbatch option '${word}' holds a space: the script's #SBATCH lines take one word per value.`);
    const last = lines.at(-1);
    if (word.startsWith('-')) {
      const why = OWN_OPTIONS[word.replace(/=.*/, '')];
      if (why) throw new UsageError(`sbatch option '${word}': ${why}.`);
      lines.push([word]);
    } else if (last?.length === 1 && !last.join('').includes('=')) {
      last.push(word);
    } else {
      throw new UsageError(`'${word}' after -- is not an sbatch option (they start with -, e.g. --time=2:00:00).`);
    }
  }
  return lines.map((l) => l.join(' '));
}

/** Whether the #SBATCH lines set option `long` (`--job-name=x`, `--job-name x`) or its letter `short` (`-J x`, `-Jx`). */
function sets(lines: readonly string[], long: string, short: string): boolean {
  return lines.some((line) => {
    const head = line.replace(/ .*/, '');
    return head === long || head.startsWith(`${long}=`) || (head.startsWith(short) && !head.startsWith('--'));
  });
}

/** What each array task runs: orchestrate joining the stored experiment, with the flags its results depend on. */
export interface TaskCommand {
  /** The PostgreSQL URL, without its password. */
  db: string;
  experiment: string;
  /** Left out: the stored experiment's. */
  protocol?: string;
  models: ModelName[];
  /** The protocol's overrides among the flags (--runs, --epochs, --learning-rate, ...), passed on as given. */
  overrides: Overrides;
  seed: number;
  retries: number;
  backend: BackendName;
  /** Absolute. */
  data: string;
  /** As given (relative ones to `cwd`): the experiment records them so. */
  out: string;
  featureCache?: string | false;
  weights?: string;
  runsPerGpu: number;
  lease?: number;
  verbose?: boolean;
  threadFile?: string;
  pollMs?: number;
}

export function taskArguments(t: TaskCommand): string[] {
  const args = ['--join', '--gpus', 'slurm', '--no-estimate', '--db', t.db, '--experiment', t.experiment];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(flag, String(value));
  };
  add('--protocol', t.protocol);
  add('--models', t.models.join(','));
  for (const [key, flag] of Object.entries(OVERRIDE_FLAGS) as [keyof Overrides, string][]) add(flag, t.overrides[key]);
  add('--seed', t.seed);
  add('--retries', t.retries);
  add('--backend', t.backend);
  add('--data', t.data);
  add('--out', t.out);
  if (t.featureCache === false) args.push('--no-feature-cache');
  else add('--feature-cache', t.featureCache);
  add('--weights', t.weights);
  if (t.runsPerGpu !== 1) add('--runs-per-gpu', t.runsPerGpu);
  add('--lease', t.lease);
  if (t.verbose) args.push('--verbose');
  add('--thread-file', t.threadFile);
  add('--poll-ms', t.pollMs);
  return args;
}

export interface JobScript {
  tasks: number;
  sbatchOptions: readonly string[];
  /** Where the tasks start (the submitting folder). */
  cwd: string;
  /** Folder of the tasks' logs (it must exist when the job starts: sbatch creates no folder). */
  logDir: string;
  task: TaskCommand;
  /** The Node.js binary the tasks run (default: this one). */
  node?: string;
}

/** The sbatch script: the job's name, array and log files, the user's options, then the task's orchestrate command. */
export function sbatchScript(s: JobScript): string {
  const options = sbatchLines(s.sbatchOptions);
  const lines = [
    '#!/bin/bash',
    `# The experiment '${s.task.experiment}' as a Slurm array job, written by orchestrate --slurm: every task is an orchestrator`,
    '# that joins the experiment (stored before submission) and claims its runs until none is left. `sbatch` this file',
    '# again to add tasks. The database password is not written here: the tasks take it from $PGPASSWORD, which sbatch',
    '# passes on from the environment it is run in (orchestrate --slurm sets it from --db).',
  ];
  if (!sets(options, '--job-name', '-J')) lines.push(`#SBATCH --job-name=melanoma-${s.task.experiment.replace(/[^\w.-]+/g, '-')}`);
  lines.push(`#SBATCH --array=0-${s.tasks - 1}`);
  if (!sets(options, '--output', '-o')) lines.push(`#SBATCH --output=${shellWord(join(s.logDir, '%A_%a.log'))}`);
  lines.push(...options.map((o) => `#SBATCH ${o}`));
  lines.push(
    'set -euo pipefail',
    `cd ${shellWord(s.cwd)}`,
    `exec ${shellWord(s.node ?? process.execPath)} ${shellWord(ORCHESTRATE_BIN)} ${flagLines(taskArguments(s.task))}`,
    '',
  );
  return lines.join('\n');
}

/** Flags one per line, each with its value: `--a 1 \\\n  --b`. */
function flagLines(args: readonly string[]): string {
  const lines: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('--') || lines.length === 0) lines.push(shellWord(arg));
    else lines[lines.length - 1] += ` ${shellWord(arg)}`;
  }
  return lines.join(' \\\n  ');
}

/** The URL without its password, and the password (null when it has none). */
export function splitPassword(url: string): { url: string; password: string | null } {
  const u = new URL(url);
  if (!u.password) return { url, password: null };
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.href, password };
}

/** Writes the script into `dir` (mode 0700; the folder holds the tasks' logs too) and returns its path. */
export function writeJobScript(dir: string, script: string): string {
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, 'job.sbatch');
  writeFileSync(path, script);
  chmodSync(path, 0o700);
  return path;
}

/**
 * Runs sbatch on the script: `test` only asks whether the job would be accepted (sbatch --test-only: bad options,
 * an unknown partition, limits), before anything is stored. Returns the job id. `password` reaches the tasks as
 * $PGPASSWORD in the environment sbatch passes on.
 */
export function sbatch(scriptPath: string, o: { test: boolean; password: string | null }): string {
  const env = { ...process.env, ...(o.password === null ? {} : { PGPASSWORD: o.password }) };
  const args = o.test ? ['--test-only', scriptPath] : ['--parsable', scriptPath];
  const r = spawnSync('sbatch', args, { env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UserError(
      missing
        ? '--slurm: sbatch is not on the PATH (run this on a Slurm login node; --dry-run prints the script).'
        : `--slurm: sbatch failed: ${r.error.message}`,
    );
  }
  const said = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().replace(/\s*\n\s*/g, '; ');
  if (r.status !== 0) throw new UserError(`--slurm: sbatch refused ${scriptPath}: ${said || `exit code ${r.status}`}`);
  if (o.test) return '';
  const job = (r.stdout ?? '').trim().replace(/;.*/, ''); // `id;cluster` on a federation
  if (!/^\d+$/.test(job)) throw new UserError(`--slurm: sbatch printed no job id (${said}).`);
  return job;
}

/** The PostgreSQL every task reaches: the URL without its password, and the password. */
export interface SlurmDatabase {
  url: string;
  password: string | null;
}

/**
 * With --slurm: the flags that cannot go with it (each a UsageError) and the database, which must be a PostgreSQL
 * server (resolved as --db, $MELANOMA_DB, $DATABASE_URL). Without --slurm: null, and sbatch options are a UsageError.
 */
export function checkSlurmFlags(o: OrchestrateOptions): SlurmDatabase | null {
  if (o.slurm === undefined) {
    if (o.sbatch?.length) throw new UsageError(`'${o.sbatch[0]}': arguments after -- are sbatch options, for --slurm N.`);
    return null;
  }
  const refuse = (flag: string, why: string) => {
    throw new UsageError(`--slurm with ${flag}: ${why}.`);
  };
  const slots = "each task's slots are its allocation's GPUs, else its CPUs: ask sbatch for them (e.g. -- --gres=gpu:1, or -- --cpus-per-task=4)";
  if (o.gpus !== undefined) refuse('--gpus', slots);
  if (o.workers !== undefined) refuse('--workers', slots);
  if (o.oversubscribe) refuse('--oversubscribe', slots);
  if (o.join) refuse('--join', 'the tasks join the experiment that --slurm stores');
  if (o.json) refuse('--json', 'it prints the job, not the outcome of the runs');
  sbatchLines(o.sbatch ?? []);
  const target = parseTarget(o.db);
  if (target.kind !== 'postgres') {
    throw new UsageError(
      `--slurm needs a PostgreSQL server that every node reaches (--db postgres://user@host/database), not ${target.kind === 'memory' ? 'memory://' : `the PGlite folder ${target.dir}`}.`,
    );
  }
  return splitPassword(target.url);
}

function jobScript(o: OrchestrateOptions, models: ModelName[], dataDir: string, db: SlurmDatabase) {
  const logDir = resolve(o.out, o.experiment, 'slurm');
  const script = sbatchScript({
    tasks: o.slurm!,
    sbatchOptions: o.sbatch ?? [],
    cwd: process.cwd(),
    logDir,
    task: {
      db: db.url,
      experiment: o.experiment,
      protocol: o.protocol,
      models,
      overrides: overridesIn(o),
      seed: o.seed,
      retries: o.retries,
      backend: o.backend,
      data: dataDir,
      out: o.out,
      featureCache: o.featureCache,
      weights: o.weights,
      runsPerGpu: o.runsPerGpu,
      lease: o.lease,
      verbose: o.verbose,
      threadFile: o.threadFile && resolve(o.threadFile),
      pollMs: o.pollMs,
    },
  });
  return { script, logDir };
}

/** The script `--slurm --dry-run` prints. */
export function slurmJobScript(o: OrchestrateOptions, models: ModelName[], dataDir: string, db: SlurmDatabase): string {
  return jobScript(o, models, dataDir, db).script;
}

export interface SlurmSubmission {
  tasks: number;
  /** The script's path. */
  path: string;
  /** The tasks' log files, for messages. */
  logs: string;
  password: string | null;
}

/** Writes the job's script into OUT/<experiment>/slurm/ and asks sbatch whether it would accept it (--test-only). */
export function prepareSlurmJob(o: OrchestrateOptions, models: ModelName[], dataDir: string, db: SlurmDatabase): SlurmSubmission {
  const { script, logDir } = jobScript(o, models, dataDir, db);
  const path = writeJobScript(logDir, script);
  sbatch(path, { test: true, password: db.password });
  return { tasks: o.slurm!, path, logs: join(logDir, '<job>_<task>.log'), password: db.password };
}

/** Submits the prepared job; returns its id. */
export function submitSlurmJob(s: SlurmSubmission): string {
  return sbatch(s.path, { test: false, password: s.password });
}
