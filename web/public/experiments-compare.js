// @ts-check
// Experiments side by side (e.g. the same study at 64 and 224 px): their settings, with the ones that differ
// marked; the summary of one split, each model's experiments one under the other, best per model and column marked;
// one metric as grouped bars (models along the axis, one bar per experiment, std whiskers); and that metric's
// history for one model, the mean ± std band of each experiment's runs per epoch.
/** @import { CompareView, ExperimentComparison, ExperimentSettings } from '../api-types.ts' */
import {
  DASH,
  METRICS,
  METRIC_LABELS,
  SPLITS,
  bestMeans,
  crumbs,
  el,
  fill,
  getJSON,
  indexSummary,
  mainElement,
  meanStd,
  metricMax,
  poll,
  section,
  settings,
  showError,
  statusBadge,
  summaryCells,
  table,
} from './common.js';
import { control, optionList, picker, selected } from './controls.js';
import { chartBox, drawBands, drawMeanBars, meanBarDataset, metricRange } from './charts.js';

const params = new URLSearchParams(location.search);
const ids = params.get('experiments') ?? '';
const main = mainElement();
const HISTORY_SPLITS = /** @type {const} */ (['val', 'train']);

const header = el('div', { id: 'compare-header' });
const settingsHolder = el('div', { id: 'settings' });
const summaryHolder = el('div', { id: 'summary' });
const splitSelect = picker({ id: 'compare-split', 'aria-label': 'split' }, SPLITS, params.get('split') ?? 'test');
const metricSelect = picker(
  { id: 'compare-metric', 'aria-label': 'metric shown in the chart' },
  METRICS,
  params.get('metric') ?? 'roc_auc',
  (m) => METRIC_LABELS[m],
);
const { box: chartFigure, canvas: chartCanvas } = chartBox('Mean ± std per model and experiment', { id: 'compare-chart' });
const modelSelect = el('select', { id: 'history-model', 'aria-label': 'model whose history is shown' });
const historySplitSelect = picker({ id: 'history-split', 'aria-label': 'split of the history' }, HISTORY_SPLITS, params.get('historySplit') ?? 'val');
const historyNote = el('p', { class: 'hint', id: 'history-note' });
const { box: historyFigure, canvas: historyCanvas } = chartBox('Mean ± std per epoch, one band per experiment', { id: 'history-chart' });

main.append(
  header,
  el('p', { id: 'live', class: 'live', hidden: true }),
  section('Settings', el('p', { class: 'hint' }, 'Rows in bold differ between the experiments.'), settingsHolder),
  section(
    'Summary',
    control('Split', splitSelect),
    el(
      'p',
      { class: 'hint' },
      'Mean ± sample std over completed runs; n = runs. ★ marks the best experiment of each model and column (lowest loss, highest otherwise).',
    ),
    summaryHolder,
  ),
  section('Charts', control('Metric', metricSelect), chartFigure),
  section(
    'History of one model',
    el('div', { class: 'controls' }, control('Model', modelSelect), control('Split', historySplitSelect)),
    historyNote,
    historyFigure,
  ),
);

/** @type {ExperimentComparison | null} */
let comparison = null;
/** Per experiment that has the model: its bands from /api/experiments/:id/compare. */
/** @type {{ x: ExperimentSettings, bands: CompareView['bands'] }[]} */
let histories = [];

/**
 * The summary's entries by "experimentId|model|split".
 * @param {ExperimentComparison['rows']} rows
 */
const indexRows = (rows) => indexSummary(rows, (r) => `${r.experimentId}|${r.model}|${r.split}`);

/**
 * Models in study order, as the experiments list them.
 * @param {ExperimentComparison} data
 */
function models(data) {
  const seen = new Set(data.experiments.flatMap((x) => x.models));
  return [...seen];
}

const experimentLink = (/** @type {ExperimentSettings} */ x) => el('a', { href: `/experiments/${encodeURIComponent(x.id)}` }, x.name);

/** @param {ExperimentComparison} data */
function renderHeader(data) {
  document.title = `Compare ${data.experiments.map((x) => x.name).join(', ')} · melanoma study`;
  fill(
    header,
    crumbs(),
    el('h1', {}, data.experiments.length === 1 ? 'One experiment' : `Compare ${data.experiments.length} experiments`),
    el(
      'p',
      { class: 'links' },
      data.experiments.map((x) => el('span', {}, experimentLink(x), ' ', statusBadge(x.status))),
    ),
  );
}

/** @param {ExperimentComparison} data */
function renderSettings(data) {
  /** @type {Map<string, string[]>} */
  const rows = new Map(); // label → one text per experiment
  const add = (/** @type {string} */ label, /** @type {number} */ i, /** @type {string} */ text) => {
    const texts = rows.get(label) ?? data.experiments.map(() => DASH);
    rows.set(label, texts);
    texts[i] = text;
  };
  data.experiments.forEach((x, i) => {
    add('Models', i, x.models.join(', '));
    add('Runs done', i, `${x.counts.done} / ${x.counts.total}`);
    for (const [label, text] of settings(x)) add(label, i, text);
    add('Dataset', i, x.datasetFingerprint ? `${x.datasetFingerprint.slice(0, 16)} (${x.dataDir ?? DASH})` : DASH);
  });
  const body = [...rows].map(([label, texts]) => {
    const differs = new Set(texts).size > 1;
    return el(
      'tr',
      { class: differs ? 'differs' : undefined, 'data-setting': label },
      el('th', { scope: 'row' }, label),
      texts.map((t) => el('td', {}, t)),
    );
  });
  fill(
    settingsHolder,
    table([el('th', { scope: 'col' }, 'Setting'), ...data.experiments.map((x) => el('th', { scope: 'col' }, experimentLink(x)))], body, {
      id: 'settings-table',
    }),
  );
}

/** @param {ExperimentComparison} data */
function renderSummary(data) {
  const split = selected(splitSelect, SPLITS);
  const byKey = indexRows(data.rows);
  const head = [
    el('th', { scope: 'col' }, 'Experiment'),
    el('th', { scope: 'col', class: 'num' }, 'n'),
    ...METRICS.map((m) => el('th', { scope: 'col', class: 'num' }, METRIC_LABELS[m])),
  ];
  const rows = [];
  for (const model of models(data)) {
    const entries = data.experiments.flatMap((x) => {
      const e = byKey.get(`${x.id}|${model}|${split}`);
      return e ? [{ x, e }] : [];
    });
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

/** @param {ExperimentComparison} data */
function renderChart(data) {
  const split = selected(splitSelect, SPLITS);
  const metric = selected(metricSelect, METRICS);
  const byKey = indexRows(data.rows);
  const shown = models(data).filter((m) => data.experiments.some((x) => byKey.has(`${x.id}|${m}|${split}`)));
  chartFigure.hidden = shown.length === 0;
  const datasets = data.experiments.map((x, i) => {
    const cells = shown.map((m) => byKey.get(`${x.id}|${m}|${split}`)?.metrics[metric]);
    return {
      ...meanBarDataset(
        x.name,
        cells,
        shown.map(() => metricRange(metric)),
        i,
      ),
      counts: cells.map((c) => c?.n ?? 0),
    };
  });
  drawMeanBars(
    chartCanvas,
    shown,
    datasets,
    `${split} ${METRIC_LABELS[metric]}: mean ± std (whiskers${metricMax(metric) === null ? '' : `, clipped to [0, ${metricMax(metric)}]`}) over completed runs`,
    (ctx) =>
      `${ctx.dataset.label}: ${meanStd(/** @type {number | null} */ (ctx.raw), ctx.dataset.errorBars?.[ctx.dataIndex])} (n=${ctx.dataset.counts?.[ctx.dataIndex]})`,
  );
}

function renderHistory() {
  const split = selected(historySplitSelect, HISTORY_SPLITS);
  const metric = selected(metricSelect, METRICS);
  const shown = histories.filter((h) => h.bands[split][metric].length);
  fill(
    historyNote,
    shown.length
      ? `${modelSelect.value}, ${split} ${METRIC_LABELS[metric]} (the metric chosen above): line = mean over the experiment's completed and running runs, band = ± 1 sample std${metricMax(metric) === null ? '' : ` clipped to [0, ${metricMax(metric)}]`}; n (in the tooltip) drops as runs stop early.`
      : `No epochs of ${modelSelect.value || 'any model'} recorded yet.`,
  );
  historyFigure.hidden = shown.length === 0;
  drawBands(
    historyCanvas,
    metric,
    shown.map((h) => ({ band: h.bands[split][metric], name: h.x.name, mean: h.x.name })),
    0.15,
  );
}

/** @param {ExperimentComparison} data */
async function loadHistories(data) {
  const model = modelSelect.value;
  const withModel = data.experiments.filter((x) => x.models.some((m) => m === model));
  histories = await Promise.all(
    withModel.map(async (x) => {
      /** @type {CompareView} */
      const v = await getJSON(`/api/experiments/${encodeURIComponent(x.id)}/compare?${new URLSearchParams({ model })}`);
      return { x, bands: v.bands };
    }),
  );
}

/** @param {ExperimentComparison} data */
function render(data) {
  renderHeader(data);
  renderSettings(data);
  renderSummary(data);
  renderChart(data);
  renderHistory();
}

function keepInUrl() {
  const q = new URLSearchParams({
    experiments: ids,
    split: splitSelect.value,
    metric: metricSelect.value,
    model: modelSelect.value,
    historySplit: historySplitSelect.value,
  });
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

async function load() {
  /** @type {ExperimentComparison} */
  const data = await getJSON(`/api/compare?${new URLSearchParams({ experiments: ids })}`);
  comparison = data;
  const chosen = modelSelect.value || params.get('model');
  const available = models(data);
  fill(modelSelect, optionList(available, chosen));
  await loadHistories(data);
  render(data);
}

for (const select of [splitSelect, metricSelect, historySplitSelect]) {
  select.addEventListener('change', () => {
    keepInUrl();
    if (!comparison) return;
    renderSummary(comparison);
    renderChart(comparison);
    renderHistory();
  });
}
modelSelect.addEventListener('change', async () => {
  keepInUrl();
  if (!comparison) return;
  try {
    await loadHistories(comparison);
    renderHistory();
  } catch (err) {
    showError(err);
  }
});

try {
  await load();
  poll(load, () => comparison?.experiments.some((x) => x.status === 'running'), 3000);
} catch (err) {
  showError(err);
}
