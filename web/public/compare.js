// @ts-check
// All runs of one model of an experiment: their history curves overlaid, or as mean ± std bands per epoch
// (runs that stopped early drop out of later epochs; n per epoch is in the tooltip).
/** @import { CompareView, ExperimentAnswer } from '../api-types.ts' */
/** @import { LinePoint } from './charts.js' */
import { METRICS, METRIC_LABELS, crumbs, el, fill, getJSON, mainElement, meanStd, num, pathPart, poll, section, showError, statusBadge } from './common.js';
import { control, optionList, picker } from './controls.js';
import { SPLIT_STYLE, bandDatasets, baseOptions, chartBox, drawChart, legend, lineDataset, metricAxis, metricRange, seriesStyle } from './charts.js';

const id = pathPart(1);
const params = new URLSearchParams(location.search);
const main = mainElement();

const header = el('div', { id: 'compare-header' });
const modelSelect = el('select', { id: 'compare-model', 'aria-label': 'model' });
const splitSelect = picker({ id: 'compare-split', 'aria-label': 'split' }, ['val', 'train'], params.get('split') ?? 'val');
const MODES = { bands: 'mean ± std bands', overlay: 'overlaid runs' };
const modeSelect = picker(
  { id: 'compare-mode', 'aria-label': 'display' },
  /** @type {const} */ (['bands', 'overlay']),
  params.get('mode') === 'overlay' ? 'overlay' : 'bands',
  (m) => MODES[m],
);
const note = el('p', { class: 'hint', id: 'compare-note' });
const charts = new Map(METRICS.map((m) => [m, chartBox(METRIC_LABELS[m], { id: `compare-${m}` })]));

main.append(
  header,
  el('p', { id: 'live', class: 'live', hidden: true }),
  el('div', { class: 'controls' }, control('Model', modelSelect), control('Split', splitSelect), control('Show', modeSelect)),
  note,
  section(
    'History per epoch',
    el(
      'div',
      { class: 'chart-grid' },
      [...charts.values()].map((c) => c.box),
    ),
  ),
);

/** The model shown: the page's ?model= until another is picked. */
let model = params.get('model') ?? '';
/** @type {CompareView | null} */
let data = null;

/**
 * @param {ExperimentAnswer} experiment
 * @param {CompareView} data
 */
function renderHeader(experiment, data) {
  document.title = `Compare ${data.model} · ${experiment.name} · melanoma study`;
  fill(
    header,
    crumbs(experiment),
    el('h1', {}, `Compare: ${data.model}`),
    el(
      'p',
      { class: 'links' },
      data.runs.map((r) => el('span', {}, el('a', { href: `/runs/${encodeURIComponent(r.id)}` }, `#${r.id}`), ' ', statusBadge(r.status))),
    ),
  );
  fill(modelSelect, optionList(experiment.models, data.model));
}

function render() {
  if (!data) return;
  const split = splitSelect.value === 'train' ? 'train' : 'val';
  const mode = modeSelect.value;
  const runs = data.runs.filter((r) => r.epochs.length);
  fill(
    note,
    runs.length
      ? `${runs.length} run(s) with epochs; ${split} split; ${mode === 'bands' ? 'line = mean, band = ± 1 sample std (clipped to [0, 1], the loss at 0), n = runs that reached the epoch' : 'one line per run'}.`
      : 'No epochs recorded for this model yet.',
  );
  const maxEpoch = Math.max(2, ...runs.map((r) => r.epochs.at(-1)?.epoch ?? 0));
  for (const [metric, chart] of charts) {
    let datasets;
    if (mode === 'overlay') {
      datasets = runs.map((r, i) =>
        lineDataset(
          `#${r.id} (repeat ${r.repeat}${r.status === 'completed' ? '' : `, ${r.status}`})`,
          r.epochs.map((e) => ({ x: e.epoch, y: e[split]?.[metric] ?? null })),
          seriesStyle(i),
        ),
      );
    } else {
      datasets = bandDatasets(data.bands[split][metric], SPLIT_STYLE[split], { mean: `mean of ${runs.length} runs`, range: metricRange(metric) });
    }
    const options = baseOptions({ xTitle: 'epoch', yTitle: METRIC_LABELS[metric], xMin: 1, xMax: maxEpoch, ...metricAxis(metric) });
    options.scales.x.ticks = { precision: 0 };
    options.plugins.legend = {
      ...legend,
      labels: { ...legend.labels, filter: (item, chartData) => chartData.datasets[item.datasetIndex ?? -1]?.label !== '+1 std' },
    };
    options.plugins.tooltip = {
      filter: (item) => !item.dataset.band,
      callbacks: {
        label: (ctx) => {
          const p = /** @type {LinePoint} */ (ctx.raw);
          return p.n !== undefined ? `mean ${meanStd(p.y, p.std)} (n=${p.n})` : `${ctx.dataset.label}: ${num(p.y)}`;
        },
      },
    };
    drawChart(chart.canvas, { type: 'line', data: { datasets }, options });
  }
}

function syncUrl() {
  const q = new URLSearchParams({ model, split: splitSelect.value, mode: modeSelect.value });
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

async function load() {
  /** @type {[ExperimentAnswer, CompareView]} */
  const [x, c] = await Promise.all([
    getJSON(`/api/experiments/${encodeURIComponent(id)}`),
    getJSON(`/api/experiments/${encodeURIComponent(id)}/compare?model=${encodeURIComponent(model)}`),
  ]);
  data = c;
  renderHeader(x, c);
  render();
}

modelSelect.addEventListener('change', async () => {
  model = modelSelect.value;
  syncUrl();
  try {
    await load();
  } catch (err) {
    showError(err);
  }
});
for (const select of [splitSelect, modeSelect]) {
  select.addEventListener('change', () => {
    syncUrl();
    render();
  });
}

try {
  await load();
  poll(load, () => data?.runs.some((r) => r.status === 'running' || r.status === 'pending'), 3000);
} catch (err) {
  showError(err);
}
