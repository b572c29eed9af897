/**
 * The views in headless Chromium: the summary table shows metric_summary's numbers, charts hold data points, a
 * run shows its confusion matrix and curves, the compare view its bands, a running run gains epochs without a
 * reload, names with markup stay text. Screenshots of each view go to test-output/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openDatabase, recordEvent, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { METRIC_NAMES } from '../../study/run.ts';
import { metricDefinition } from '../../study/metrics/definitions.ts';
import { indexDataset } from '../../study/data/dataset.ts';
import { PROJECT_ROOT, realDataOrSkip, realSubset } from '../helpers/real-data.ts';
import { hasChromium, launchBrowser, openPage, screenshot, CHROMIUM } from './browser.ts';
import { buildExperiment, oneClassStudy, smallStudy, XSS_NAME, type BuiltExperiment } from './fixtures.ts';
import { runEvents } from './run-events.ts';
import { first } from '../../common/indexing.ts';

const skip = hasChromium() ? false : `SKIPPED: the page tests need Chromium at ${CHROMIUM} (.ci/system-packages.sh installs it)`;
if (skip) process.stderr.write(`\n*** ${skip} ***\n`);

/** The picture of the experiment page the README shows. */
const README_PICTURE = join(PROJECT_ROOT, 'docs', 'images', 'experiment-page.png');

let db: Database;
let server: RunningServer;
let browser: Browser;
let study: BuiltExperiment;
let oneClass: BuiltExperiment;

before(async () => {
  if (skip) return;
  db = await openDatabase('memory://');
  study = await buildExperiment(db, smallStudy());
  oneClass = await buildExperiment(db, oneClassStudy());
  server = await startServer({ db, port: 0, dataDir: null });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await db?.close();
});

/** Opens a view and waits for its module to have drawn `ready`; fails on any console error or exception. */
async function view(path: string, ready: string, viewport?: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const opened = await openPage(browser, viewport);
  await opened.page.goto(server.url + path);
  await opened.page.waitForSelector(ready, { timeout: 10_000 });
  return opened;
}

/** Number of points per dataset of the Chart.js chart drawn on `selector`'s canvas. */
function chartPoints(page: Page, selector: string): Promise<{ label: string; points: number; fill: unknown }[]> {
  return page.$eval(`${selector} canvas`, (canvas) => {
    const chart = (
      globalThis as unknown as { Chart: { getChart(c: unknown): { data: { datasets: { label: string; data: unknown[]; fill?: unknown }[] } } } }
    ).Chart.getChart(canvas);
    return chart.data.datasets.map((d) => ({
      label: d.label,
      points: d.data.filter((p) => p !== null && (typeof p !== 'object' || (p as { y: unknown }).y !== null)).length,
      fill: d.fill ?? null,
    }));
  });
}

const fmt = (mean: number | null, std: number | null) =>
  mean === null || !Number.isFinite(mean) ? '—' : std === null ? mean.toFixed(3) : `${mean.toFixed(3)} ± ${std.toFixed(3)}`;

describe('pages', { skip }, () => {
  test('experiments list: counts, names as text', async () => {
    const { page, problems } = await view('/', '#experiments-table');
    const rows = await page.$$eval('#experiments-table tbody tr', (trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll('td'))
          .slice(1)
          .map((td) => td.textContent),
      ),
    );
    assert.equal(rows.length, 2);
    const row = rows.find((r) => r[0] === XSS_NAME)!;
    assert.ok(row, 'the name is shown verbatim, as text');
    assert.deepEqual(row.slice(1, 7), ['running', '/data/melanoma', 'baseline, xception', '4 / 7', '1', '1']);
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);

    // Ticking two experiments links to their comparison, in the list's order (newest first).
    assert.equal(await page.getAttribute('#compare-selected', 'aria-disabled'), 'true');
    await page.check(`#experiments-table tr[data-id="${study.experimentId}"] input.pick`);
    assert.equal(await page.getAttribute('#compare-selected', 'aria-disabled'), 'true', 'one is not a comparison');
    await page.check(`#experiments-table tr[data-id="${oneClass.experimentId}"] input.pick`);
    assert.equal(await page.getAttribute('#compare-selected', 'aria-disabled'), 'false');
    assert.equal(await page.getAttribute('#compare-selected', 'href'), `/compare?experiments=${oneClass.experimentId}%2C${study.experimentId}`);
    await screenshot(page, 'experiments');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('experiment: summary table equals metric_summary, chart has bars with error bars, runs listed', async () => {
    const { page, problems } = await view(`/experiments/${study.experimentId}`, '#summary-table');
    assert.equal(await page.title(), `${XSS_NAME} · melanoma study`);
    assert.equal(await page.$eval('h1', (h) => h.firstChild!.textContent), XSS_NAME);
    const rows = await db.query<{ model: string; split: string; metric: string; n: number; mean: number; stddev: number | null }>(
      'select model, split, metric, n, mean, stddev from metric_summary where experiment_id = $1',
      [study.experimentId],
    );
    assert.equal(rows.length, 2 * 3 * METRIC_NAMES.length, 'two models, three splits, every metric');
    const cells = await page.$$eval('#summary-table tbody tr[data-model]', (trs) =>
      trs.map((tr) => ({
        model: tr.getAttribute('data-model'),
        split: tr.getAttribute('data-split'),
        n: tr.querySelector('td')!.textContent,
        values: Object.fromEntries(
          Array.from(tr.querySelectorAll('td[data-metric]')).map((td) => [td.getAttribute('data-metric'), td.firstChild!.textContent]),
        ),
        best: Array.from(tr.querySelectorAll('td.best')).map((td) => td.getAttribute('data-metric')),
      })),
    );
    assert.equal(cells.length, 6);
    for (const r of rows) {
      const cell = cells.find((c) => c.model === r.model && c.split === r.split)!;
      assert.equal(cell.values[r.metric], fmt(r.mean, r.stddev), `${r.model} ${r.split} ${r.metric}`);
      assert.equal(cell.n, String(r.n));
    }
    // Best per column within a split: lowest loss, highest otherwise.
    for (const split of ['train', 'val', 'test']) {
      for (const metric of METRIC_NAMES) {
        const candidates = rows.filter((r) => r.split === split && r.metric === metric);
        const lower = metricDefinition(metric).better === 'lower';
        const best = candidates.reduce((a, b) => ((lower ? b.mean < a.mean : b.mean > a.mean) ? b : a));
        const marked = cells.filter((c) => c.split === split && c.best.includes(metric)).map((c) => c.model);
        assert.deepEqual(marked, [best.model], `${split} ${metric}`);
      }
    }

    const bars = await chartPoints(page, '#summary-chart');
    assert.deepEqual(
      bars.map((b) => b.label),
      ['baseline (n=2)', 'xception (n=2)'],
    );
    assert.ok(bars.every((b) => b.points === METRIC_NAMES.length));
    const errorBars = await page.$eval('#summary-chart canvas', (c) =>
      (globalThis as unknown as { Chart: { getChart(c: unknown): { data: { datasets: { errorBars: number[] }[] } } } }).Chart.getChart(c).data.datasets.map(
        (d) => d.errorBars,
      ),
    );
    const testAucStd = rows.find((r) => r.model === 'xception' && r.split === 'test' && r.metric === 'roc_auc')!.stddev;
    assert.equal(errorBars[1]![METRIC_NAMES.indexOf('roc_auc')], testAucStd);

    const runLinks = await page.$$eval('#runs-table tbody tr a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(
      runLinks,
      study.runIds.map((id) => `/runs/${id}`),
    );
    const ranOn = await page.$$eval('#runs-table tbody tr', (trs) => trs.map((tr) => tr.querySelectorAll('td')[8]!.textContent));
    assert.deepEqual(ranOn.slice(3), ['gpu:0 on gpu-node-3, Slurm 812_0', 'gpu:0 on gpu-node-3, Slurm 812_0', 'gpu:0 on gpu-node-5, Slurm 812_1', '—']);
    await screenshot(page, 'experiment');

    // Sort by test ROC AUC: the best model comes first within each split.
    await page.click('button[data-sort="roc_auc"]');
    const order = await page.$$eval('#summary-table tbody tr[data-split="test"]', (trs) => trs.map((tr) => tr.getAttribute('data-model')));
    const testAuc = rows.filter((r) => r.split === 'test' && r.metric === 'roc_auc').sort((a, b) => b.mean - a.mean);
    assert.deepEqual(
      order,
      testAuc.map((r) => r.model),
    );
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("the README's picture of the experiment page is taken from the current page", async () => {
    const shown = await buildExperiment(db, smallStudy("seed-224 (the browser tests' synthetic runs)"));
    const { page, problems } = await view(`/experiments/${shown.experimentId}`, '#summary-table', { width: 1200, height: 1500 });
    await page.waitForSelector('#summary-chart canvas');
    mkdirSync(dirname(README_PICTURE), { recursive: true });
    await page.screenshot({ path: README_PICTURE, clip: { x: 0, y: 0, width: 1200, height: 1500 } });
    assert.deepEqual(problems, []);
    assert.ok(statSync(README_PICTURE).size > 20_000, 'a picture of the page, not of an empty one');
  });

  test('experiment: the protocol of each model, every setting with its source; an experiment recorded before protocols says so', async () => {
    const { page, problems } = await view(`/experiments/${study.experimentId}`, '#protocol-table');
    const rows = await page.$$eval('#protocol-table tbody tr', (trs) =>
      trs.map((tr) => ({
        model: tr.getAttribute('data-model'),
        kind: tr.getAttribute('data-kind'),
        cells: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent),
      })),
    );
    assert.deepEqual([...new Set(rows.map((r) => r.model))], ['baseline', 'xception']);
    const find = (model: string, setting: string) => rows.find((r) => r.model === model && r.cells[0] === setting)!;
    assert.deepEqual(find('baseline', 'epochs').cells.slice(1), ['30', 'override --epochs 30']);
    assert.equal(find('xception', 'learning rate').kind, 'choice');
    assert.match(find('xception', 'augmentation').cells[2]!, /^article 279/);
    assert.equal(find('xception', 'input scaling').cells[1], '[0, 1]');
    assert.match(find('baseline', 'validation').cells[1]!, /^first 20%/);
    assert.ok(
      rows.every((r) => r.cells[2]!.trim().length > 8),
      'every setting has a source',
    );
    assert.match((await page.textContent('#protocol')) ?? '', /Protocol seed, overridden by flags: epochs 30/);
    const legacy = await view(`/experiments/${oneClass.experimentId}`, '#protocol-table');
    assert.match((await legacy.page.textContent('#protocol')) ?? '', /Recorded before protocols: its runs followed the extended protocol/);
    assert.deepEqual([...problems, ...legacy.problems], []);
    await screenshot(page, 'experiment-protocol');
  });

  test('experiment at a phone width: no horizontal overflow of the page', async () => {
    const { page, problems } = await view(`/experiments/${study.experimentId}`, '#summary-table', { width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await screenshot(page, 'experiment-phone');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('run: history with best epoch, confusion matrix of the database, ROC and PR curves', async () => {
    const id = study.runIds[0];
    const { page, problems } = await view(`/runs/${id}`, '#confusion-table');
    const cm = first(
      await db.query<{ tp: number; fp: number; tn: number; fn: number; n: number }>(
        "select tp, fp, tn, fn, n from evaluations where run_id = $1 and split = 'test'",
        [id],
      ),
    );
    const cell = (what: string) => page.$eval(`#confusion-table td[data-cell^="${what}"] strong`, (s) => s.textContent);
    assert.equal(await cell('TP'), String(cm.tp));
    assert.equal(await cell('FP'), String(cm.fp));
    assert.equal(await cell('TN'), String(cm.tn));
    assert.equal(await cell('FN'), String(cm.fn));
    const recall = await page.$eval('#confusion-table td[data-cell^="TP"] .rate', (s) => s.textContent);
    assert.equal(recall, `${((100 * cm.tp) / (cm.tp + cm.fn)).toFixed(1)}% TP (recall)`);

    const loss = await chartPoints(page, '#history-loss');
    assert.deepEqual(
      loss.map((d) => [d.label, d.points]),
      [
        ['train', 14],
        ['val', 14],
      ],
    );
    const markers = await page.$eval('#history-loss canvas', (c) =>
      (globalThis as unknown as { Chart: { getChart(c: unknown): { options: { plugins: { markers: { lines: { label: string }[] } } } } } }).Chart.getChart(
        c,
      ).options.plugins.markers.lines.map((l) => l.label),
    );
    const run = first(await db.query<{ best_epoch: number }>('select best_epoch from runs where id = $1', [id]));
    assert.deepEqual(markers, [`best: ${run.best_epoch}`, 'early stop: 14']);

    const roc = await chartPoints(page, '#roc-chart');
    assert.deepEqual(
      roc.map((d) => d.label.replace(/\(AUC [\d.]+\)/, '(AUC x)')),
      ['train (AUC x)', 'val (AUC x)', 'test (AUC x)', 'chance'],
    );
    assert.ok(roc.slice(0, 3).every((d) => d.points > 10));
    const auc = first(await db.query<{ roc_auc: number }>("select roc_auc from evaluations where run_id = $1 and split = 'test'", [id]));
    assert.equal(roc[2]!.label, `test (AUC ${auc.roc_auc.toFixed(3)})`);
    const pr = await chartPoints(page, '#pr-chart');
    assert.equal(pr.length, 4);
    assert.ok(pr.slice(0, 3).every((d) => d.points > 10));
    const crumbs = await page.$eval('.crumbs', (p) => p.textContent);
    assert.ok(crumbs!.includes(XSS_NAME));
    await screenshot(page, 'run');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('run: a failed run lists its failed attempts with their errors as text; a completed run has no such section', async () => {
    const { page, problems } = await view(`/runs/${study.runIds[2]}`, '#failed-attempts-table');
    const rows = await page.$$eval('#failed-attempts-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]![0], '1');
    assert.equal(rows[0]![2], 'cpu:0');
    assert.equal(rows[0]![3], 'no');
    assert.equal(rows[0]![4], 'Error: injected failure at epoch 5 (test hook)\n  <b>second line</b>');
    assert.equal(await page.$('#failed-attempts-table b'), null, 'the error is text, not markup');
    await screenshot(page, 'run-failed-attempts');
    await page.close();
    const completed = await view(`/runs/${study.runIds[0]}`, '#confusion-table');
    assert.equal(await completed.page.$eval('#failed-attempts', (d) => (d.closest('section') as HTMLElement).hidden), true);
    await completed.page.close();
    assert.deepEqual([...problems, ...completed.problems], []);
  });

  test('run: the probability histogram per class and the misclassified images are those of the database', async () => {
    const id = study.runIds[0];
    const { page, problems } = await view(`/runs/${id}`, '#missed h3');
    for (const split of ['test', 'val']) {
      if (split !== 'test') {
        await page.selectOption('#predictions-split', split);
        await page.waitForFunction((s) => document.querySelector('#predictions-note')?.textContent?.includes(` ${s} images`), split);
      }
      const cm = first(
        await db.query<{ fp: number; fn: number; n: number }>('select fp, fn, n from evaluations where run_id = $1 and split = $2', [id, split]),
      );
      const bars = await page.$eval('#probability-chart canvas', (c) =>
        (globalThis as unknown as { Chart: { getChart(c: unknown): { data: { datasets: { label: string; data: { y: number }[] }[] } } } }).Chart.getChart(
          c,
        ).data.datasets.map((d) => [d.label, d.data.reduce((a, p) => a + p.y, 0)]),
      );
      const counts = first(
        await db.query<{ benign: number; malignant: number }>(
          'select count(*) filter (where label = 0)::integer as benign, count(*) filter (where label = 1)::integer as malignant from predictions where run_id = $1 and split = $2',
          [id, split],
        ),
      );
      assert.deepEqual(bars, [
        [`true benign (${counts.benign})`, counts.benign],
        [`true malignant (${counts.malignant})`, counts.malignant],
      ]);
      assert.equal(counts.benign + counts.malignant, cm.n);
      assert.match((await page.$eval('#missed h3', (h) => h.textContent))!, new RegExp(`: ${cm.fn}( |$)`));
      assert.match((await page.$eval('#false-alarms h3', (h) => h.textContent))!, new RegExp(`: ${cm.fp}( |$)`));
      const missed = await page.$$eval('#missed .error-tile', (tiles) => tiles.map((t) => t.getAttribute('data-image')));
      const lowest = await db.query<{ image: string }>(
        'select image from predictions where run_id = $1 and split = $2 and label = 1 and probability <= 0.5 order by probability, image limit 12',
        [id, split],
      );
      assert.deepEqual(
        missed,
        lowest.map((r) => r.image),
      );
      assert.equal(await page.$$eval('#errors img', (imgs) => imgs.length), 0, 'no dataset folder: blank tiles');
    }
    await screenshot(page, 'run-predictions');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("experiment: the reproduction section shows the article's numbers, the claims and the pairwise tests of the API's report", async () => {
    const { page, problems } = await view(`/experiments/${study.experimentId}`, '#delong-table tr[data-pair]');
    const report = await (await fetch(`${server.url}/api/experiments/${study.experimentId}/reproduction`)).json();
    const checks = await page.$$eval('#article-numbers tr[data-number]', (trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-number'),
        tr.querySelector('[data-check="range"]')?.textContent,
        tr.querySelector('[data-check="2std"]')?.textContent,
      ]),
    );
    const yesNo = (b: boolean | null) => (b === null ? 'n/a' : b ? 'yes' : 'no');
    assert.deepEqual(
      checks,
      report.article.map((a: { id: string; withinRange: boolean | null; within2Std: boolean | null }) => [a.id, yesNo(a.withinRange), yesNo(a.within2Std)]),
    );
    const verdicts = await page.$$eval('#claims > li', (lis) => lis.map((li) => [li.getAttribute('data-claim'), li.getAttribute('data-verdict')]));
    assert.deepEqual(
      verdicts,
      report.claims.map((c: { id: string; verdict: string }) => [c.id, c.verdict]),
    );
    assert.equal(await page.$$eval('#welch-table tr[data-pair]', (trs) => trs.length), report.welch.length);
    assert.match((await page.$eval('#reproduction', (d) => d.textContent))!, /Protocol: seed\./);
    await screenshot(page, 'experiment-reproduction');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('experiment: runs that give every test image one probability are named, linked and set apart in the reproduction section', async () => {
    const report = await (await fetch(`${server.url}/api/experiments/${study.experimentId}/reproduction`)).json();
    assert.deepEqual(report.constantRuns, [], "the fixture's runs all rank their images");
    const runId = study.runIds[0]!;
    const answer = {
      ...report,
      constantRuns: [{ runId, model: 'baseline', runIndex: 0, probability: 0.45459 }],
      constantTolerance: 0.001,
      withoutConstant: [{ model: 'baseline', rocAuc: { n: 1, mean: 0.81234, std: null, min: 0.81234, max: 0.81234 } }],
      claimsWithoutConstant: report.claims.slice(0, 1).map((c: { verdict: string }) => ({ ...c, verdict: 'supported' })),
    };
    const page = await browser.newPage();
    await page.route(/\/api\/experiments\/\d+\/reproduction$/, (route) => route.fulfill({ json: answer }));
    await page.goto(`${server.url}/experiments/${study.experimentId}`);
    await page.waitForSelector('#constant-runs');
    assert.equal(await page.getAttribute('#constant-runs a[data-run]', 'href'), `/runs/${runId}`);
    assert.match(
      (await page.$eval('#constant-runs', (p) => p.textContent))!,
      /same probability to within 0\.001: baseline run 0 \(p = 0\.4546\)\. .*without them: baseline 0\.812 over 1\.$/,
    );
    assert.deepEqual(await page.$$eval('#claims-without-constant > li', (lis) => lis.map((li) => [li.dataset.claim, li.dataset.verdict])), [
      [report.claims[0].id, 'supported'],
    ]);
    assert.equal(await page.$$eval('#claims > li', (lis) => lis.length), report.claims.length);
    await page.close();
  });

  test('experiment: each fine-tuned run against the run it starts from, in the reproduction section', async () => {
    const report = await (await fetch(`${server.url}/api/experiments/${study.experimentId}/reproduction`)).json();
    assert.deepEqual(report.fineTuned, [], 'the fixture has no fine-tuning model');
    const row = {
      a: 'xception',
      b: 'xception-ft',
      runIndex: 1,
      images: 660,
      aucA: 0.8942,
      aucB: 0.9087,
      diff: -0.0145,
      ci: [-0.0237, -0.0053],
      z: -3.1,
      p: 0.00195,
    };
    const page = await browser.newPage();
    await page.route(/\/api\/experiments\/\d+\/reproduction$/, (route) => route.fulfill({ json: { ...report, fineTuned: [row] } }));
    await page.goto(`${server.url}/experiments/${study.experimentId}`);
    await page.waitForSelector('#fine-tuned-table tr[data-pair]');
    const cells = await page.$$eval('#fine-tuned-table tr[data-pair] td', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(cells, ['xception run 1 vs xception-ft run 1', '660', '0.894', '0.909', '-0.024 to -0.005', '0.002']);
    await page.close();
  });

  test("experiment: the ensemble of each model's runs, and the images its runs get wrong most often, per model and split", async () => {
    const { page, problems } = await view(`/experiments/${study.experimentId}`, '#misclassified .error-tile');
    const api = async (model: string, split: string) =>
      (await (await fetch(`${server.url}/api/experiments/${study.experimentId}/misclassified?model=${model}&split=${split}`)).json()).images.map(
        (i: { image: string }) => i.image,
      );
    const shown = () => page.$$eval('#misclassified .error-tile', (tiles) => tiles.map((t) => t.getAttribute('data-image')));
    assert.deepEqual(await shown(), await api('baseline', 'test'));
    assert.equal((await shown()).length, 24);
    const ensembleApi = await (await fetch(`${server.url}/api/experiments/${study.experimentId}/ensemble`)).json();
    const ensembleRows = await page.$$eval('#ensemble-table tr[data-kind="ensemble"]', (trs) =>
      trs.map((tr) => [tr.getAttribute('data-model'), tr.querySelector('[data-metric="roc_auc"]')?.textContent]),
    );
    assert.deepEqual(
      ensembleRows,
      ensembleApi.models.map((m: { model: string; metrics: { roc_auc: number } }) => [m.model, m.metrics.roc_auc.toFixed(3)]),
    );
    assert.equal(await page.$$eval('#ensemble-table tr[data-kind="runs"]', (trs) => trs.length), 2, 'each ensemble above its single runs');
    // The answer to the first of two quick choices arrives last: the page keeps showing the second.
    let lateAnswered!: () => void;
    const lateAnswer = new Promise<void>((resolve) => {
      lateAnswered = resolve;
    });
    await page.route(/\/misclassified\?model=xception&split=test$/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
      lateAnswered();
    });
    await page.selectOption('#misclassified-model', 'xception');
    await page.selectOption('#misclassified-split', 'val');
    await page.waitForFunction(() => /xception runs?: the val images/.test(document.querySelector('#misclassified .hint')?.textContent ?? ''));
    await lateAnswer;
    await page.waitForTimeout(300);
    assert.deepEqual(await shown(), await api('xception', 'val'));
    assert.match((await page.$eval('#misclassified .hint', (p) => p.textContent))!, /Over 2 completed xception runs: the val images/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('run with a one-class validation split shows — for its undefined AUCs', async () => {
    const { page, problems } = await view(`/runs/${oneClass.runIds[0]}`, '#final-table');
    const val = await page.$$eval('#final-table tr[data-split="val"] td[data-metric]', (tds) =>
      Object.fromEntries(tds.map((td) => [td.getAttribute('data-metric'), td.textContent])),
    );
    assert.equal(val.roc_auc, '—');
    assert.equal(val.pr_auc, '—');
    assert.match(val.accuracy!, /^0\.\d{3}$/);
    const summary = await view(`/experiments/${oneClass.experimentId}`, '#summary-table');
    const cell = await summary.page.$eval('#summary-table tr[data-split="val"] td[data-metric="roc_auc"]', (td) => td.textContent);
    assert.equal(cell, '—');
    assert.deepEqual([...problems, ...summary.problems], []);
    await page.close();
    await summary.page.close();
  });

  test('a running run gains epochs without a reload', async () => {
    const id = study.runIds[5]!;
    const { page, problems } = await view(`/runs/${id}`, '#history-loss canvas');
    await page.waitForFunction(() => document.querySelector('#live')?.textContent?.includes('live'), null, { timeout: 8000 }).catch(() => {});
    assert.deepEqual(
      (await chartPoints(page, '#history-loss')).map((d) => d.points),
      [8, 8],
    );
    await screenshot(page, 'run-running');
    // The worker reports two more epochs.
    const more = runEvents({ model: 'xception', seed: 1002, epochs: 30, bestEpoch: 20, upTo: 10 })
      .filter((e) => e.type === 'epoch')
      .slice(8);
    for (const e of more) await recordEvent(db, id, e);
    await page.waitForFunction(
      () => {
        const c = document.querySelector('#history-loss canvas');
        const chart = (globalThis as unknown as { Chart: { getChart(c: unknown): { data: { datasets: { data: unknown[] }[] } } } }).Chart.getChart(c);
        return chart?.data.datasets[0]?.data.length === 10;
      },
      null,
      { timeout: 10_000 },
    );
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('compare: mean ± std bands, and the runs overlaid', async () => {
    const { page, problems } = await view(`/experiments/${study.experimentId}/compare?model=xception`, '#compare-roc_auc canvas');
    await page.waitForFunction(() => document.querySelector('#compare-note')?.textContent?.includes('run(s)'));
    const bands = await chartPoints(page, '#compare-roc_auc');
    assert.deepEqual(
      bands.map((d) => [d.label, d.fill]),
      [
        ['+1 std', false],
        ['± 1 std', '-1'],
        ['mean of 3 runs', null],
      ],
    );
    assert.ok(
      bands.every((d) => d.points === 20),
      'the longest run has 20 epochs',
    );
    await screenshot(page, 'compare-bands');
    await page.selectOption('#compare-mode', 'overlay');
    const lines = await chartPoints(page, '#compare-roc_auc');
    assert.equal(lines.length, 3, 'three runs have epochs (the pending one has none)');
    const epochs = await db.query<{ n: number }>(
      "select count(*)::integer as n from epoch_metrics where split = 'val' and run_id = any($1::integer[]) group by run_id order by n",
      [study.runIds.slice(3)],
    );
    assert.deepEqual(
      lines.map((d) => d.points).sort((a, b) => a - b),
      epochs.map((e) => e.n),
    );
    assert.match(page.url(), /mode=overlay/);
    await screenshot(page, 'compare-overlay');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('compare experiments: settings that differ, summaries of metric_summary per model, a grouped bar chart', async () => {
    const ids = [study.experimentId, oneClass.experimentId];
    const { page, problems } = await view(`/compare?experiments=${ids.join(',')}`, '#compare-table');
    const settings = await page.$$eval('#settings-table tbody tr', (trs) =>
      trs.map((tr) => ({
        name: tr.getAttribute('data-setting'),
        differs: tr.classList.contains('differs'),
        values: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent),
      })),
    );
    const setting = (name: string) => settings.find((x) => x.name === name)!;
    assert.deepEqual(setting('Models'), { name: 'Models', differs: true, values: ['baseline, xception', 'mobilenet'] });
    assert.deepEqual(setting('Epochs (at most)'), { name: 'Epochs (at most)', differs: false, values: ['30', '30'] });
    assert.deepEqual(setting('runs').values, ['7', '1']);
    assert.equal(setting('Code version').differs, false);

    // The test split by default: each model's experiments, the numbers of metric_summary.
    const sql = await db.query<{ experiment_id: number; model: string; metric: string; n: number; mean: number; stddev: number | null }>(
      "select experiment_id, model, metric, n, mean, stddev from metric_summary where experiment_id = any($1::integer[]) and split = 'test'",
      [ids],
    );
    const cells = await page.$$eval('#compare-table tbody tr[data-model]', (trs) =>
      trs.map((tr) => ({
        model: tr.getAttribute('data-model'),
        experiment: Number(tr.getAttribute('data-experiment')),
        n: tr.querySelector('td')!.textContent,
        values: Object.fromEntries(
          Array.from(tr.querySelectorAll('td[data-metric]')).map((td) => [td.getAttribute('data-metric'), td.firstChild!.textContent]),
        ),
      })),
    );
    assert.deepEqual(
      cells.map((c) => [c.model, c.experiment]),
      [
        ['baseline', ids[0]],
        ['xception', ids[0]],
        ['mobilenet', ids[1]],
      ],
    );
    assert.equal(sql.length, 3 * METRIC_NAMES.length);
    for (const r of sql) {
      const cell = cells.find((c) => c.model === r.model && c.experiment === r.experiment_id)!;
      assert.equal(cell.values[r.metric], fmt(r.mean, r.stddev), `${r.experiment_id} ${r.model} ${r.metric}`);
      assert.equal(cell.n, String(r.n));
    }
    assert.equal(await page.$$eval('#compare-table td.best', (tds) => tds.length), 0, 'no model is in both experiments: nothing to mark');

    const bars = await chartPoints(page, '#compare-chart');
    assert.deepEqual(
      bars.map((b) => [b.label, b.points]),
      [
        [XSS_NAME, 2],
        ['one-class validation', 1],
      ],
    );
    const labels = await page.$eval(
      '#compare-chart canvas',
      (c) => (globalThis as unknown as { Chart: { getChart(c: unknown): { data: { labels: string[] } } } }).Chart.getChart(c).data.labels,
    );
    assert.deepEqual(labels, ['baseline', 'xception', 'mobilenet']);
    await screenshot(page, 'compare-experiments');

    // History of one model: the mean of its runs per epoch, as the experiment's own compare endpoint gives it.
    const history = await chartPoints(page, '#history-chart');
    assert.deepEqual(
      history.map((d) => [d.label, d.fill]),
      [
        [`${XSS_NAME} +1 std`, false],
        [`${XSS_NAME} ± 1 std`, '-1'],
        [XSS_NAME, null],
      ],
    );
    const band = (await (await fetch(`${server.url}/api/experiments/${ids[0]}/compare?model=baseline`)).json()).bands.val.roc_auc;
    assert.equal(history[2]!.points, band.length);
    await page.selectOption('#history-model', 'mobilenet');
    await page.waitForFunction(() => document.querySelector('#history-note')?.textContent?.startsWith('mobilenet'));
    assert.deepEqual((await chartPoints(page, '#history-chart')).map((d) => [d.label, d.points]).slice(2), [['one-class validation', 6]]);

    // The settings stay in the URL; the val split of the one-class run has no ROC AUC.
    await page.selectOption('#compare-split', 'val');
    await page.selectOption('#compare-metric', 'roc_auc');
    assert.match(page.url(), /split=val&metric=roc_auc&model=mobilenet&historySplit=val/);
    const valAuc = await page.$eval(`#compare-table tr[data-experiment="${ids[1]}"] td[data-metric="roc_auc"]`, (td) => td.textContent);
    assert.equal(valAuc, '—');
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('dataset: class counts, sample grids and augmented samples load (tiny real subset)', async (t) => {
    if (!realDataOrSkip(t)) return;
    const subset = realSubset({ train: 10, test: 4 });
    const dataServer = await startServer({ db, port: 0, dataDir: subset });
    try {
      const opened = await openPage(browser);
      const { page, problems } = opened;
      await page.goto(`${dataServer.url}/dataset`);
      await page.waitForSelector('#counts-table');
      const counts = await page.$$eval('#counts-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
      assert.deepEqual(counts, [
        ['train', '8', '8', '16', '50.0%'],
        ['val', '2', '2', '4', '50.0%'],
        ['test', '4', '4', '8', '50.0%'],
        ['all', '14', '14', '28', '50.0%'],
      ]);
      const bars = await chartPoints(page, '#class-chart');
      assert.deepEqual(
        bars.map((b) => [b.label, b.points]),
        [
          ['benign', 3],
          ['malignant', 3],
        ],
      );
      // Every image (8 samples per class, 4 sources x (original + 5 augmentations)) decoded in the browser.
      await page.waitForFunction(
        () => Array.from(document.images).length === 40 && Array.from(document.images).every((img) => img.complete && img.naturalWidth > 0),
        null,
        { timeout: 20_000 },
      );
      const sizes = await page.$$eval('#augmented img', (imgs) => imgs.map((img) => (img as HTMLImageElement).naturalWidth));
      assert.ok(sizes.every((w) => w === 224));
      await screenshot(page, 'dataset');
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      await dataServer.close();
      rmSync(subset, { recursive: true, force: true });
    }
  });

  test('misclassified images show from the dataset the run was evaluated on (tiny real subset)', async (t) => {
    if (!realDataOrSkip(t)) return;
    const subset = realSubset({ train: 10, test: 4 });
    const own = await openDatabase('memory://');
    const dataServer = await startServer({ db: own, port: 0, dataDir: subset });
    try {
      const index = await indexDataset(subset, { warn: () => {} });
      const dataset = { fingerprint: index.fingerprint, images: { train: index.splits.train, val: index.splits.val, test: index.splits.test } };
      const built = await buildExperiment(own, { name: 'on the subset', runs: [{ model: 'baseline', epochs: 4, bestEpoch: 2 }], dataset });
      const { page, problems } = await openPage(browser);
      await page.goto(`${dataServer.url}/runs/${built.runIds[0]}`);
      await page.waitForSelector('#missed h3');
      await page.selectOption('#predictions-split', 'train'); // 16 images, of which the fixture's seeded scores get some wrong
      await page.waitForFunction(() => document.querySelector('#predictions-note')?.textContent?.includes(' train images'));
      const tiles = await page.$$eval('#errors .error-tile', (ts) => ts.length);
      assert.ok(tiles > 0);
      await page.$$eval('#errors img', (imgs) => {
        for (const i of imgs) (i as HTMLImageElement).loading = 'eager';
      });
      await page.waitForFunction(
        (n) => {
          const imgs = Array.from(document.querySelectorAll('#errors img')) as HTMLImageElement[];
          return imgs.length === n && imgs.every((img) => img.complete && img.naturalWidth === 112);
        },
        tiles,
        { timeout: 20_000 },
      );
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      await dataServer.close();
      await own.close();
      rmSync(subset, { recursive: true, force: true });
    }
  });

  test('unknown ids give a 404 page', async () => {
    const { page } = await openPage(browser);
    const res = await page.goto(`${server.url}/runs/987654`);
    assert.equal(res?.status(), 404);
    assert.match((await page.textContent('h1')) ?? '', /404/);
    await screenshot(page, 'not-found');
    await page.close();
  });
});
