/**
 * Every command's --help ends with an 'Examples:' block whose lines run that very command with flags it has:
 * the whole `melanoma` tree in-process, and `orchestrate` as a user runs it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { melanomaProgram } from '../../cli/program.ts';
import { PROJECT_ROOT } from '../helpers/real-data.ts';

/** The text after 'Examples:' in a help output, one example a line (comments after '#' dropped), or null. */
function examplesOf(help: string): string[] | null {
  const at = help.indexOf('\nExamples:\n');
  if (at < 0) return null;
  return help
    .slice(at + '\nExamples:\n'.length)
    .split('\n')
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => l.trim().replace(/\s+#.*$/, ''));
}

/**
 * The flags an example passes to `path` (a line that runs another command, or the same one through a pipe, counts up
 * to there; so does one that passes the words after `--` on, as orchestrate --slurm gives them to sbatch).
 */
function flagsFor(example: string, path: string): string[] | null {
  const words = example.replace(/^([A-Z_]+=\S+\s+)+/, '').split(/\s+/);
  if (words.slice(0, path.split(' ').length).join(' ') !== path) return null;
  const end = words.findIndex((w) => w === '|' || w === '>' || w === '&&' || w === '--');
  return (end < 0 ? words : words.slice(0, end)).filter((w) => w.startsWith('-'));
}

function helpOf(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

function allCommands(cmd: Command, parents: string[] = []): { path: string; cmd: Command }[] {
  const path = [...parents, cmd.name()];
  return [{ path: path.join(' '), cmd }, ...cmd.commands.flatMap((c) => allCommands(c, path))];
}

test('melanoma: every command and subcommand has an Examples block that runs it with its own flags', () => {
  const commands = allCommands(melanomaProgram());
  assert.ok(commands.length >= 20, `only ${commands.length} commands`);
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const { path, cmd } of commands) {
    const examples = examplesOf(helpOf(cmd));
    if (examples === null || examples.length === 0) {
      missing.push(path);
      continue;
    }
    const own = examples.map((e) => [e, flagsFor(e, path)] as const).filter(([, flags]) => flags !== null);
    if (own.length === 0) wrong.push(`${path}: no example runs \`${path}\``);
    const known = new Set(cmd.options.flatMap((o) => [o.long, o.short]).concat(['-h', '--help', '-V', '--version']));
    for (const [example, flags] of own) {
      for (const flag of flags ?? []) if (cmd.commands.length === 0 && !known.has(flag.replace(/=.*$/, ''))) wrong.push(`${path}: ${flag} in \`${example}\``);
    }
  }
  assert.deepEqual(missing, [], 'commands without examples');
  assert.deepEqual(wrong, []);
});

test('orchestrate --help ends with examples that use its own flags; so does a subcommand as the CLI prints it', () => {
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'orchestrate.mjs'), '--help'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const examples = examplesOf(r.stdout);
  assert.ok(examples && examples.length >= 3, r.stdout);
  const known = new Set([...r.stdout.slice(0, r.stdout.indexOf('\nExamples:')).matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
  for (const example of examples) {
    const flags = flagsFor(example, 'orchestrate');
    assert.ok(flags !== null, example);
    for (const flag of flags) assert.ok(known.has(flag), `${flag} in \`${example}\` is not an orchestrate flag`);
  }

  const sub = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), 'weights', 'download', '--help'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(sub.status, 0, sub.stderr);
  assert.ok(examplesOf(sub.stdout)?.includes('melanoma weights download xception'), sub.stdout);
});
