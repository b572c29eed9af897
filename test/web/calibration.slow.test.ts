/**
 * Calibration in the API and the pages: the API's per-run numbers are the stored run_calibrations rows, the
 * experiment's means are the rows' means, unknown ids are 404; in Chromium the run page and the experiment page
 * show the tables and draw the reliability diagrams from the API's bins.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { openDatabase, storedRunCalibration, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { CHROMIUM, hasChromium, launchBrowser, openPage, screenshot } from './browser.ts';
import { buildExperiment, smallStudy, type BuiltExperiment } from './fixtures.ts';
import { first } from '../../common/indexing.ts';

const skip = hasChromium() ? false : `SKIPPED: the page tests need Chromium at ${CHROMIUM} (.ci/system-packages.sh installs it)`;
if (skip) process.stderr.write(`\n*** ${skip} ***\n`);

let db: Database;
let server: RunningServer;
let study: BuiltExperiment;

before(async () => {
  db = await openDatabase('memory://');
  study = await buildExperiment(db, smallStudy('calibration'));
  server = await startServer({ db, port: 0, dataDir: null });
});

after(async () => {
  await server?.close();
  await db?.close();
});

const get = async (path: string) => {
  const res = await fetch(server.url + path);
  return { status: res.status, body: await res.json() };
};

describe('calibration API', () => {
  test("a run's calibration is its stored rows; the experiment's per model are their mean ± std", async () => {
    const completed = (await db.query<{ id: number; model: string }>(`select id, model from runs where status = 'completed' order by id`)).map((r) => ({
      id: Number(r.id),
      model: r.model,
    }));
    assert.ok(completed.length >= 2);
    for (const { id } of completed) {
      const { status, body } = await get(`/api/runs/${id}/calibration`);
      assert.equal(status, 200);
      assert.equal(body.bins, 10);
      const rows = await storedRunCalibration(db, id);
      for (const row of rows) {
        const split = body.calibration[row.split];
        assert.equal(split.before.brier, row.brier);
        assert.equal(split.before.ece, row.ece);
        assert.equal(split.after.ece, row.eceScaled);
        assert.equal(body.calibration.temperature, row.temperature);
        assert.equal(
          split.before.bins.reduce((a: number, b: { n: number }) => a + b.n, 0),
          row.n,
        );
      }
    }
    const { body } = await get(`/api/experiments/${study.experimentId}/calibration`);
    const model = body.models[0];
    const view = first(
      await db.query<{ n: number; ece_mean: number; ece_std: number; temperature_mean: number }>(
        `select n, ece_mean, ece_std, temperature_mean from calibration_summary where experiment_id = $1 and model = $2 and split = 'test'`,
        [study.experimentId, model.model],
      ),
    );
    assert.equal(model.runs, view.n);
    assert.ok(Math.abs(model.test.ece.mean - view.ece_mean) < 1e-12);
    assert.ok(Math.abs(model.test.ece.std - view.ece_std) < 1e-12);
    assert.ok(Math.abs(model.temperature.mean - view.temperature_mean) < 1e-9);
    assert.equal(model.ensemble.runs, model.runs);
  });

  test('unknown ids are 404; a run without predictions has no calibration', async () => {
    assert.equal((await get('/api/runs/999999/calibration')).status, 404);
    assert.equal((await get('/api/experiments/999999/calibration')).status, 404);
    const pending = first(await db.query<{ id: number }>(`select id from runs where status <> 'completed' order by id limit 1`));
    const { status, body } = await get(`/api/runs/${pending.id}/calibration`);
    assert.equal(status, 200);
    assert.equal(body.calibration, null);
  });
});

type ChartHandle = { Chart: { getChart(c: unknown): { data: { datasets: { label: string; data: { x: number; y: number }[] }[] } } } };

async function datasets(page: Page, selector: string) {
  await page.waitForFunction((sel) => (globalThis as unknown as ChartHandle).Chart.getChart(document.querySelector(`${sel} canvas`)) !== undefined, selector);
  return page.$eval(`${selector} canvas`, (canvas) =>
    (globalThis as unknown as ChartHandle).Chart.getChart(canvas).data.datasets.map((d) => ({ label: d.label, data: d.data })),
  );
}

describe('calibration in the pages', { skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => browser?.close());

  test("run page: the table and the reliability diagram of the API's bins", async () => {
    const id = study.runIds[0];
    const { body } = await get(`/api/runs/${id}/calibration`);
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}/runs/${id}`);
    await page.waitForSelector('#run-calibration-table');
    const ece = await page.$eval('#run-calibration-table tr[data-split="test"] td[data-field="ece"]', (td) => td.textContent);
    assert.equal(ece, body.calibration.test.before.ece.toFixed(4));
    const sets = await datasets(page, '#run-reliability-chart');
    const test = sets.find((s) => s.label === 'test')!;
    const bins = body.calibration.test.before.bins.filter((b: { n: number }) => b.n > 0);
    assert.deepEqual(
      test.data.map((p) => [p.x, p.y]),
      bins.map((b: { meanProbability: number; observedFraction: number }) => [b.meanProbability, b.observedFraction]),
    );
    assert.ok(sets.some((s) => s.label === 'test, temperature-scaled'));
    await screenshot(page, 'run-calibration');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("experiment page: each model's mean ± std and ensemble, and the ensembles' reliability diagram", async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}/experiments/${study.experimentId}`);
    await page.waitForSelector('#calibration-table tr[data-kind="ensemble"]');
    const sets = await datasets(page, '#reliability-chart');
    const { body } = await get(`/api/experiments/${study.experimentId}/calibration`);
    for (const m of body.models)
      assert.ok(
        sets.some((s) => s.label === m.model),
        `a curve of ${m.model}`,
      );
    await page.selectOption('#calibration-split', 'val');
    const val = await datasets(page, '#reliability-chart');
    const first = body.models[0];
    assert.deepEqual(
      val.find((s) => s.label === first.model)!.data.map((p) => p.x),
      first.ensemble.val.before.bins.filter((b: { n: number }) => b.n > 0).map((b: { meanProbability: number }) => b.meanProbability),
    );
    await screenshot(page, 'experiment-calibration');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
