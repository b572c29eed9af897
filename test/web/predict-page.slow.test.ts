/**
 * The predict page in headless Chromium on a small trained experiment: an uploaded test image shows with its
 * ensemble probability (the mean of what its runs stored for it), the calls and each run; a run's Grad-CAM shows on
 * demand, there and on the run page's misclassified tiles. The upload is limited in size and type, answered to this
 * machine only, written nowhere, and the page's process never loads tfjs (the models run in a worker thread).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { openDatabase, runPredictions, type Database } from '../../db/index.ts';
import { isLoopback } from '../../web/predict-api.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { hasRealData } from '../helpers/real-data.ts';
import { trainedExperiment, type TrainedExperiment } from '../helpers/trained-experiment.ts';
import { CHROMIUM, hasChromium, launchBrowser, openPage, screenshot } from './browser.ts';

const skip = !hasChromium() ? `SKIPPED: the page tests need Chromium at ${CHROMIUM}` : !hasRealData() ? 'SKIPPED: needs the real dataset in ../shared' : false;
if (skip) process.stderr.write(`\n*** ${skip} ***\n`);

const IMAGE = 'test/malignant/1.jpg';
let x: TrainedExperiment;
let db: Database;
let server: RunningServer;
let browser: Browser;

/** Every file under `dir`, relative, sorted. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

before(async () => {
  if (skip) return;
  x = (await trainedExperiment(null))!;
  db = await openDatabase(x.db, { create: false });
  server = await startServer({ db, port: 0, dataDir: x.data });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await db?.close();
  x?.remove();
});

describe('the predict page', { skip }, () => {
  test('an uploaded image shows with its ensemble probability, the calls, each run, and where a run looks', async () => {
    const files = listing(x.data);
    const stored = await Promise.all([1, 2].map((run) => runPredictions(db, run, 'test')));
    const mean = stored.map((rows) => rows.find((r) => r.image === IMAGE)!.probability).reduce((a, b) => a + b) / 2;

    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}/predict?experiment=1`);
    await page.waitForSelector('#experiment option[value="1"]', { state: 'attached' });
    await page.waitForSelector('#model option[value="baseline"]', { state: 'attached' });
    await page.setInputFiles('#image', join(x.data, IMAGE));
    await page.click('#predict-button');
    await page.waitForSelector('#ensemble-p', { timeout: 60_000 });
    assert.equal(await page.textContent('#ensemble-p'), mean.toFixed(4), 'the mean of the probabilities the runs stored');
    assert.ok(await page.$eval('#uploaded', (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth === 224), 'the image shows');
    assert.equal(await page.$$eval('#calls-table tbody tr', (rows) => rows.length), 6, 'at 0.5 and the five operating points');
    assert.deepEqual(await page.$$eval('#runs-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-run'))), ['1', '2']);

    await page.click('#runs-table tr[data-run="1"] button.saliency');
    await page.waitForSelector('figure.saliency-map[data-run="1"] img', { timeout: 60_000 });
    await page.waitForFunction(() => (document.querySelector('figure.saliency-map img') as HTMLImageElement | null)?.naturalWidth === 224);
    assert.match((await page.textContent('figure.saliency-map figcaption'))!, /Grad-CAM of separable_conv2d_3/);
    await screenshot(page, 'predict');
    assert.deepEqual(problems, []);
    await page.close();
    assert.deepEqual(listing(x.data), files, 'nothing written into the data folder');
    assert.equal((globalThis as { _tfengine?: unknown })._tfengine, undefined, "no tfjs in the page's process");
  });

  test("the run page's misclassified tiles show the run's Grad-CAM on demand", async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}/runs/1`);
    await page.waitForSelector('.error-tile button.saliency', { timeout: 20_000 });
    await page.click('.error-tile button.saliency');
    await page.waitForFunction(() => document.querySelector('.error-tile img')?.getAttribute('src')?.startsWith('blob:'), undefined, { timeout: 60_000 });
    assert.match((await page.textContent('.error-tile button.saliency'))!, /Grad-CAM of separable_conv2d_3/);
    await screenshot(page, 'run-saliency');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('uploads: type, size and image checked, one line each; unknown experiment 404; POST elsewhere 405', async () => {
    const post = (path: string, body: Uint8Array | string, type: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
        headers: { 'content-type': type },
      });
    const tiny = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#884444' } })
      .png()
      .toBuffer();
    const cases: [Response, number, RegExp][] = [
      [await post('/api/experiments/1/predict', 'hello', 'text/plain'), 415, /must be an image sent as image\/jpeg/],
      [await post('/api/experiments/1/predict', new Uint8Array(10 * 2 ** 20 + 1), 'image/jpeg'), 413, /over the 10 MB/],
      [await post('/api/experiments/1/predict', 'hello', 'image/png'), 400, /the uploaded image is not an image that can be read/],
      [await post('/api/experiments/1/predict', tiny, 'image/png'), 400, /the uploaded image is 40x40 px: the runs take 48x48/],
      [await post('/api/experiments/1/predict?model=augmented', tiny, 'image/png'), 400, /no completed run of augmented/],
      [await post('/api/experiments/1/predict?tta=0', tiny, 'image/png'), 400, /query parameter 'tta' must be an integer from 1 to 64/],
      [await post('/api/experiments/9/predict', tiny, 'image/png'), 404, /experiment '9' not found/],
      [await post('/api/runs/1/saliency', tiny, 'image/png'), 400, /40x40 px/],
      [await post('/api/experiments/1/summary', tiny, 'image/png'), 405, /read-only/],
    ];
    for (const [res, status, message] of cases) {
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, status, body.error);
      assert.match(body.error, message);
      assert.ok(!body.error.includes('\n'), 'one line');
    }
    const ok = await post('/api/experiments/1/predict?tta=3', readFileSync(join(x.data, IMAGE)), 'image/jpeg');
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { tta: number }).tta, 3);
  });

  test('only this machine is answered', async (t) => {
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1'));
    assert.ok(!isLoopback('10.0.0.2') && !isLoopback('::ffff:192.168.1.4') && !isLoopback(undefined));
    const address = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!address) return t.skip('this machine has no address besides loopback');
    const open = await startServer({ db, host: '0.0.0.0', port: 0, dataDir: x.data, predictor: null });
    try {
      const res = await fetch(`http://${address}:${open.port}/api/runs/1/saliency/0`);
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { error: string }).error, /served to this machine only/);
      assert.equal((await fetch(`http://${address}:${open.port}/api/experiments`)).status, 200, 'the rest of the page is served');
    } finally {
      await open.close();
    }
  });
});
