import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UserError } from '../../../common/errors.ts';
import h5wasm from 'h5wasm/node';
import { PRETRAINED, pretrainedUrl, weightsCacheDir } from '../../../study/weights/pretrained.ts';
import { downloadFile, downloadPretrained, ensurePretrained, listCachedWeights } from '../../../study/weights/download.ts';
import { sharedWeightsOrSkip } from '../../helpers/real-data.ts';
import { closedAddress } from '../../helpers/closed-address.ts';

const payload = Buffer.alloc(300_000);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
const md5 = createHash('md5').update(payload).digest('hex');

/** What the server does with the next request. */
const behaviour = { ignoreRange: false, cutAfter: null as number | null, body: payload as Buffer };
const requests: { path: string; range: string | null }[] = [];
let server: Server;
let base: string;
const tmp = mkdtempSync(join(tmpdir(), 'melanoma-download-'));

before(async () => {
  server = createServer((req, res) => {
    const range = req.headers.range ?? null;
    requests.push({ path: req.url ?? '', range });
    if (req.url === '/missing') {
      res.writeHead(404).end();
      return;
    }
    const body = behaviour.body;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    let start = 0;
    if (m && !behaviour.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start });
    } else {
      res.writeHead(200, { 'Content-Length': body.length });
    }
    const rest = body.subarray(start);
    if (behaviour.cutAfter !== null) {
      const cut = behaviour.cutAfter;
      behaviour.cutAfter = null;
      res.write(rest.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

function reset(): void {
  Object.assign(behaviour, { ignoreRange: false, cutAfter: null, body: payload });
  requests.length = 0;
}

test('downloads into the folder, checks the md5, reports progress, and skips a cached file', async () => {
  reset();
  const dest = join(tmp, 'a', 'weights.h5');
  const seen: number[] = [];
  const r = await downloadFile({ url: `${base}/w.h5`, dest, md5, onProgress: (p) => seen.push(p.received) });
  assert.deepEqual(
    { bytes: r.bytes, md5: r.md5, resumedFrom: r.resumedFrom, alreadyCached: r.alreadyCached },
    { bytes: payload.length, md5, resumedFrom: 0, alreadyCached: false },
  );
  assert.deepEqual(readFileSync(dest), payload);
  assert.ok(!existsSync(`${dest}.part`));
  assert.equal(seen[seen.length - 1], payload.length);
  assert.deepEqual(requests, [{ path: '/w.h5', range: null }]);

  const again = await downloadFile({ url: `${base}/w.h5`, dest, md5 });
  assert.equal(again.alreadyCached, true);
  assert.equal(requests.length, 1, 'no second request');
});

test('an interrupted download resumes from the .part file with an HTTP Range request', async () => {
  reset();
  const dest = join(tmp, 'b', 'weights.h5');
  behaviour.cutAfter = 120_000;
  await assert.rejects(downloadFile({ url: `${base}/w.h5`, dest, md5 }), (e: unknown) => e instanceof UserError && /resume/.test(e.message));
  const partial = statSync(`${dest}.part`).size;
  assert.ok(partial > 0 && partial < payload.length, `part file holds ${partial} bytes`);

  const r = await downloadFile({ url: `${base}/w.h5`, dest, md5 });
  assert.equal(r.resumedFrom, partial);
  assert.deepEqual(requests[1], { path: '/w.h5', range: `bytes=${partial}-` });
  assert.deepEqual(readFileSync(dest), payload);
});

test('a server that ignores Range restarts the file; a .part past the end starts over', async () => {
  reset();
  const dest = join(tmp, 'c', 'weights.h5');
  await downloadFile({ url: `${base}/w.h5`, dest: join(tmp, 'c', 'seed.h5'), md5 });
  writeFileSync(`${dest}.part`, payload.subarray(0, 1000));
  behaviour.ignoreRange = true;
  const r = await downloadFile({ url: `${base}/w.h5`, dest, md5 });
  assert.equal(r.resumedFrom, 0);
  assert.deepEqual(readFileSync(dest), payload);

  reset();
  const dest2 = join(tmp, 'c', 'other.h5');
  writeFileSync(`${dest2}.part`, Buffer.concat([payload, Buffer.from('extra')]));
  const r2 = await downloadFile({ url: `${base}/w.h5`, dest: dest2, md5 });
  assert.equal(r2.resumedFrom, 0);
  assert.deepEqual(readFileSync(dest2), payload);
  assert.equal(requests[0]!.range, `bytes=${payload.length + 5}-`);
});

test('an md5 mismatch deletes the part file and fails; HTTP errors fail with the status', async () => {
  reset();
  const dest = join(tmp, 'd', 'weights.h5');
  await assert.rejects(
    downloadFile({ url: `${base}/w.h5`, dest, md5: '0'.repeat(32) }),
    (e: unknown) => e instanceof UserError && e.message.includes(md5) && e.message.includes('0'.repeat(32)),
  );
  assert.ok(!existsSync(dest) && !existsSync(`${dest}.part`));
  await assert.rejects(downloadFile({ url: `${base}/missing`, dest, md5 }), (e: unknown) => e instanceof UserError && /HTTP 404/.test(e.message));
});

test('downloadPretrained: the published file names, --url and md5 overrides, the HDF5 check where no md5 exists', async (t) => {
  reset();
  const dir = join(tmp, 'cache');
  const r = await downloadPretrained('xception', { dir, url: `${base}/x.h5`, md5 });
  assert.equal(r.path, join(dir, PRETRAINED.xception.file));
  assert.equal(PRETRAINED.xception.md5, 'b0042744bf5b25fce3cb969f33bebb97');
  assert.equal(
    PRETRAINED.xception.url,
    'https://storage.googleapis.com/tensorflow/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5',
  );

  // No published md5 for MobileNetV2: random bytes are rejected, a real Keras .h5 is accepted.
  await assert.rejects(downloadPretrained('mobilenet', { dir, url: `${base}/m.h5` }), (e: unknown) => e instanceof UserError && /HDF5/.test(e.message));
  assert.ok(!existsSync(join(dir, `${PRETRAINED.mobilenet.file}.part`)));
  const h5dir = sharedWeightsOrSkip(t, 'mobilenet_v1_025_224_notop_h5');
  if (h5dir) {
    behaviour.body = readFileSync(join(h5dir, 'mobilenet_2_5_224_tf_no_top.h5'));
    const m = await downloadPretrained('mobilenet', { dir, url: `${base}/m.h5` });
    assert.equal(m.bytes, behaviour.body.length);
  }

  const listed = listCachedWeights(dir);
  const x = listed.find((f) => f.model === 'xception');
  assert.deepEqual([x?.name, x?.bytes, x?.partial], [PRETRAINED.xception.file, payload.length, false]);
  assert.ok(
    listed.every((f) => f.model !== null),
    'only known files in this folder',
  );
  assert.equal(weightsCacheDir({ MELANOMA_WEIGHTS: '/srv/w' }), '/srv/w');
  assert.match(weightsCacheDir({}), /\.cache\/melanoma\/weights$/);
});

/** A small Keras HDF5 weight file: one Dense layer, its kernel and bias, laid out as save_weights writes them. */
async function smallKerasH5(path: string): Promise<Buffer> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('layer_names', ['dense']);
  f.create_attribute('keras_version', '2.0.8');
  const group = f.create_group('dense');
  group.create_attribute('weight_names', ['dense/kernel:0', 'dense/bias:0']);
  group.create_group('dense');
  group.create_dataset({ name: 'dense/kernel:0', data: new Float32Array([0.5, -1, 2, 0.25]), shape: [2, 2], dtype: '<f' });
  group.create_dataset({ name: 'dense/bias:0', data: new Float32Array([0.1, -0.1]), shape: [2], dtype: '<f' });
  f.close();
  return readFileSync(path);
}

test('first use downloads the weights from $MELANOMA_WEIGHTS_URL into the cache, verified; later uses find them', async () => {
  reset();
  const h5 = await smallKerasH5(join(tmp, 'small.h5'));
  behaviour.body = h5;
  const h5md5 = createHash('md5').update(h5).digest('hex');
  const cache = join(tmp, 'first-use');
  const env = { MELANOMA_WEIGHTS: cache, MELANOMA_WEIGHTS_URL: `${base}/mirror/` };
  assert.equal(pretrainedUrl('xception', env), `${base}/mirror/${PRETRAINED.xception.file}`);
  assert.equal(pretrainedUrl('xception', {}), PRETRAINED.xception.url);

  const seen: { url: string; dest: string }[] = [];
  let last = 0;
  const got = await ensurePretrained('xception', {
    env,
    md5: h5md5,
    alternative: 'or not',
    onDownload: (url, dest) => seen.push({ url, dest }),
    onProgress: (p) => (last = p.received),
  });
  const dest = join(cache, PRETRAINED.xception.file);
  assert.deepEqual(got.location, { format: 'h5', path: dest });
  assert.deepEqual(seen, [{ url: `${base}/mirror/${PRETRAINED.xception.file}`, dest }]);
  assert.equal(got.download?.md5, h5md5);
  assert.equal(last, h5.length);
  assert.deepEqual(readFileSync(dest), h5);
  assert.deepEqual(readdirSync(cache), [PRETRAINED.xception.file]);
  assert.deepEqual(requests, [{ path: `/mirror/${PRETRAINED.xception.file}`, range: null }]);

  const again = await ensurePretrained('xception', { env, md5: h5md5, alternative: 'or not', onDownload: () => assert.fail('no second download') });
  assert.equal(again.download, null);
  assert.equal(again.location.path, dest);
  assert.equal(requests.length, 1);
});

test('a corrupted download is refused by the hash: one line naming the file, the cache folder and the alternative; nothing stays in the cache', async () => {
  reset();
  const h5 = await smallKerasH5(join(tmp, 'small2.h5'));
  const corrupted = Buffer.from(h5);
  corrupted[corrupted.length >> 1]! ^= 0xff;
  behaviour.body = corrupted;
  const cache = join(tmp, 'corrupted');
  const env = { MELANOMA_WEIGHTS: cache, MELANOMA_WEIGHTS_URL: base };
  const alternative = 'or run the study with MobileNetV2 instead: --models baseline,augmented,mobilenet,mobilenet-ft';
  await assert.rejects(ensurePretrained('xception', { env, md5: createHash('md5').update(h5).digest('hex'), alternative }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.doesNotMatch(e.message, /\n/);
    assert.ok(e.message.includes(`put ${PRETRAINED.xception.file} in ${cache}`), e.message);
    assert.match(e.message, /md5 of the downloaded file is/);
    assert.ok(e.message.endsWith(`${alternative}.`), e.message);
    return true;
  });
  assert.deepEqual(existsSync(cache) ? readdirSync(cache) : [], [], 'no .part and no final file');
  assert.equal(requests.length, 1);
});

test('offline: an unreachable mirror fails with the one-line error; an interrupted download resumes on the next use', async () => {
  reset();
  const cache = join(tmp, 'offline');
  const alternative = 'or leave it';
  const offline = await closedAddress();
  await assert.rejects(
    ensurePretrained('xception', { env: { MELANOMA_WEIGHTS: cache, MELANOMA_WEIGHTS_URL: offline }, alternative }),
    (e: unknown) =>
      e instanceof UserError &&
      !e.message.includes('\n') &&
      e.message.includes(`cannot download ${offline}/${PRETRAINED.xception.file}: fetch failed: connect ECONNREFUSED`) &&
      e.message.includes(`put ${PRETRAINED.xception.file} in ${cache}`) &&
      e.message.endsWith(`${alternative}.`),
  );
  assert.deepEqual(existsSync(cache) ? readdirSync(cache) : [], []);

  const env = { MELANOMA_WEIGHTS: cache, MELANOMA_WEIGHTS_URL: base };
  behaviour.cutAfter = 100_000;
  await assert.rejects(
    ensurePretrained('xception', { env, md5, alternative }),
    (e: unknown) => e instanceof UserError && /broke off after \d+ bytes.*run the command again to resume/.test(e.message),
  );
  const partial = statSync(join(cache, `${PRETRAINED.xception.file}.part`)).size;
  assert.ok(partial > 0 && partial < payload.length);
  const got = await ensurePretrained('xception', { env, md5, alternative });
  assert.equal(got.download?.resumedFrom, partial);
  assert.deepEqual(readFileSync(got.location.path), payload);
  assert.deepEqual(readdirSync(cache), [PRETRAINED.xception.file]);
});

test('--weights is used as given: never downloaded, its error names the alternative', async () => {
  reset();
  const env = { MELANOMA_WEIGHTS: join(tmp, 'unused'), MELANOMA_WEIGHTS_URL: base };
  await assert.rejects(
    ensurePretrained('xception', { weights: join(tmp, 'nowhere'), env, alternative: 'or something else' }),
    (e: unknown) => e instanceof UserError && e.message.includes(join(tmp, 'nowhere')) && e.message.endsWith('or something else.'),
  );
  assert.equal(requests.length, 0);
  const file = join(tmp, 'given.h5');
  writeFileSync(file, payload);
  assert.deepEqual((await ensurePretrained('xception', { weights: file, env, alternative: '' })).location, { format: 'h5', path: file });
});
