// All runs of one model of an experiment: their history curves overlaid, or as mean ± std bands per epoch
// (runs that stopped early drop out of later epochs; n per epoch is in the tooltip).
import { METRICS, METRIC_LABELS, el, fill, getJSON, meanStd, num, pathPart, poll, section, showError, statusBadge } from './common.js';
import { SPLIT_STYLE, bandDatasets, baseOptions, chartBox, drawChart, lineDataset, metricAxis, metricRange, seriesStyle } from './charts.js';

const id = pathPart(1);
const params = new URLSearchParams(location.search);
const main = document.querySelector('main');

const header = el('div', { id: 'compare-header' });
const modelSelect = el('select', { id: 'compare-model', 'aria-label': 'model' });
const splitSelect = el('select', { id: 'compare-split', 'aria-label': 'split' }, ['val', 'train'].map((s) => el('option', { value: s, selected: s === (params.get('split') ?? 'val') }, s)));
const modeSelect = el(
  'select',
  { id: 'compare-mode', 'aria-label': 'display' },
  el('option', { value: 'bands', selected: params.get('mode') !== 'overlay' }, 'mean ± std bands'),
  el('option', { value: 'overlay', selected: params.get('mode') === 'overlay' }, 'overlaid runs'),
);
const note = el('p', { class: 'hint', id: 'compare-note' });
const charts = Object.fromEntries(METRICS.map((m) => [m, chartBox(METRIC_LABELS[m], { id: `compare-${m}` })]));

main.append(
  header,
  el('p', { id: 'live', class: 'live', hidden: true }),
  el('div', { class: 'controls' }, el('label', { class: 'control' }, 'Model ', modelSelect), el('label', { class: 'control' }, 'Split ', splitSelect), el('label', { class: 'control' }, 'Show ', modeSelect)),
  note,
  section('History per epoch', el('div', { class: 'chart-grid' }, METRICS.map((m) => charts[m].box))),
);

let experiment = null;
let data = null;

function renderHeader() {
  document.title = `Compare ${data.model} · ${experiment.name} · melanoma study`;
  fill(
    header,
    el('p', { class: 'crumbs' }, el('a', { href: '/' }, 'Experiments'), ' / ', el('a', { href: `/experiments/${encodeURIComponent(experiment.id)}` }, experiment.name), ' / '),
    el('h1', {}, `Compare: ${data.model}`),
    el('p', { class: 'links' }, data.runs.map((r) => el('span', {}, el('a', { href: `/runs/${encodeURIComponent(r.id)}` }, `#${r.id}`), ' ', statusBadge(r.status)))),
  );
  fill(modelSelect, experiment.models.map((m) => el('option', { value: m, selected: m === data.model }, m)));
}

function render() {
  const split = splitSelect.value;
  const mode = modeSelect.value;
  const runs = data.runs.filter((r) => r.epochs.length);
  fill(note, runs.length ? `${runs.length} run(s) with epochs; ${split} split; ${mode === 'bands' ? 'line = mean, band = ± 1 sample std (clipped to [0, 1], the loss at 0), n = runs that reached the epoch' : 'one line per run'}.` : 'No epochs recorded for this model yet.');
  const maxEpoch = Math.max(2, ...runs.map((r) => r.epochs.at(-1).epoch));
  for (const metric of METRICS) {
    let datasets;
    if (mode === 'overlay') {
      datasets = runs.map((r, i) => lineDataset(`#${r.id} (repeat ${r.repeat}${r.status === 'completed' ? '' : `, ${r.status}`})`, r.epochs.map((e) => ({ x: e.epoch, y: e[split]?.[metric] ?? null })), seriesStyle(i)));
    } else {
      datasets = bandDatasets(data.bands[split][metric], SPLIT_STYLE[split], { mean: `mean of ${runs.length} runs`, range: metricRange(metric) });
    }
    const options = baseOptions({ xTitle: 'epoch', yTitle: METRIC_LABELS[metric], xMin: 1, xMax: maxEpoch, ...metricAxis(metric) });
    options.scales.x.ticks = { precision: 0 };
    options.plugins.legend = { ...options.plugins.legend, labels: { ...options.plugins.legend.labels, filter: (item, chartData) => chartData.datasets[item.datasetIndex].label !== '+1 std' } };
    options.plugins.tooltip = {
      filter: (item) => !item.dataset.band,
      callbacks: { label: (ctx) => (ctx.raw.n !== undefined ? `mean ${meanStd(ctx.raw.y, ctx.raw.std)} (n=${ctx.raw.n})` : `${ctx.dataset.label}: ${num(ctx.raw.y)}`) },
    };
    drawChart(charts[metric].canvas, { type: 'line', data: { datasets }, options });
  }
}

function syncUrl() {
  const q = new URLSearchParams({ model: modelSelect.value || data.model, split: splitSelect.value, mode: modeSelect.value });
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

async function load() {
  const model = data?.model ?? params.get('model') ?? '';
  const [x, c] = await Promise.all([
    getJSON(`/api/experiments/${encodeURIComponent(id)}`),
    getJSON(`/api/experiments/${encodeURIComponent(id)}/compare?model=${encodeURIComponent(model)}`),
  ]);
  experiment = x;
  data = c;
  renderHeader();
  render();
}

modelSelect.addEventListener('change', async () => {
  data = { ...data, model: modelSelect.value };
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
  poll(load, () => data.runs.some((r) => r.status === 'running' || r.status === 'pending'), 3000);
} catch (err) {
  showError(err);
}
