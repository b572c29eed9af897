/**
 * `orchestrate` and `melanoma run` fetch missing ImageNet weights on first use, from a local server standing in for
 * the Keras bucket ($MELANOMA_WEIGHTS_URL): a corrupted file or an unreachable server stops them before anything is
 * stored, with one line naming the file, the cache folder and the MobileNetV2 alternative.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PRETRAINED } from '../../study/weights/pretrained.ts';
import { MELANOMA, runCli, tempDir, tinyDataset } from './helpers.ts';
import { closedAddress } from '../helpers/closed-address.ts';

const data = await tinyDataset();
const file = PRETRAINED.xception.file;
const requests: string[] = [];
let server: Server;
let mirror: string;

before(async () => {
  // Serves bytes that are not the Xception weights: the published md5 refuses them.
  const corrupted = Buffer.alloc(50_000, 7);
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'Content-Length': corrupted.length }).end(corrupted);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keras`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function assertOneLineWeightsError(stderr: string, cache: string): void {
  const lines = stderr.trimEnd().split('\n');
  const error = lines[lines.length - 1]!;
  assert.match(error, /^orchestrate: the xception model needs its ImageNet weights /);
  assert.ok(error.includes(`put ${file} in ${cache}`), error);
  assert.ok(error.includes('--models baseline,augmented,mobilenet,mobilenet-ft'), error);
  assert.ok(
    lines.slice(0, -1).every((l) => !l.startsWith('orchestrate:')),
    'the error is one line',
  );
}

test('orchestrate: a corrupted download is refused by the md5, nothing stays in the cache, nothing is stored', async () => {
  const cache = tempDir('weights');
  const db = join(tempDir('db'), 'db');
  const out = join(tempDir('out'), 'runs');
  const r = await runCli(['--data', data, '--db', db, '--out', out, '--models', 'baseline,xception', '--runs', '1', '--backend', 'cpu'], {
    MELANOMA_WEIGHTS: cache,
    MELANOMA_WEIGHTS_URL: mirror,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(requests, [`/keras/${file}`]);
  assert.match(r.stderr, new RegExp(`downloading ${mirror}/${file} to ${join(cache, file)}`));
  assertOneLineWeightsError(r.stderr, cache);
  assert.match(r.stderr, /md5 of the downloaded file is [0-9a-f]{32}, expected b0042744bf5b25fce3cb969f33bebb97/);
  assert.deepEqual(readdirSync(cache), [], 'no .part and no final file');
  assert.ok(!existsSync(db), 'no database created');
  assert.ok(!existsSync(out), 'no run folder created');
});

test('orchestrate offline: an unreachable address fails before storing anything; --dry-run only says it would download', async () => {
  const cache = tempDir('weights');
  const db = join(tempDir('db'), 'db');
  const offline = await closedAddress();
  const env = { MELANOMA_WEIGHTS: cache, MELANOMA_WEIGHTS_URL: `${offline}/` };
  const r = await runCli(['--data', data, '--db', db, '--models', 'baseline,xception', '--runs', '1', '--backend', 'cpu'], env);
  assert.equal(r.code, 1, r.stderr);
  assertOneLineWeightsError(r.stderr, cache);
  assert.ok(r.stderr.includes(`cannot download ${offline}/${file}: fetch failed: connect ECONNREFUSED`), r.stderr);
  assert.ok(!existsSync(db), 'no database created');
  assert.deepEqual(readdirSync(cache), []);

  // --no-estimate: the estimate's calibration (every planned model trained a few steps) is estimate.slow.test.ts's.
  const dry = await runCli(['--dry-run', '--no-estimate', '--json', '--data', data, '--db', db, '--models', 'baseline,xception', '--runs', '1'], env);
  assert.equal(dry.code, 0, dry.stderr);
  const notes = (JSON.parse(dry.stdout) as { notes: string[] }).notes;
  assert.ok(
    notes.some((n) => n.includes(`a real start downloads it from ${offline}/${file} into ${cache}`)),
    notes.join(' | '),
  );
});

test('melanoma run --model xception: the same one-line error, with MobileNetV2 as the alternative; --weights is never downloaded', async () => {
  const cache = tempDir('weights');
  const out = join(tempDir('out'), 'run');
  const env = { MELANOMA_WEIGHTS: cache, MELANOMA_WEIGHTS_URL: await closedAddress() };
  const r = await runCli(
    ['run', '--model', 'xception', '--data', data, '--image-size', '71', '--epochs', '1', '--backend', 'cpu', '--out', out],
    env,
    MELANOMA,
  );
  assert.equal(r.code, 1, r.stderr);
  const error = r.stderr.trimEnd().split('\n').at(-1) ?? '';
  assert.match(error, /^melanoma: the xception model needs its ImageNet weights .* put \S+ in \S+ .*or train mobilenet instead \(--model mobilenet\)\.$/);
  assert.ok(error.includes(`put ${file} in ${cache}`), error);
  assert.ok(!existsSync(out));

  const given = join(cache, 'elsewhere.h5');
  const w = await runCli(
    ['run', '--model', 'xception', '--data', data, '--image-size', '71', '--epochs', '1', '--backend', 'cpu', '--out', out, '--weights', given],
    env,
    MELANOMA,
  );
  assert.equal(w.code, 1, w.stderr);
  assert.doesNotMatch(w.stderr, /downloading/);
  assert.match(w.stderr, new RegExp(`weights ${given} do not exist`));
});
