// @ts-check
// Thresholds and operating points (study/operating-points.ts computes the API's numbers): a threshold control, the
// confusion matrix with sensitivity, specificity and PPV at the chosen threshold, and the tables of the operating
// points chosen on val for a target specificity or sensitivity and measured on test.
/** @import { ExperimentAtThreshold, ExperimentOperatingPoints, RunOperatingPoints } from '../api-types.ts' */
/** @import { Confusion, OperatingPointTarget, Rates } from '../../study/operating-points.ts' */
import { DASH, SPLITS, el, fill, getJSON, latestJSON, meanStd, num, pct, section, showError, table } from './common.js';
import { control, picker } from './controls.js';

/** The project's decision rule, the one the API's numbers follow. */
export const RULE = "An image is called malignant when its probability p > t (as at the study's 0.5).";

/** The tooltip of an operating-point table: the rule and the definition the API sends. */
const tooltip = (/** @type {{ definition: string }} */ report) => `${RULE} ${report.definition}`;

/**
 * The confusion matrix of predictions at threshold t: malignant when p > t.
 * @param {readonly { label: number, probability: number }[]} predictions
 * @param {number} t
 * @returns {Confusion}
 */
export function confusionAt(predictions, t) {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const p of predictions) {
    const positive = p.probability > t;
    if (p.label === 1) positive ? c.tp++ : c.fn++;
    else positive ? c.fp++ : c.tn++;
  }
  return c;
}

/**
 * @param {Confusion} c
 * @returns {Rates}
 */
export function ratesOf({ tp, fp, tn, fn }) {
  const ratio = (/** @type {number} */ a, /** @type {number} */ b) => (b > 0 ? a / b : null);
  return { sensitivity: ratio(tp, tp + fn), specificity: ratio(tn, tn + fp), ppv: ratio(tp, tp + fp) };
}

/**
 * A threshold picked with a slider and a number box kept in step; `onChange(t)` on every valid change. A value
 * outside [0, 1] marks the box invalid and changes nothing.
 * @param {string} prefix of the inputs' ids
 * @param {(t: number) => void} onChange
 */
export function thresholdControl(prefix, onChange, initial = 0.5) {
  const number = el('input', {
    type: 'number',
    id: `${prefix}-threshold`,
    min: 0,
    max: 1,
    step: 0.01,
    value: String(initial),
    'aria-label': 'threshold',
    class: 'threshold-number',
  });
  const range = el('input', {
    type: 'range',
    id: `${prefix}-threshold-range`,
    min: 0,
    max: 1,
    step: 0.001,
    value: String(initial),
    'aria-label': 'threshold slider',
    class: 'threshold-range',
  });
  let value = initial;
  const set = (/** @type {number} */ t, /** @type {HTMLInputElement} */ from) => {
    value = t;
    if (from !== number) number.value = String(t);
    if (from !== range) range.value = String(t);
    onChange(t);
  };
  range.addEventListener('input', () => set(Number(range.value), range));
  number.addEventListener('input', () => {
    const t = number.value.trim() === '' ? NaN : Number(number.value);
    const ok = Number.isFinite(t) && t >= 0 && t <= 1;
    number.setAttribute('aria-invalid', ok ? 'false' : 'true');
    if (ok) set(t, number);
  });
  return { node: control('Threshold t', range, number), value: () => value };
}

/**
 * The confusion matrix table (rows: true class; columns: prediction) with the rates of the true class.
 * @param {Confusion} c
 * @param {{ id: string, caption: string }} o
 */
export function confusionTable(c, { id, caption }) {
  const pos = c.tp + c.fn;
  const neg = c.tn + c.fp;
  /**
   * @param {number} count
   * @param {number} total
   * @param {string} what
   * @param {string} cls
   */
  const cell = (count, total, what, cls) =>
    el(
      'td',
      { class: `cm ${cls}`, 'data-cell': what },
      el('strong', {}, String(count)),
      el('br'),
      el('span', { class: 'rate' }, `${pct(total ? count / total : NaN)} ${what}`),
    );
  /**
   * A true class's row: its cells predicted benign and predicted malignant ([count, what, good or bad]), its total.
   * @param {string} truth
   * @param {number} total
   * @param {[number, string, string][]} cells
   */
  const row = (truth, total, cells) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, truth),
      cells.map(([count, what, cls]) => cell(count, total, what, cls)),
      el('td', { class: 'num' }, String(total)),
    );
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { id, class: 'confusion' },
      el('caption', {}, caption),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('td'),
          el('th', { scope: 'col' }, 'predicted benign'),
          el('th', { scope: 'col' }, 'predicted malignant'),
          el('th', { scope: 'col' }, 'total'),
        ),
      ),
      el(
        'tbody',
        {},
        row('true benign', neg, [
          [c.tn, 'TN (specificity)', 'good'],
          [c.fp, 'FP', 'bad'],
        ]),
        row('true malignant', pos, [
          [c.fn, 'FN', 'bad'],
          [c.tp, 'TP (recall)', 'good'],
        ]),
      ),
    ),
  );
}

/** A threshold as the API reads it: plain decimals, never exponent notation (1e-7). */
const decimal = (/** @type {number} */ t) => t.toFixed(9).replace(/\.?0+$/, '') || '0';

const targetLabel = (/** @type {OperatingPointTarget} */ p) => `${p.kind} ≥ ${p.target.toFixed(2)}`;
const reported = (/** @type {OperatingPointTarget} */ p) => (p.kind === 'specificity' ? 'sensitivity' : 'specificity');

/**
 * One run's operating points: the target, the threshold chosen on val, val and test rates at it.
 * @param {RunOperatingPoints} report
 */
export function runPointsTable(report) {
  if (!report.points.length)
    return el('p', { class: 'empty', id: 'run-operating-points-empty' }, 'The operating points appear when the run has its val and test predictions.');
  const rows = report.points.map((p) =>
    el(
      'tr',
      { 'data-kind': p.kind, 'data-target': p.target },
      el('th', { scope: 'row' }, `${reported(p)} at ${targetLabel(p)}`),
      el('td', { class: 'num', 'data-field': 'threshold' }, p.threshold === null ? DASH : num(p.threshold, 4)),
      el('td', { class: 'num', 'data-field': 'val-sensitivity' }, num(p.val?.sensitivity)),
      el('td', { class: 'num', 'data-field': 'val-specificity' }, num(p.val?.specificity)),
      el('td', { class: 'num', 'data-field': 'test-sensitivity' }, num(p.test?.sensitivity)),
      el('td', { class: 'num', 'data-field': 'test-specificity' }, num(p.test?.specificity)),
      el('td', { class: 'num', 'data-field': 'test-ppv' }, num(p.test?.ppv)),
      el('td', { class: 'msg' }, p.reason ?? ''),
    ),
  );
  return table(['Operating point', 't (chosen on val)', 'Val sens.', 'Val spec.', 'Test sens.', 'Test spec.', 'Test PPV', 'Note'], rows, {
    id: 'run-operating-points',
    class: 'summary',
    title: tooltip(report),
  });
}

/**
 * An experiment's operating points: per model and target, mean ± std over runs of the threshold and the test rates.
 * @param {ExperimentOperatingPoints} report
 */
export function modelPointsTable(report) {
  if (!report.models.length) return el('p', { class: 'empty' }, 'No completed run has val and test predictions stored yet.');
  const rows = report.models.flatMap((m) => [
    el('tr', { class: 'group' }, el('th', { colspan: 7, scope: 'rowgroup' }, `${m.model} (${m.runs} run${m.runs === 1 ? '' : 's'})`)),
    ...m.points.map((p) =>
      el(
        'tr',
        { 'data-model': m.model, 'data-kind': p.kind, 'data-target': p.target },
        el('th', { scope: 'row' }, `${reported(p)} at ${targetLabel(p)}`),
        el('td', { class: 'num', 'data-field': 'threshold' }, meanStd(p.threshold.mean, p.threshold.std, 4)),
        el('td', { class: `num${p.kind === 'specificity' ? ' headline' : ''}`, 'data-field': 'sensitivity' }, meanStd(p.sensitivity.mean, p.sensitivity.std)),
        el('td', { class: `num${p.kind === 'sensitivity' ? ' headline' : ''}`, 'data-field': 'specificity' }, meanStd(p.specificity.mean, p.specificity.std)),
        el('td', { class: 'num', 'data-field': 'ppv' }, meanStd(p.ppv.mean, p.ppv.std)),
        el('td', { class: 'num' }, String(p.sensitivity.n)),
        el('td', { class: 'msg' }, p.unreached ? `${p.unreached} run(s) without a threshold: their val split lacks the class` : ''),
      ),
    ),
  ]);
  return table(['Operating point', 't (chosen on val)', 'Test sensitivity', 'Test specificity', 'Test PPV', 'n', 'Note'], rows, {
    id: 'operating-points-table',
    class: 'summary',
    title: tooltip(report),
  });
}

/**
 * Every model at one threshold: mean per run of the four counts, mean ± std of the rates.
 * @param {ExperimentAtThreshold} v
 */
function atThresholdTable(v) {
  if (!v.models.length) return el('p', { class: 'empty' }, `No completed run has predictions stored for the ${v.split} split.`);
  const mean = (/** @type {{ mean: number | null }} */ s) => num(s.mean, 1);
  const rows = v.models.map((m) =>
    el(
      'tr',
      { 'data-model': m.model },
      el('th', { scope: 'row' }, m.model),
      el('td', { class: 'num' }, String(m.runs)),
      /** @type {(keyof Confusion)[]} */ (['tp', 'fp', 'tn', 'fn']).map((k) => el('td', { class: 'num', 'data-field': k }, mean(m.confusion[k]))),
      el('td', { class: 'num', 'data-field': 'sensitivity' }, meanStd(m.sensitivity.mean, m.sensitivity.std)),
      el('td', { class: 'num', 'data-field': 'specificity' }, meanStd(m.specificity.mean, m.specificity.std)),
      el('td', { class: 'num', 'data-field': 'ppv' }, meanStd(m.ppv.mean, m.ppv.std)),
    ),
  );
  return table(['Model', 'Runs', 'TP', 'FP', 'TN', 'FN', 'Sensitivity', 'Specificity', 'PPV'], rows, { id: 'threshold-table', class: 'summary' });
}

/**
 * The experiment page's operating-point sections: the five operating points per model, and every model at a
 * threshold the reader picks on a split. `load()` (re)fetches both.
 * @param {string} id the experiment's
 */
export function experimentOperatingSections(id) {
  const pointsHolder = el('div', { id: 'operating-points' });
  const thresholdHolder = el('div', { id: 'threshold' });
  const split = picker({ id: 'threshold-split', 'aria-label': 'split at the threshold' }, SPLITS, 'test');
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const thresholdJSON = latestJSON();
  const loadThreshold = async () => {
    const q = new URLSearchParams({ threshold: decimal(threshold.value()), split: split.value });
    /** @type {ExperimentAtThreshold | null} */
    const v = await thresholdJSON(`/api/experiments/${encodeURIComponent(id)}/threshold?${q}`);
    if (!v) return;
    fill(
      thresholdHolder,
      el('p', { class: 'hint' }, `t = ${v.threshold} on ${v.split}: counts are the mean per run, rates mean ± sample std over runs.`),
      atThresholdTable(v),
    );
  };
  const threshold = thresholdControl('experiment', () => {
    clearTimeout(timer);
    timer = setTimeout(() => loadThreshold().catch(showError), 120);
  });
  split.addEventListener('change', () => loadThreshold().catch(showError));
  const sections = [
    section(
      'Operating points',
      el(
        'p',
        { class: 'hint' },
        `Thresholds chosen on val for a target specificity (0.80, 0.90, 0.95) or sensitivity (0.90, 0.95), measured on test; mean ± sample std over the completed runs. ${RULE} Hover over the table for the definition.`,
      ),
      pointsHolder,
    ),
    section(
      'At a threshold',
      el('p', { class: 'hint' }, `${RULE} Every model's completed runs at the threshold chosen here.`),
      el('div', { class: 'controls' }, threshold.node, control('Split', split)),
      thresholdHolder,
    ),
  ];
  const load = async () => {
    /** @type {ExperimentOperatingPoints} */
    const report = await getJSON(`/api/experiments/${encodeURIComponent(id)}/operating-points`);
    fill(pointsHolder, modelPointsTable(report));
    await loadThreshold();
  };
  return { sections, load };
}
