// Experiments side by side (e.g. the same study at 64 and 224 px): their settings, with the ones that differ
// marked; the summary of one split, each model's experiments one under the other, best per model and column marked;
// one metric as grouped bars (models along the axis, one bar per experiment, std whiskers); and that metric's
// history for one model, the mean ± std band of each experiment's runs per epoch.
import {
  DASH, METRICS, METRIC_LABELS, SPLITS, bestMeans, el, fill, getJSON, meanStd, metricMax, poll, section, settings, showError,
  statusBadge, summaryCells, table,
} from './common.js';
import { PALETTE, bandDatasets, bandOptions, chartBox, drawChart, hatch, meanBarMax, meanBarOptions, metricRange, seriesStyle } from './charts.js';

const params = new URLSearchParams(location.search);
const ids = params.get('experiments') ?? '';
const main = document.querySelector('main');

const header = el('div', { id: 'compare-header' });
const settingsHolder = el('div', { id: 'settings' });
const summaryHolder = el('div', { id: 'summary' });
const splitSelect = el('select', { id: 'compare-split', 'aria-label': 'split' }, SPLITS.map((s) => el('option', { value: s, selected: s === (params.get('split') ?? 'test') }, s)));
const metricSelect = el(
  'select',
  { id: 'compare-metric', 'aria-label': 'metric shown in the chart' },
  METRICS.map((m) => el('option', { value: m, selected: m === (params.get('metric') ?? 'roc_auc') }, METRIC_LABELS[m])),
);
const { box: chartFigure, canvas: chartCanvas } = chartBox('Mean ± std per model and experiment', { id: 'compare-chart' });
const modelSelect = el('select', { id: 'history-model', 'aria-label': 'model whose history is shown' });
const historySplitSelect = el(
  'select',
  { id: 'history-split', 'aria-label': 'split of the history' },
  ['val', 'train'].map((s) => el('option', { value: s, selected: s === (params.get('historySplit') ?? 'val') }, s)),
);
const historyNote = el('p', { class: 'hint', id: 'history-note' });
const { box: historyFigure, canvas: historyCanvas } = chartBox('Mean ± std per epoch, one band per experiment', { id: 'history-chart' });

main.append(
  header,
  el('p', { id: 'live', class: 'live', hidden: true }),
  section('Settings', el('p', { class: 'hint' }, 'Rows in bold differ between the experiments.'), settingsHolder),
  section(
    'Summary',
    el('label', { class: 'control' }, 'Split ', splitSelect),
    el('p', { class: 'hint' }, 'Mean ± sample std over completed runs; n = runs. ★ marks the best experiment of each model and column (lowest loss, highest otherwise).'),
    summaryHolder,
  ),
  section('Charts', el('label', { class: 'control' }, 'Metric ', metricSelect), chartFigure),
  section(
    'History of one model',
    el('div', { class: 'controls' }, el('label', { class: 'control' }, 'Model ', modelSelect), el('label', { class: 'control' }, 'Split ', historySplitSelect)),
    historyNote,
    historyFigure,
  ),
);

let data = null;
let histories = []; // per experiment that has the model: { x, bands } from /api/experiments/:id/compare

/** Map "experimentId|model|split" → { n, metrics: { metric: summary row } } */
function indexRows(rows) {
  const out = new Map();
  for (const r of rows) {
    const key = `${r.experimentId}|${r.model}|${r.split}`;
    if (!out.has(key)) out.set(key, { n: 0, metrics: {} });
    const entry = out.get(key);
    entry.n = Math.max(entry.n, r.n);
    entry.metrics[r.metric] = r;
  }
  return out;
}

/** Models in study order, as the experiments list them. */
function models() {
  const seen = new Set();
  for (const x of data.experiments) for (const m of x.models) seen.add(m);
  return [...seen];
}

const experimentLink = (x) => el('a', { href: `/experiments/${encodeURIComponent(x.id)}` }, x.name);

function renderHeader() {
  document.title = `Compare ${data.experiments.map((x) => x.name).join(', ')} · melanoma study`;
  fill(
    header,
    el('p', { class: 'crumbs' }, el('a', { href: '/' }, 'Experiments'), ' / '),
    el('h1', {}, data.experiments.length === 1 ? 'One experiment' : `Compare ${data.experiments.length} experiments`),
    el('p', { class: 'links' }, data.experiments.map((x) => el('span', {}, experimentLink(x), ' ', statusBadge(x.status)))),
  );
}

function renderSettings() {
  const rows = new Map(); // label → one text per experiment
  const add = (label, i, text) => {
    if (!rows.has(label)) rows.set(label, data.experiments.map(() => DASH));
    rows.get(label)[i] = text;
  };
  data.experiments.forEach((x, i) => {
    add('Models', i, x.models.join(', '));
    add('Runs done', i, `${x.counts.done} / ${x.counts.total}`);
    for (const [label, text] of settings(x)) add(label, i, text);
    add('Dataset', i, x.datasetFingerprint ? `${x.datasetFingerprint.slice(0, 16)} (${x.dataDir ?? DASH})` : DASH);
  });
  const body = [...rows].map(([label, texts]) => {
    const differs = new Set(texts).size > 1;
    return el('tr', { class: differs ? 'differs' : undefined, 'data-setting': label }, el('th', { scope: 'row' }, label), texts.map((t) => el('td', {}, t)));
  });
  fill(settingsHolder, table([el('th', { scope: 'col' }, 'Setting'), ...data.experiments.map((x) => el('th', { scope: 'col' }, experimentLink(x)))], body, { id: 'settings-table' }));
}

function renderSummary() {
  const split = splitSelect.value;
  const byKey = indexRows(data.rows);
  const head = [el('th', { scope: 'col' }, 'Experiment'), el('th', { scope: 'col', class: 'num' }, 'n'), ...METRICS.map((m) => el('th', { scope: 'col', class: 'num' }, METRIC_LABELS[m]))];
  const rows = [];
  for (const model of models()) {
    const entries = data.experiments.map((x) => ({ x, e: byKey.get(`${x.id}|${model}|${split}`) })).filter(({ e }) => e);
    if (entries.length === 0) continue;
    const best = bestMeans(entries.map(({ e }) => e));
    rows.push(el('tr', { class: 'group' }, el('th', { colspan: 2 + METRICS.length, scope: 'rowgroup' }, model)));
    for (const { x, e } of entries) {
      rows.push(
        el(
          'tr',
          { 'data-model': model, 'data-experiment': x.id },
          el('th', { scope: 'row' }, experimentLink(x)),
          el('td', { class: 'num' }, String(e.n)),
          summaryCells(e, best, entries.length > 1),
        ),
      );
    }
  }
  if (rows.length === 0) fill(summaryHolder, el('p', { class: 'empty' }, `No completed runs on the ${split} split yet.`));
  else fill(summaryHolder, table(head, rows, { id: 'compare-table', class: 'summary' }));
}

function renderChart() {
  const split = splitSelect.value;
  const metric = metricSelect.value;
  const byKey = indexRows(data.rows);
  const shown = models().filter((m) => data.experiments.some((x) => byKey.has(`${x.id}|${m}|${split}`)));
  chartFigure.hidden = shown.length === 0;
  const datasets = data.experiments.map((x, i) => {
    const color = PALETTE[i % PALETTE.length];
    const cell = (m) => byKey.get(`${x.id}|${m}|${split}`)?.metrics[metric];
    return {
      label: x.name,
      data: shown.map((m) => cell(m)?.mean ?? null),
      errorBars: shown.map((m) => cell(m)?.std ?? null),
      errorBarRanges: shown.map(() => metricRange(metric)),
      counts: shown.map((m) => cell(m)?.n ?? 0),
      backgroundColor: hatch(color, i),
      borderColor: color,
      borderWidth: 1.5,
    };
  });
  drawChart(chartCanvas, {
    type: 'bar',
    data: { labels: shown, datasets },
    options: meanBarOptions(
      `${split} ${METRIC_LABELS[metric]}: mean ± std (whiskers${metricMax(metric) === null ? '' : `, clipped to [0, ${metricMax(metric)}]`}) over completed runs`,
      (ctx) => `${ctx.dataset.label}: ${meanStd(ctx.raw, ctx.dataset.errorBars[ctx.dataIndex])} (n=${ctx.dataset.counts[ctx.dataIndex]})`,
      meanBarMax(datasets),
    ),
  });
}

function renderHistory() {
  const split = historySplitSelect.value;
  const metric = metricSelect.value;
  const shown = histories.filter((h) => h.bands[split][metric].length);
  fill(
    historyNote,
    shown.length
      ? `${modelSelect.value}, ${split} ${METRIC_LABELS[metric]} (the metric chosen above): line = mean over the experiment's completed and running runs, band = ± 1 sample std${metricMax(metric) === null ? '' : ` clipped to [0, ${metricMax(metric)}]`}; n (in the tooltip) drops as runs stop early.`
      : `No epochs of ${modelSelect.value || 'any model'} recorded yet.`,
  );
  historyFigure.hidden = shown.length === 0;
  const datasets = shown.flatMap((h, i) =>
    bandDatasets(h.bands[split][metric], seriesStyle(i), { prefix: `${h.x.name} `, mean: h.x.name, shade: 0.15, range: metricRange(metric) }),
  );
  drawChart(historyCanvas, { type: 'line', data: { datasets }, options: bandOptions(metric, METRIC_LABELS[metric]) });
}

async function loadHistories() {
  const model = modelSelect.value;
  const withModel = data.experiments.filter((x) => x.models.includes(model));
  const bands = await Promise.all(withModel.map((x) => getJSON(`/api/experiments/${encodeURIComponent(x.id)}/compare?${new URLSearchParams({ model })}`)));
  histories = withModel.map((x, i) => ({ x, bands: bands[i].bands }));
}

function render() {
  renderHeader();
  renderSettings();
  renderSummary();
  renderChart();
  renderHistory();
}

function keepInUrl() {
  const q = new URLSearchParams({ experiments: ids, split: splitSelect.value, metric: metricSelect.value, model: modelSelect.value, historySplit: historySplitSelect.value });
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

async function load() {
  data = await getJSON(`/api/compare?${new URLSearchParams({ experiments: ids })}`);
  const chosen = modelSelect.value || params.get('model');
  const available = models();
  fill(modelSelect, available.map((m) => el('option', { value: m, selected: m === chosen }, m)));
  await loadHistories();
  render();
}

for (const select of [splitSelect, metricSelect, historySplitSelect]) {
  select.addEventListener('change', () => {
    keepInUrl();
    renderSummary();
    renderChart();
    renderHistory();
  });
}
modelSelect.addEventListener('change', async () => {
  keepInUrl();
  try {
    await loadHistories();
    renderHistory();
  } catch (err) {
    showError(err);
  }
});

try {
  await load();
  poll(load, () => data.experiments.some((x) => x.status === 'running'), 3000);
} catch (err) {
  showError(err);
}
