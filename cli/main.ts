/**
 * Runs a commander program the same way for both CLIs: usage errors exit 2 with commander's message, a
 * UserError prints its message alone (no stack trace) and exits with its code, anything else is a bug and
 * prints its stack.
 */
import { type Command, CommanderError } from 'commander';
import { UserError } from '../common/errors.ts';

export async function runProgram(program: Command, argv = process.argv): Promise<void> {
  applyExitOverride(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err, program);
  }
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  // A usage error is one line: commander's message with the pointer to --help on the same line.
  cmd.configureOutput({ outputError: (str, write) => write(`${str.trimEnd()} (add --help for usage)\n`) });
  for (const sub of cmd.commands) applyExitOverride(sub);
}

function exitCodeFor(err: unknown, program: Command): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
    return 2; // commander has already printed the message
  }
  if (err instanceof UserError) {
    process.stderr.write(`${program.name()}: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`${program.name()}: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  return 1;
}
