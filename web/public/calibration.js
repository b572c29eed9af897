// @ts-check
// Calibration of the probabilities (study/probability-calibration.ts computes the API's numbers): Brier score and
// expected calibration error on val and test, before and after temperature scaling fitted on val, and reliability
// diagrams (per bin of p: the fraction of melanomas against the mean probability; on the diagonal when p means
// what it says).
/** @import { Calibration, CalibrationStats, ModelCalibration } from '../../study/probability-calibration.ts' */
/** @import { ExperimentCalibration, RunCalibration } from '../api-types.ts' */
/** @import { LinePoint, SeriesStyle } from './charts.js' */
import { DASH, el, fill, getJSON, meanStd, num, section, table } from './common.js';
import { control, picker } from './controls.js';
import { SPLIT_STYLE, baseOptions, chartBox, drawChart, lineDataset, seriesStyle } from './charts.js';

const PERFECT = lineDataset(
  'perfectly calibrated',
  [
    { x: 0, y: 0 },
    { x: 1, y: 1 },
  ],
  { color: '#999', dash: [2, 4], point: 'line' },
  { pointRadius: 0, borderWidth: 1, showLine: true },
);

/**
 * One reliability curve: a point per non-empty bin at (mean p, fraction of melanomas), its image count in the tooltip.
 * @param {string} label
 * @param {CalibrationStats} stats
 * @param {SeriesStyle} style
 * @param {Parameters<typeof lineDataset>[3]} [extra]
 */
function curve(label, stats, style, extra = {}) {
  const points = stats.bins.filter((b) => b.n > 0).map((b) => ({ x: b.meanProbability, y: b.observedFraction, n: b.n }));
  return lineDataset(label, points, style, { showLine: true, ...extra });
}

/**
 * @param {HTMLCanvasElement} canvas
 * @param {ReturnType<typeof lineDataset>[]} datasets
 */
function drawReliability(canvas, datasets) {
  const options = baseOptions({ xTitle: 'mean predicted probability of melanoma (bin)', yTitle: 'fraction of melanomas', xMin: 0, xMax: 1, yMin: 0, yMax: 1 });
  options.plugins.tooltip = {
    callbacks: {
      label: (ctx) => {
        const p = /** @type {LinePoint} */ (ctx.raw);
        return `${ctx.dataset.label}: p ${num(p.x)}, melanomas ${num(p.y)}${p.n ? ` (${p.n} images)` : ''}`;
      },
    },
  };
  drawChart(canvas, { type: 'scatter', data: { datasets: [...datasets, PERFECT] }, options });
}

const after = (/** @type {{ after: CalibrationStats | null }} */ stats, /** @type {'brier' | 'ece'} */ key) => (stats.after ? num(stats.after[key], 4) : DASH);

/** The splits of a calibration: the temperature is fitted on val and tried on test. */
const SPLITS = /** @type {const} */ (['val', 'test']);

/**
 * A run's calibration: a table of val and test before and after scaling, and their reliability diagram.
 * @param {string} id the run's
 */
export function runCalibrationSection(id) {
  const holder = el('div', { id: 'run-calibration' });
  const chart = chartBox('Reliability diagram (10 equal-width bins of p)', { id: 'run-reliability-chart' });
  const hint = el('p', { class: 'hint', id: 'run-calibration-hint' });
  const node = section('Calibration', hint, holder, chart.box);
  async function load() {
    /** @type {RunCalibration} */
    const v = await getJSON(`/api/runs/${encodeURIComponent(id)}/calibration`);
    hint.textContent = v.definition;
    const c = v.calibration;
    chart.box.hidden = !c;
    if (!c) {
      fill(holder, el('p', { class: 'empty' }, 'The calibration appears when the run has its val and test predictions.'));
      return;
    }
    const rows = SPLITS.map((split) =>
      el(
        'tr',
        { 'data-split': split },
        el('th', { scope: 'row' }, split),
        el('td', { class: 'num' }, String(c[split].before.n)),
        el('td', { class: 'num', 'data-field': 'brier' }, num(c[split].before.brier, 4)),
        el('td', { class: 'num', 'data-field': 'ece' }, num(c[split].before.ece, 4)),
        el('td', { class: 'num', 'data-field': 'brier-scaled' }, after(c[split], 'brier')),
        el('td', { class: 'num', 'data-field': 'ece-scaled' }, after(c[split], 'ece')),
      ),
    );
    fill(
      holder,
      el(
        'p',
        {},
        'Temperature fitted on val: ',
        el('strong', { id: 'run-temperature' }, c.temperature === null ? 'none (val lacks a class)' : num(c.temperature, 4)),
        c.temperature === null ? '' : ' (p scaled to σ(logit(p) / T); T > 1 softens overconfident probabilities).',
      ),
      table(['Split', 'Images', 'Brier', 'ECE', 'Brier, scaled', 'ECE, scaled'], rows, { id: 'run-calibration-table', class: 'summary' }),
    );
    const sets = SPLITS.map((split) => curve(split, c[split].before, SPLIT_STYLE[split]));
    if (c.test.after) sets.push(curve('test, temperature-scaled', c.test.after, { ...SPLIT_STYLE.test, color: '#CC79A7', dash: [8, 3] }));
    drawReliability(chart.canvas, sets);
  }
  return { node, load };
}

/**
 * An experiment's calibration: per model mean ± std over runs, the ensembles, and the ensembles' reliability diagram.
 * @param {string} id the experiment's
 */
export function experimentCalibrationSections(id) {
  const holder = el('div', { id: 'calibration' });
  const split = picker({ id: 'calibration-split', 'aria-label': 'split of the reliability diagram' }, ['test', 'val']);
  const chart = chartBox("Reliability diagram of each model's ensemble (10 equal-width bins of p)", { id: 'reliability-chart' });
  const hint = el('p', { class: 'hint', id: 'calibration-hint' });
  /** @type {ExperimentCalibration | null} */
  let report = null;

  function drawChartOf() {
    if (!report) return;
    const s = split.value === 'val' ? 'val' : 'test';
    const models = report.models.flatMap((m) => (m.ensemble ? [{ model: m.model, ensemble: m.ensemble }] : []));
    chart.box.hidden = models.length === 0;
    drawReliability(
      chart.canvas,
      models.flatMap((m, i) => {
        const style = seriesStyle(i);
        const sets = [curve(`${m.model}`, m.ensemble[s].before, style)];
        if (m.ensemble[s].after) sets.push(curve(`${m.model}, temperature-scaled`, m.ensemble[s].after, { ...style, dash: [8, 3] }, { borderWidth: 1.5 }));
        return sets;
      }),
    );
  }

  async function load() {
    report = /** @type {ExperimentCalibration} */ (await getJSON(`/api/experiments/${encodeURIComponent(id)}/calibration`));
    hint.textContent = `${report.definition} Mean ± sample std over the completed runs; the ensemble averages each image's probability over them and is calibrated as one classifier.`;
    if (!report.models.length) {
      fill(holder, el('p', { class: 'empty' }, 'No completed run has val and test predictions stored yet.'));
      chart.box.hidden = true;
      return;
    }
    const cells = (/** @type {ModelCalibration} */ x) => SPLITS.flatMap((s) => [x[s].brier, x[s].ece, x[s].brierScaled, x[s].eceScaled]);
    const ens = (/** @type {Calibration} */ e) =>
      SPLITS.flatMap((s) => [e[s].before.brier, e[s].before.ece, e[s].after?.brier ?? null, e[s].after?.ece ?? null]);
    const rows = report.models.flatMap((m) => [
      el(
        'tr',
        { 'data-model': m.model, 'data-kind': 'runs' },
        el('th', { scope: 'row' }, `${m.model}: ${m.runs} run${m.runs === 1 ? '' : 's'}, mean ± std`),
        el('td', { class: 'num', 'data-field': 'temperature' }, meanStd(m.temperature.mean, m.temperature.std, 3)),
        cells(m).map((v) => el('td', { class: 'num' }, meanStd(v.mean, v.std, 4))),
      ),
      m.ensemble
        ? el(
            'tr',
            { 'data-model': m.model, 'data-kind': 'ensemble', class: 'secondary' },
            el('th', { scope: 'row' }, `${m.model}: ensemble of ${m.ensemble.runs}`),
            el('td', { class: 'num', 'data-field': 'temperature' }, m.ensemble.temperature === null ? DASH : num(m.ensemble.temperature, 3)),
            ens(m.ensemble).map((v) => el('td', { class: 'num' }, v === null ? DASH : num(v, 4))),
          )
        : null,
    ]);
    const head = ['Model', 'T (fitted on val)', ...SPLITS.flatMap((s) => [`${s} Brier`, `${s} ECE`, `${s} Brier, scaled`, `${s} ECE, scaled`])];
    fill(holder, table(head, rows, { id: 'calibration-table', class: 'summary' }));
    drawChartOf();
  }

  split.addEventListener('change', drawChartOf);
  return {
    sections: [section('Calibration of the probabilities', hint, holder, control('Split', split), chart.box)],
    load,
  };
}
