/**
 * The dataset page's duplicates on a real subset with planted duplicates: the API names the pairs with their file
 * ids, and in Chromium the button shows the counts and the pairs as decoded thumbnails, the leak across splits first.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { openDatabase, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { plantedSubset, type PlantedSubset } from '../helpers/planted-duplicates.ts';
import { hasRealData, REAL_DATA } from '../helpers/real-data.ts';
import { CHROMIUM, hasChromium, launchBrowser, openPage, screenshot } from './browser.ts';

const skip = !hasRealData() ? `SKIPPED: needs the real dataset at ${REAL_DATA} (../shared is absent)` : false;
const noBrowser = hasChromium() ? false : `SKIPPED: the page tests need Chromium at ${CHROMIUM} (.ci/system-packages.sh installs it)`;
for (const why of [skip, noBrowser]) if (why) process.stderr.write(`\n*** ${why} ***\n`);

let subset: PlantedSubset;
let db: Database;
let server: RunningServer;

before(async () => {
  if (skip) return;
  subset = await plantedSubset(REAL_DATA, { train: 6, test: 4 });
  db = await openDatabase('memory://');
  server = await startServer({ db, port: 0, dataDir: subset.dir });
});

after(async () => {
  await server?.close();
  await db?.close();
  if (subset) rmSync(subset.dir, { recursive: true, force: true });
});

test('GET /api/dataset/duplicates: the planted pairs with their file ids', { skip }, async () => {
  const d = await (await fetch(`${server.url}/api/dataset/duplicates`)).json();
  assert.deepEqual(
    d.pairs.map((p: { kind: string; a: string; b: string }) => [p.kind, p.a, p.b]),
    [
      ['exact', subset.twin, subset.twinCopy],
      ['near', subset.source, subset.planted],
    ],
  );
  const summary = await (await fetch(`${server.url}/api/dataset`)).json();
  assert.equal(d.images, summary.all.total);
  assert.deepEqual(d.leakedTest, [subset.planted]);
  const jpeg = await fetch(`${server.url}/api/dataset/images/${d.pairs[1].fileIdB}`);
  assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
});

test('the dataset page shows the pairs as thumbnails on request', { skip: skip || noBrowser }, async () => {
  const browser: Browser = await launchBrowser();
  try {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}/dataset`);
    await page.click('#find-duplicates');
    await page.waitForSelector('#duplicate-pairs');
    assert.equal(await page.textContent('#leaked-test'), '1 test image');
    const counts = await page.$$eval('#duplicate-counts tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    assert.deepEqual(
      counts.find((c) => c[0] === 'train–test'),
      ['train–test', '0', '1'],
    );
    const pairs = await page.$$eval('#duplicate-pairs > [data-kind]', (rows) =>
      rows.map((r) => [r.getAttribute('data-kind'), r.getAttribute('data-a'), r.getAttribute('data-b')]),
    );
    assert.deepEqual(
      pairs,
      [
        ['near', subset.source, subset.planted],
        ['exact', subset.twin, subset.twinCopy],
      ],
      'the pair across splits first',
    );
    await page.$$eval('#duplicate-pairs img', (imgs) => {
      for (const i of imgs) (i as HTMLImageElement).loading = 'eager';
    });
    await page.waitForFunction(
      () => {
        const imgs = Array.from(document.querySelectorAll('#duplicate-pairs img')) as HTMLImageElement[];
        return imgs.length === 4 && imgs.every((img) => img.complete && img.naturalWidth > 0);
      },
      null,
      { timeout: 20_000 },
    );
    await screenshot(page, 'dataset-duplicates');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
