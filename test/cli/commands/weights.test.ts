import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PRETRAINED } from '../../../study/weights/pretrained.ts';
import { PROJECT_ROOT, sharedWeightsOrSkip } from '../../helpers/real-data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'melanoma-weights-cli-'));
let body = Buffer.from('not the Xception weights');
let server: Server;
let url: string;

function melanoma(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), ...args],
      { env: { ...process.env, MELANOMA_WEIGHTS: tmp } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

before(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.h5`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

test('weights download xception rejects a file whose md5 is not the published one', async () => {
  const r = await melanoma('weights', 'download', 'xception', '--url', url);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /md5 of the downloaded file is [0-9a-f]{32}, expected b0042744bf5b25fce3cb969f33bebb97/);
  assert.ok(!existsSync(join(tmp, `${PRETRAINED.xception.file}.part`)));
});

test('weights download mobilenet (no published md5) accepts a Keras .h5, with plain progress lines; list shows it', async (t) => {
  const dir = sharedWeightsOrSkip(t, 'mobilenet_v1_025_224_notop_h5');
  if (!dir) return;
  body = readFileSync(join(dir, 'mobilenet_2_5_224_tf_no_top.h5'));
  const out = join(tmp, 'custom');
  const r = await melanoma('weights', 'download', 'mobilenet', '--dir', out, '--url', url);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /2\.1 MB \(100%\)/);
  assert.match(r.stdout, /checked that it opens as Keras HDF5/);
  assert.deepEqual(readFileSync(join(out, PRETRAINED.mobilenet.file)), body);

  const list = await melanoma('weights', 'list', '--dir', out, '--json');
  assert.equal(list.code, 0, list.stderr);
  const parsed = JSON.parse(list.stdout) as { dir: string; files: { model: string }[]; models: { model: string; path: string | null }[] };
  assert.equal(parsed.dir, out);
  assert.deepEqual(
    parsed.files.map((f) => f.model),
    ['mobilenet'],
  );
  assert.equal(parsed.models.find((m) => m.model === 'mobilenet')?.path, join(out, PRETRAINED.mobilenet.file));
  assert.equal(parsed.models.find((m) => m.model === 'xception')?.path, null);
});

test('an unknown model name is a usage error', async () => {
  const r = await melanoma('weights', 'download', 'resnet');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /'resnet' is not one of xception, mobilenet/);
});
