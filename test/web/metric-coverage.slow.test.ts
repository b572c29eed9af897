/**
 * Every metric of study/metrics/definitions.ts reaches every place that shows metrics: the database's rows and its
 * views' columns, each JSON answer of the API that carries metrics, and the page's tables, pickers and charts (in
 * headless Chromium). The list is read from the definitions, so a metric added there is checked here with no change
 * to this file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { openDatabase, type Database } from '../../db/index.ts';
import { METRICS, METRIC_NAMES } from '../../study/metrics/definitions.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { hasChromium, launchBrowser, openPage } from './browser.ts';
import { buildExperiment, smallStudy, type BuiltExperiment } from './fixtures.ts';

let db: Database;
let server: RunningServer;
let study: BuiltExperiment;

before(async () => {
  db = await openDatabase('memory://');
  study = await buildExperiment(db, smallStudy('coverage'));
  server = await startServer({ db, port: 0, dataDir: null });
});

after(async () => {
  await server?.close();
  await db?.close();
});

const ALL: string[] = [...METRIC_NAMES].sort();
const sorted = (names: Iterable<string>) => [...names].sort();
const get = async (path: string) => {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, path);
  return res.json();
};

test('the database: a column of every metric in its tables and views, each filled for a new run', async () => {
  const [completed] = study.runIds;
  const columns = async (relation: string) =>
    (await db.query<{ column_name: string }>('select column_name from information_schema.columns where table_name = $1', [relation])).map((c) => c.column_name);
  for (const table of ['epoch_metrics', 'evaluations']) {
    assert.deepEqual(sorted((await columns(table)).filter((c) => ALL.includes(c))), ALL, table);
    const nulls = METRIC_NAMES.map((m) => `count(*) filter (where "${m}" is null)`).join(' + ');
    const [row] = await db.query<{ rows: number; nulls: number }>(
      `select count(*)::integer as rows, (${nulls})::integer as nulls from ${table} where run_id = $1`,
      [completed],
    );
    assert.ok(row!.rows > 0);
    assert.equal(row!.nulls, 0, `${table}: every metric stored`);
  }
  const summarized = await db.query<{ metric: string }>('select distinct metric from metric_summary where experiment_id = $1', [study.experimentId]);
  assert.deepEqual(sorted(summarized.map((r) => r.metric)), ALL);
  const wide = await columns('metric_summary_wide');
  assert.deepEqual(sorted(wide.filter((c) => c.endsWith('_mean')).map((c) => c.slice(0, -'_mean'.length))), ALL);
  assert.deepEqual(sorted(wide.filter((c) => c.endsWith('_std')).map((c) => c.slice(0, -'_std'.length))), ALL);
  const overview = await columns('run_overview');
  assert.deepEqual(sorted(overview.filter((c) => c.startsWith('test_')).map((c) => c.slice('test_'.length))), ALL);
});

test('the API: the metric list, and every metric in each answer that carries metrics', async () => {
  const x = study.experimentId;
  const [completed] = study.runIds;
  const keys = (o: Record<string, unknown>) => sorted(Object.keys(o));

  const listed = await get('/api/metrics');
  assert.deepEqual(
    listed.map((m: { name: string }) => m.name),
    [...METRIC_NAMES],
  );
  assert.deepEqual(
    listed.map((m: { label: string }) => m.label),
    METRICS.map((m) => m.label),
  );

  const summary = await get(`/api/experiments/${x}/summary`);
  assert.deepEqual(sorted(new Set(summary.rows.map((r: { metric: string }) => r.metric))), ALL);
  const experiment = await get(`/api/experiments/${x}`);
  assert.deepEqual(keys(experiment.runs[0].test), ALL);
  const run = await get(`/api/runs/${completed}`);
  for (const e of run.evaluations) {
    assert.deepEqual(keys(e.metrics), ALL);
    for (const m of METRIC_NAMES) assert.equal(typeof e.metrics[m], 'number', `${e.split} ${m} is stored`);
  }
  const { epochs } = await get(`/api/runs/${completed}/epochs`);
  for (const e of epochs) assert.deepEqual([keys(e.train), keys(e.val)], [ALL, ALL]);
  const compare = await get(`/api/experiments/${x}/compare?model=baseline`);
  for (const split of ['train', 'val']) {
    assert.deepEqual(keys(compare.bands[split]), ALL);
    for (const m of METRIC_NAMES) assert.ok(compare.bands[split][m].length > 0, `${split} ${m} band`);
  }
  const bands = await get(`/api/experiments/${x}/bands`);
  assert.deepEqual(keys(bands.models[0].bands.val), ALL);
  const ensemble = await get(`/api/experiments/${x}/ensemble`);
  assert.deepEqual(keys(ensemble.models[0].metrics), ALL);
  const reproduction = await get(`/api/experiments/${x}/reproduction`);
  for (const m of METRIC_NAMES) assert.ok(m in reproduction.table[0].rows[0].metrics, `report ${m}`);
});

test('the page: its metric module is the list', async () => {
  const res = await fetch(`${server.url}/static/metrics.js`);
  assert.match(res.headers.get('content-type') ?? '', /javascript/);
  const module = await import(`data:text/javascript,${encodeURIComponent(await res.text())}`);
  assert.deepEqual(
    module.METRIC_INFO,
    METRICS.map(({ name, label, better, max, reference }) => ({ name, label, better, max, reference })),
  );
});

const skip = hasChromium() ? false : 'SKIPPED: needs Chromium (.ci/system-packages.sh installs it)';

describe('the page shows every metric', { skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => browser?.close());

  /** Opens `path`, waits for `ready`, and gives `read`'s answer; no console error or failed request on the way. */
  async function onPage<T>(path: string, ready: string, read: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
    const { page, problems } = await openPage(browser);
    try {
      await page.goto(server.url + path);
      await page.waitForSelector(ready, { state: 'attached', timeout: 10_000 });
      const value = await read(page);
      assert.deepEqual(problems, []);
      return value;
    } finally {
      await page.close();
    }
  }
  const metricCells = (selector: string) => (page: import('playwright-core').Page) =>
    page.$$eval(selector, (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td[data-metric]')).map((td) => td.getAttribute('data-metric'))));

  test('experiment: summary and ensemble tables, the all-models chart picker', async () => {
    const x = study.experimentId;
    const summary = await onPage(`/experiments/${x}`, '#summary-table tbody tr[data-model]', metricCells('#summary-table tbody tr[data-model]'));
    assert.ok(summary.length > 0);
    for (const row of summary) assert.deepEqual(row, [...METRIC_NAMES]);
    const ensemble = await onPage(`/experiments/${x}`, '#ensemble-table tbody tr[data-model]', metricCells('#ensemble-table tbody tr[data-model]'));
    for (const row of ensemble) assert.deepEqual(row, [...METRIC_NAMES]);
    const picker = await onPage(`/experiments/${x}`, '#bands-metric option', (page) =>
      page.$$eval('#bands-metric option', (os) => os.map((o) => (o as HTMLOptionElement).value)),
    );
    assert.deepEqual(picker, [...METRIC_NAMES]);
  });

  test('run: the final evaluation table; compare: one history chart per metric; experiments compared: the picker', async () => {
    const finals = await onPage(`/runs/${study.runIds[0]}`, '#final-table tbody tr', metricCells('#final-table tbody tr'));
    assert.equal(finals.length, 3);
    for (const row of finals) assert.deepEqual(row, [...METRIC_NAMES]);
    const charts = await onPage(`/experiments/${study.experimentId}/compare?model=baseline`, '#compare-roc_auc canvas', (page) =>
      page.$$eval('[id^="compare-"] canvas', (cs) => cs.map((c) => c.closest('[id^="compare-"]')!.id.slice('compare-'.length))),
    );
    assert.deepEqual(sorted(charts), ALL);
    const picker = await onPage(`/compare?experiments=${study.experimentId}`, '#compare-metric option', (page) =>
      page.$$eval('#compare-metric option', (os) => os.map((o) => (o as HTMLOptionElement).value)),
    );
    assert.deepEqual(picker, [...METRIC_NAMES]);
  });
});
