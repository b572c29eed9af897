/**
 * Thresholds, operating points and metric axes in headless Chromium: the run page's threshold control gives the
 * confusion matrix a hand count of the stored predictions gives (malignant when p > t, a tie is benign), the
 * operating-point tables show the API's numbers, metric axes are [0, 1] and bands stay inside them, the experiment
 * page has every model's bands in one chart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { claimNextRun, createOrResumeExperiment, ensureRuns, openDatabase, recordEvent, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { hasChromium, launchBrowser, openPage, screenshot, CHROMIUM } from './browser.ts';
import { buildExperiment, smallStudy, type BuiltExperiment } from './fixtures.ts';
import { runEvents, specFor } from './run-events.ts';
import { first } from '../../common/indexing.ts';

const skip = hasChromium() ? false : `SKIPPED: the page tests need Chromium at ${CHROMIUM} (.ci/system-packages.sh installs it)`;
if (skip) process.stderr.write(`\n*** ${skip} ***\n`);

let db: Database;
let server: RunningServer;
let browser: Browser;
let study: BuiltExperiment;
let spread = 0;

/** Two running runs with one epoch each, val recalls 0.99 and 0.40: mean 0.695 ± 0.417, so mean + std passes 1. */
async function oneEpochSpread(database: Database): Promise<number> {
  const x = await createOrResumeExperiment(database, {
    name: 'one epoch, wide spread',
    config: { models: ['baseline'] },
    datasetFingerprint: 'f'.repeat(64),
    datasetDir: '/data/melanoma',
    codeVersion: 'fixture',
  });
  await ensureRuns(
    database,
    x.id,
    [0, 1].map((i) => ({ model: 'baseline' as const, runIndex: i, seed: 7 + i, spec: specFor('baseline', 7 + i) })),
  );
  for (const recall of [0.99, 0.4]) {
    const run = await claimNextRun(database, x.id, 'cpu:0', { models: ['baseline'] });
    for (const e of runEvents({ model: 'baseline', seed: 7, epochs: 30, bestEpoch: 10, upTo: 1 })) {
      await recordEvent(database, run!.id, e.type === 'epoch' ? { ...e, record: { ...e.record, val: { ...e.record.val, recall } } } : e);
    }
  }
  return x.id;
}

before(async () => {
  if (skip) return;
  db = await openDatabase('memory://');
  study = await buildExperiment(db, smallStudy('thresholds'));
  spread = await oneEpochSpread(db);
  server = await startServer({ db, port: 0, dataDir: null });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await db?.close();
});

async function view(path: string, ready: string): Promise<{ page: Page; problems: string[] }> {
  const opened = await openPage(browser);
  await opened.page.goto(server.url + path);
  await opened.page.waitForSelector(ready, { timeout: 10_000 });
  return opened;
}

type ChartHandle = {
  Chart: {
    getChart(c: unknown): {
      scales: { y: { min: number; max: number } };
      data: { datasets: { label: string; band?: boolean; data: { y: number | null }[] }[] };
    };
  };
};

/** The drawn y axis of a chart and the y values of its band edges. */
async function chartState(page: Page, selector: string): Promise<{ min: number; max: number; edges: number[]; labels: string[] }> {
  // A canvas may be in the page a moment before its chart is drawn on it (or drawn again).
  await page.waitForFunction((sel) => (globalThis as unknown as ChartHandle).Chart.getChart(document.querySelector(`${sel} canvas`)) !== undefined, selector);
  return page.$eval(`${selector} canvas`, (canvas) => {
    const chart = (globalThis as unknown as ChartHandle).Chart.getChart(canvas);
    const edges = chart.data.datasets.filter((d) => d.band).flatMap((d) => d.data.map((p) => p.y).filter((y): y is number => y !== null));
    return { min: chart.scales.y.min, max: chart.scales.y.max, edges, labels: chart.data.datasets.map((d) => d.label) };
  });
}

/** The four cells of a confusion table. */
async function cells(page: Page, table: string): Promise<{ tp: number; fp: number; tn: number; fn: number }> {
  const cell = async (what: string) => Number(await page.$eval(`${table} td[data-cell^="${what}"] strong`, (s) => s.textContent));
  return { tp: await cell('TP'), fp: await cell('FP'), tn: await cell('TN'), fn: await cell('FN') };
}

/** A hand count of the stored predictions of a run's split at threshold t: malignant when p > t. */
async function handCount(runId: number, split: string, t: number) {
  const rows = await db.query<{ label: number; probability: number }>('select label, probability from predictions where run_id = $1 and split = $2', [
    runId,
    split,
  ]);
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const r of rows) {
    const p = Math.fround(r.probability);
    if (r.label === 1) p > t ? c.tp++ : c.fn++;
    else p > t ? c.fp++ : c.tn++;
  }
  return c;
}

describe('thresholds and operating points in the pages', { skip }, () => {
  test('run: the threshold control gives the confusion matrix of a hand count (a tie with t is benign)', async () => {
    const id = study.runIds[0]!;
    const { page, problems } = await view(`/runs/${id}`, '#threshold-confusion');
    assert.deepEqual(await cells(page, '#threshold-confusion'), await handCount(id, 'test', 0.5), 'at 0.5 by default');

    // t equal to a stored malignant probability: that melanoma is not > t, so it is a false negative.
    const tie = first(
      await db.query<{ probability: number }>(
        "select probability from predictions where run_id = $1 and split = 'test' and label = 1 order by probability offset 150 limit 1",
        [id],
      ),
    );
    const t = Math.fround(tie.probability);
    await page.fill('#run-threshold', String(t));
    await page.waitForFunction((s) => document.querySelector('#threshold-confusion caption')?.textContent?.includes(`threshold ${s} `), String(t));
    const atTie = await handCount(id, 'test', t);
    assert.deepEqual(await cells(page, '#threshold-confusion'), atTie);
    assert.equal(atTie.fn, 151, 'the 151 lowest melanomas, the tied one included, are missed');
    const rates = await page.$eval('#threshold-rates', (p) => p.textContent);
    assert.equal(
      rates,
      `sensitivity ${(atTie.tp / 300).toFixed(3)} · specificity ${(atTie.tn / 360).toFixed(3)} · PPV ${(atTie.tp / (atTie.tp + atTie.fp)).toFixed(3)}`,
    );

    // The slider moves the number box and the matrix; another split counts that split.
    await page.$eval('#run-threshold-range', (r) => {
      (r as HTMLInputElement).value = '0.2';
      r.dispatchEvent(new Event('input'));
    });
    assert.equal(await page.inputValue('#run-threshold'), '0.2');
    assert.deepEqual(await cells(page, '#threshold-confusion'), await handCount(id, 'test', 0.2));
    await page.selectOption('#threshold-split', 'val');
    await page.waitForFunction(() => document.querySelector('#threshold-confusion caption')?.textContent?.startsWith('val:'));
    assert.deepEqual(await cells(page, '#threshold-confusion'), await handCount(id, 'val', 0.2));

    // A value outside [0, 1] is marked and changes nothing.
    await page.fill('#run-threshold', '1.5');
    assert.equal(await page.getAttribute('#run-threshold', 'aria-invalid'), 'true');
    assert.deepEqual(await cells(page, '#threshold-confusion'), await handCount(id, 'val', 0.2));

    // The run's five operating points are the API's.
    const api = await (await fetch(`${server.url}/api/runs/${id}/operating-points`)).json();
    const shown = await page.$$eval('#run-operating-points tbody tr', (trs) =>
      trs.map((tr) => [
        tr.querySelector('th')!.textContent,
        tr.querySelector('[data-field="test-sensitivity"]')!.textContent,
        tr.querySelector('[data-field="test-specificity"]')!.textContent,
      ]),
    );
    assert.deepEqual(
      shown,
      api.points.map((p: { kind: string; target: number; test: { sensitivity: number; specificity: number } }) => [
        `${p.kind === 'specificity' ? 'sensitivity' : 'specificity'} at ${p.kind} ≥ ${p.target.toFixed(2)}`,
        p.test.sensitivity.toFixed(3),
        p.test.specificity.toFixed(3),
      ]),
    );
    assert.match((await page.getAttribute('#run-operating-points', 'title'))!, /p > t.*smallest threshold whose val specificity is at least s/s);
    await screenshot(page, 'run-threshold');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('run: metric axes are [0, 1]; the loss axis starts at 0', async () => {
    const { page, problems } = await view(`/runs/${study.runIds[0]}`, '#history-recall canvas');
    for (const metric of ['accuracy', 'roc_auc', 'recall']) {
      const { min, max } = await chartState(page, `#history-${metric}`);
      assert.deepEqual([min, max], [0, 1], metric);
    }
    const loss = await chartState(page, '#history-loss');
    assert.equal(loss.min, 0);
    assert.ok(loss.max < 1, `the loss axis fits the loss (${loss.max})`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('experiment: operating points per model, every model at a threshold, all models per epoch', async () => {
    const { page, problems } = await view(`/experiments/${study.experimentId}`, '#operating-points-table');
    const api = await (await fetch(`${server.url}/api/experiments/${study.experimentId}/operating-points`)).json();
    const fmt = (s: { mean: number; std: number | null }) => `${s.mean.toFixed(3)} ± ${s.std!.toFixed(3)}`;
    for (const m of api.models) {
      for (const p of m.points) {
        const row = `#operating-points-table tr[data-model="${m.model}"][data-kind="${p.kind}"][data-target="${p.target}"]`;
        assert.equal(await page.$eval(`${row} [data-field="sensitivity"]`, (td) => td.textContent), fmt(p.sensitivity));
        assert.equal(await page.$eval(`${row} [data-field="specificity"]`, (td) => td.textContent), fmt(p.specificity));
      }
    }

    // Every model at t = 0.3 on test: the mean per run of a hand count.
    await page.waitForSelector('#threshold-table');
    await page.fill('#experiment-threshold', '0.3');
    await page.waitForFunction(() => document.querySelector('#threshold .hint')?.textContent?.startsWith('t = 0.3 on test'));
    const [b1, b2] = await Promise.all([handCount(study.runIds[0]!, 'test', 0.3), handCount(study.runIds[1]!, 'test', 0.3)]);
    const baseline = await page.$$eval('#threshold-table tr[data-model="baseline"] td[data-field]', (tds) =>
      Object.fromEntries(tds.map((td) => [td.getAttribute('data-field'), td.textContent])),
    );
    assert.equal(baseline.tp, ((b1.tp + b2.tp) / 2).toFixed(1));
    assert.equal(baseline.fn, ((b1.fn + b2.fn) / 2).toFixed(1));
    const sens = [b1.tp / 300, b2.tp / 300];
    assert.equal(baseline.sensitivity, `${((sens[0]! + sens[1]!) / 2).toFixed(3)} ± ${(Math.abs(sens[0]! - sens[1]!) / Math.SQRT2).toFixed(3)}`);

    // All models per epoch: a band and a mean line per model, the axis [0, 1], every band edge inside it.
    const roc = await chartState(page, '#bands-chart');
    assert.deepEqual(roc.labels, ['baseline +1 std', 'baseline ± 1 std', 'baseline (2 runs)', 'xception +1 std', 'xception ± 1 std', 'xception (3 runs)']);
    assert.deepEqual([roc.min, roc.max], [0, 1]);
    assert.ok(roc.edges.length > 0 && roc.edges.every((y) => y >= 0 && y <= 1));
    await page.selectOption('#bands-metric', 'loss');
    const loss = await chartState(page, '#bands-chart');
    assert.equal(loss.min, 0);
    await page.selectOption('#bands-metric', 'recall');
    assert.deepEqual(await chartState(page, '#bands-chart').then((s) => [s.min, s.max]), [0, 1]);

    // The summary bars: [0, 1] unless a loss needs more.
    const bars = await chartState(page, '#summary-chart');
    assert.equal(bars.min, 0);
    assert.equal(bars.max, 1);
    await screenshot(page, 'experiment-operating-points');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('compare, one epoch with a wide spread: the recall axis is [0, 1] and its band is clipped at 1', async () => {
    const { page, problems } = await view(`/experiments/${spread}/compare?model=baseline`, '#compare-recall canvas');
    await page.waitForFunction(() => document.querySelector('#compare-note')?.textContent?.includes('run(s)'));
    for (const metric of ['accuracy', 'precision', 'recall', 'roc_auc', 'pr_auc']) {
      const s = await chartState(page, `#compare-${metric}`);
      assert.deepEqual([s.min, s.max], [0, 1], metric);
      assert.ok(
        s.edges.every((y) => y >= 0 && y <= 1),
        metric,
      );
    }
    const std = Math.sqrt(((0.99 - 0.695) ** 2 + (0.4 - 0.695) ** 2) / 1);
    const recall = await chartState(page, '#compare-recall');
    assert.equal(recall.edges.length, 2);
    assert.equal(recall.edges[0], 1, 'the upper edge, 0.695 + 0.417, stops at 1');
    assert.ok(Math.abs(recall.edges[1]! - (0.695 - std)) < 1e-9, `the lower edge is mean - std: ${recall.edges[1]}`);
    const other = await view(`/experiments/${spread}`, '#bands-chart canvas');
    await other.page.selectOption('#bands-metric', 'recall');
    const all = await chartState(other.page, '#bands-chart');
    assert.deepEqual([all.min, all.max, all.edges[0]], [0, 1, 1]);
    await screenshot(page, 'compare-one-epoch');
    assert.deepEqual([...problems, ...other.problems], []);
    await page.close();
    await other.page.close();
  });
});
