/**
 * The flags `orchestrate` and `melanoma run` share are defined once (cli/options.ts): each says the same in both
 * commands' --help and rejects a bad value with the same line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MELANOMA, runCli } from '../orchestrator/helpers.ts';

/** Each option's description in a --help, by flag, with its wrapped lines joined. */
function descriptions(help: string): Map<string, string> {
  const options = help
    .slice(help.indexOf('\nOptions:\n') + '\nOptions:\n'.length)
    .split('\n\n')[0]!
    .split('\n');
  const found = new Map<string, string>();
  let flag = '';
  for (const line of options) {
    const start = /^ {2}(?:-\w, )?(-\S+)(?: <[^>]+>)?\s{2,}(.*)$/.exec(line);
    if (start) {
      flag = start[1]!;
      found.set(flag, start[2]!);
    } else if (flag) {
      found.set(flag, `${found.get(flag)} ${line.trim()}`);
    }
  }
  return found;
}

const SHARED = ['--data', '--epochs', '--image-size', '--batch-size', '--backend', '--weights', '--verbose'];

test('orchestrate and melanoma run describe their shared flags the same way', async () => {
  const [orchestrate, run] = await Promise.all([runCli(['--help']), runCli(['run', '--help'], {}, MELANOMA)]);
  const [a, b] = [descriptions(orchestrate.stdout), descriptions(run.stdout)];
  for (const flag of SHARED) {
    assert.ok(a.get(flag), `orchestrate --help lacks ${flag}`);
    assert.equal(a.get(flag), b.get(flag), flag);
  }
  assert.ok(b.get('--learning-rate') && b.get('--patience') && a.get('--runs'));
});

test('orchestrate and melanoma run reject a bad shared flag with the same line', async () => {
  for (const [flag, value] of [
    ['--epochs', '0'],
    ['--image-size', '4096'],
    ['--batch-size', 'x'],
    ['--backend', 'abacus'],
  ]) {
    const [orchestrate, run] = await Promise.all([runCli([flag!, value!]), runCli(['run', '--model', 'baseline', flag!, value!], {}, MELANOMA)]);
    assert.equal(orchestrate.code, 2, orchestrate.stderr);
    assert.equal(run.code, 2, run.stderr);
    const reason = (stderr: string) => stderr.trim().replace(/^\S+: /, '');
    assert.equal(reason(orchestrate.stderr), reason(run.stderr), flag);
  }
});
