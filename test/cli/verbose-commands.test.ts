/**
 * --verbose belongs to exactly the `melanoma` commands that bin/melanoma.mjs runs behind the Dawn filter
 * (FILTERED_COMMANDS): a command in the list that lacked the flag would reject it, one outside the list would take a
 * flag that does nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FILTERED_COMMANDS } from '../../cli/filtered-child.mjs';
import { melanomaProgram } from '../../cli/program.ts';

test('the commands that take --verbose are the filtered ones', () => {
  const commands = melanomaProgram().commands;
  const verbose = commands.filter((command) => command.options.some((option) => option.long === '--verbose')).map((command) => command.name());
  assert.deepEqual(verbose.sort(), [...FILTERED_COMMANDS].sort());
});
