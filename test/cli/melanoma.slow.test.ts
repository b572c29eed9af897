import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { melanomaProgram } from '../../cli/program.ts';
import { PROJECT_ROOT } from '../helpers/real-data.ts';

function cli(bin: 'melanoma' | 'orchestrate', args: string[]) {
  return spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', `${bin}.mjs`), ...args], { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 60_000 });
}

test('--help works on the program and every subcommand', () => {
  const top = cli('melanoma', ['--help']);
  assert.equal(top.status, 0);
  // The subcommands' help as the same program prints it, in this process (help-examples.test.ts runs
  // `orchestrate --help` and a subcommand's --help as the CLI prints them).
  const program = melanomaProgram();
  for (const sub of ['run', 'data', 'models', 'weights', 'bench', 'sql', 'serve']) {
    assert.match(top.stdout, new RegExp(`\\b${sub}\\b`), `melanoma --help lists ${sub}`);
    const command = program.commands.find((c) => c.name() === sub);
    assert.ok(command, sub);
    assert.match(command.helpInformation(), /^Usage: melanoma /, `${sub} --help`);
  }
});

test('usage errors name the flag and the value and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['run', '--model', 'resnet', '--data', '.'], /--model.*'resnet' is not one of baseline/s],
    [['run', '--model', 'baseline', '--epochs', 'ten'], /--epochs.*'ten' is not a positive integer/s],
    [['run', '--model', 'baseline', '--backend', 'tpu'], /--backend.*'tpu'/s],
    [['run', '--model', 'baseline', '--learning-rate', '-1'], /--learning-rate.*'-1'/s],
    [['run', '--model', 'baseline', '--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const r = cli('melanoma', args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('a run on a broken dataset fails with a message naming the path, never a stack trace', async () => {
  const root = mkdtempSync(join(tmpdir(), 'melanoma-broken-'));
  const jpeg = await sharp({ create: { width: 50, height: 50, channels: 3, background: { r: 200, g: 120, b: 90 } } })
    .jpeg()
    .toBuffer();
  const put = (rel: string, bytes: Buffer | string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  };
  const run = () =>
    cli('melanoma', ['run', '--model', 'baseline', '--data', root, '--image-size', '46', '--epochs', '1', '--backend', 'cpu', '--out', join(root, 'out')]);
  try {
    for (let i = 1; i <= 5; i++) for (const cls of ['benign', 'malignant']) put(`train/${cls}/${i}.jpg`, jpeg);
    let r = run();
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${escapeRegExp(join(root, 'test'))}\\b`), 'names the missing test/ folder');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

    for (const cls of ['benign', 'malignant']) put(`test/${cls}/1.jpg`, jpeg);
    put('train/benign/3.jpg', jpeg.subarray(0, 200)); // truncated
    r = run();
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(escapeRegExp(join(root, 'train', 'benign', '3.jpg'))), 'names the corrupt file');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

function escapeRegExp(s: string): string {
  return s.replace(/[/.\\^$*+?()[\]{}|-]/g, '\\$&');
}

test('the baseline needs 46 px: a smaller image size is a clear error', () => {
  const r = cli('melanoma', ['models', 'summary', '--model', 'baseline', '--image-size', '45']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /46/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
