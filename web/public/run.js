// @ts-check
// One run: training history (train and val per epoch, best epoch and early stop marked), final metrics, the
// confusion matrix at threshold 0.5, ROC and PR curves per split, every image's predicted probability (their
// distribution per class and the images classified wrongly), and the run's configuration and timings.
/**
 * @import { PredictionsAnswer, RunAnswer, RunCurves, RunEpochs, RunOperatingPoints } from '../api-types.ts'
 * @import { MetricName } from '../../study/run.ts'
 */

/** @typedef {PredictionsAnswer['predictions'][number]} Prediction */
import {
  DASH,
  METRICS,
  METRIC_LABELS,
  SPLITS,
  crumbs,
  duration,
  el,
  errorTile,
  facts,
  fileName,
  fill,
  getJSON,
  latestJSON,
  mainElement,
  num,
  pathPart,
  poll,
  section,
  showError,
  statusBadge,
  table,
  when,
} from './common.js';
import { control, picker } from './controls.js';
import { SPLIT_STYLE, baseOptions, chartBox, drawChart, hatch, lineDataset, metricAxis, paletteColor } from './charts.js';
import { runCalibrationSection } from './calibration.js';
import { RULE, confusionAt, confusionTable, ratesOf, runPointsTable, thresholdControl } from './operating-points.js';

const id = pathPart(1);
const main = mainElement();
// The article's per-epoch plots (its line 111): loss, accuracy, AUC and recall; the compare view charts every metric.
/** @type {MetricName[]} */
const HISTORY = ['loss', 'accuracy', 'roc_auc', 'recall'];

const header = el('div', { id: 'run-header' });
// The running epoch: the orchestrator's in-memory progress (orchestrate --serve) and the run's last heartbeat.
const progressHolder = el('div', { id: 'run-progress', hidden: true });
const finalHolder = el('div', { id: 'final' });
const historyNote = el('p', { class: 'hint', id: 'history-note' });
const historyCharts = new Map(HISTORY.map((m) => [m, chartBox(`${METRIC_LABELS[m]} per epoch`, { id: `history-${m}` })]));
const cmSelect = picker({ id: 'confusion-split', 'aria-label': 'split of the confusion matrix' }, SPLITS, 'test');
const cmHolder = el('div', { id: 'confusion' });
const roc = chartBox('ROC curve (true-positive rate vs. false-positive rate)', { id: 'roc-chart' });
const pr = chartBox('Precision-recall curve', { id: 'pr-chart' });
const curvesNote = el('p', { class: 'empty', id: 'curves-note', hidden: true }, 'The curves appear when the run has its final evaluation.');
const curvesGrid = el('div', { class: 'chart-grid two' }, roc.box, pr.box);
const predSelect = picker({ id: 'predictions-split', 'aria-label': 'split of the predictions' }, SPLITS, 'test');
const predNote = el('p', { class: 'hint', id: 'predictions-note' });
const histogram = chartBox('Predicted probability of melanoma, per true class', { id: 'probability-chart' });
const errorsHolder = el('div', { id: 'errors' });
const configHolder = el('div', { id: 'config' });
const logHolder = el('div', { id: 'log' });
const failuresHolder = el('div', { id: 'failed-attempts' });
const failuresSection = section('Failed attempts', failuresHolder);
// RunSpec's fields in a readable order; anything else follows alphabetically.
const SPEC_ORDER = [
  'model',
  'seed',
  'epochs',
  'patience',
  'learningRate',
  'batchSize',
  'imageSize',
  'backend',
  'gpu',
  'dataDir',
  'outDir',
  'initFrom',
  'weights',
  'cacheImages',
  'checkImages',
  'saveAugmented',
  'failAtEpoch',
];

// Threshold and operating points: the confusion matrix at a threshold the reader picks, counted here from the
// run's stored predictions (malignant when p > t), and the run's operating points from the API.
const thresholdSplit = picker({ id: 'threshold-split', 'aria-label': 'split at the threshold' }, SPLITS, 'test');
const thresholdHolder = el('div', { id: 'threshold-confusion-holder' });
const runPointsHolder = el('div', { id: 'run-operating-points-holder' });
/** @type {Map<string, PredictionsAnswer['predictions']>} */
const thresholdPredictions = new Map(); // split → the run's predictions of that split
const threshold = thresholdControl('run', () => renderThreshold());

function thresholdSection() {
  return section(
    'Threshold and operating points',
    el('p', { class: 'hint' }, `${RULE} Counted in the browser from the run's stored predictions.`),
    el('div', { class: 'controls' }, threshold.node, control('Split', thresholdSplit)),
    thresholdHolder,
    el('h3', {}, 'Operating points (threshold chosen on val, measured on test)'),
    runPointsHolder,
  );
}

async function loadThreshold() {
  const split = thresholdSplit.value;
  if (!thresholdPredictions.has(split)) {
    /** @type {PredictionsAnswer} */
    const v = await getJSON(`/api/runs/${encodeURIComponent(id)}/predictions?split=${encodeURIComponent(split)}`);
    if (v.predictions.length) thresholdPredictions.set(split, v.predictions);
  }
  renderThreshold();
}

function renderThreshold() {
  const split = thresholdSplit.value;
  const list = thresholdPredictions.get(split);
  if (!list) {
    fill(thresholdHolder, el('p', { class: 'empty' }, `No ${split} predictions stored for this run yet.`));
    return;
  }
  const t = threshold.value();
  const c = confusionAt(list, t);
  const r = ratesOf(c);
  fill(
    thresholdHolder,
    confusionTable(c, {
      id: 'threshold-confusion',
      caption: `${split}: ${list.length} images, threshold ${t} (malignant when p > ${t}); rates are of the true class (row)`,
    }),
    el(
      'p',
      { id: 'threshold-rates' },
      el('span', { 'data-rate': 'sensitivity' }, `sensitivity ${num(r.sensitivity)}`),
      ' · ',
      el('span', { 'data-rate': 'specificity' }, `specificity ${num(r.specificity)}`),
      ' · ',
      el('span', { 'data-rate': 'ppv' }, `PPV ${num(r.ppv)}`),
    ),
  );
}

async function loadRunPoints() {
  /** @type {RunOperatingPoints} */
  const points = await getJSON(`/api/runs/${encodeURIComponent(id)}/operating-points`);
  fill(runPointsHolder, runPointsTable(points));
}

thresholdSplit.addEventListener('change', () => loadThreshold().catch(showError));
const calibration = runCalibrationSection(id);

main.append(
  header,
  progressHolder,
  el('p', { id: 'live', class: 'live', hidden: true }),
  failuresSection,
  section(
    'Training history',
    historyNote,
    el(
      'div',
      { class: 'chart-grid' },
      [...historyCharts.values()].map((c) => c.box),
    ),
  ),
  section('Final evaluation', finalHolder),
  section('Confusion matrix at threshold 0.5', control('Split', cmSelect), cmHolder),
  thresholdSection(),
  section('ROC and PR curves', curvesNote, curvesGrid),
  calibration.node,
  section('Predictions', control('Split', predSelect), predNote, histogram.box, errorsHolder),
  section('Configuration', configHolder),
  section('Log', logHolder),
);

/** @type {RunAnswer | null} */
let run = null;
/** @type {PredictionsAnswer | null} */
let predictions = null;
/** @type {RunCurves | null} */
let curves = null;
const BINS = 20;
const SHOWN_ERRORS = 12;

/**
 * @param {RunAnswer} run
 * @param {RunEpochs} epochs
 */
function renderHeader(run, epochs) {
  document.title = `Run #${run.id} · ${run.model} · melanoma study`;
  fill(
    header,
    crumbs({ id: run.experimentId, name: run.experimentName }),
    el('h1', {}, `Run #${run.id}: ${run.model}, repeat ${run.repeat} `, statusBadge(run.status)),
    facts([
      [
        'Compare',
        el('a', { href: `/experiments/${encodeURIComponent(run.experimentId)}/compare?model=${encodeURIComponent(run.model)}` }, `all ${run.model} runs`),
      ],
      ['Epochs', `${epochs.epochs.length} of ${run.spec?.epochs ?? DASH}`],
      ['Best epoch', run.bestEpoch ?? DASH],
      [
        'Stopped early',
        run.stoppedEarly === null || run.stoppedEarly === undefined ? DASH : run.stoppedEarly ? `yes (patience ${run.spec?.patience ?? DASH})` : 'no',
      ],
      ['Slot / GPU', `${run.slot ?? DASH} / ${run.gpu === null || run.gpu === undefined ? 'CPU' : `GPU ${run.gpu}`}`],
      ['Host', run.host ?? DASH],
      run.slurmJob ? ['Slurm job', run.slurmJob] : null,
      ['Backend', [run.backend ?? DASH, run.backendDetail ? ` (${run.backendDetail})` : '']],
      ['Parameters', run.params ? `${run.params.total.toLocaleString('en')} (${run.params.trainable.toLocaleString('en')} trainable)` : DASH],
      ['Started', when(run.startedAt)],
      ['Finished', when(run.finishedAt)],
      ['Duration', duration(run.seconds)],
      ['Seconds per epoch', epochs.epochs.length ? num(epochs.epochs.reduce((a, e) => a + (e.seconds ?? 0), 0) / epochs.epochs.length, 1) : DASH],
      ['Checkpoint', el('code', { class: 'path' }, run.checkpointDir ?? DASH)],
      ['Dataset fingerprint', run.datasetFingerprint ? el('code', {}, run.datasetFingerprint.slice(0, 16)) : DASH],
      run.error ? ['Error', el('span', { class: 'msg' }, run.error)] : null,
    ]),
  );
}

const PHASE_WORDS = { decoding: 'Decoding the images', caching: "Computing the frozen trunk's activations", training: 'Training', evaluating: 'Evaluating' };

/** @param {RunAnswer} run */
function renderProgress(run) {
  const running = run.status === 'running';
  progressHolder.hidden = !running;
  if (!running) return fill(progressHolder);
  const p = run.live;
  const age = (/** @type {string | null} */ iso) => (iso ? `${duration((Date.now() - new Date(iso).getTime()) / 1000)} ago` : DASH);
  const beat = el('p', { class: 'hint', id: 'run-heartbeat' }, `Last heartbeat: ${when(run.heartbeatAt)} (${age(run.heartbeatAt)}).`);
  if (!p) {
    fill(
      progressHolder,
      el(
        'p',
        { class: 'hint', id: 'run-progress-text' },
        'Progress inside the epoch shows on the page of the orchestrator that runs it (orchestrate --serve).',
      ),
      beat,
    );
    return;
  }
  const what =
    p.phase === 'evaluating' && p.epoch === null
      ? 'Final evaluation'
      : `${p.epoch === null ? '' : `Epoch ${p.epoch} of ${run.spec?.epochs ?? DASH}: `}${PHASE_WORDS[p.phase] ?? p.phase}`;
  const rate = p.imagesPerSecond ? `, ${num(p.imagesPerSecond, 0)} images/s, about ${duration((p.total - p.done) / p.imagesPerSecond)} left` : '';
  fill(
    progressHolder,
    el('p', { id: 'run-progress-text' }, `${what}: ${p.done} of ${p.total} images${rate} (as of ${age(p.at)}).`),
    el('progress', { id: 'epoch-progress', max: String(p.total), value: String(p.done), 'aria-label': `${what}: ${p.done} of ${p.total} images` }),
    beat,
  );
}

/**
 * @param {RunAnswer} run
 * @param {RunEpochs} epochs
 */
function renderHistory(run, epochs) {
  const list = epochs.epochs;
  const last = list.at(-1)?.epoch;
  const notes = [];
  if (!list.length) notes.push('No epochs recorded yet.');
  if (epochs.bestEpoch) notes.push(`Best epoch ${epochs.bestEpoch} (highest validation ROC AUC; its weights are the checkpoint and the final evaluation).`);
  if (epochs.stoppedEarly) notes.push(`Early stop after epoch ${last}: no improvement for ${run.spec?.patience ?? '?'} epochs.`);
  else if (run.status === 'running') notes.push('Training: new epochs appear as they finish.');
  fill(historyNote, notes.join(' '));
  const markers = [];
  if (epochs.bestEpoch) markers.push({ x: epochs.bestEpoch, label: `best: ${epochs.bestEpoch}`, dash: [4, 3] });
  if (epochs.stoppedEarly && last) markers.push({ x: last, label: `early stop: ${last}`, dash: [1, 3] });
  for (const [metric, chart] of historyCharts) {
    const datasets = /** @type {const} */ (['train', 'val']).map((split) =>
      lineDataset(
        split,
        list.map((e) => ({ x: e.epoch, y: e[split]?.[metric] ?? null })),
        SPLIT_STYLE[split],
      ),
    );
    const options = baseOptions({ xTitle: 'epoch', yTitle: METRIC_LABELS[metric], xMin: 1, xMax: Math.max(2, last ?? 1), ...metricAxis(metric) });
    options.scales.x.ticks = { precision: 0 };
    options.plugins.markers = { lines: markers };
    drawChart(chart.canvas, { type: 'line', data: { datasets }, options });
  }
}

/** @param {RunAnswer} run */
function renderFinal(run) {
  const evals = run.evaluations;
  if (!evals.length) {
    fill(
      finalHolder,
      el('p', { class: 'empty' }, run.status === 'running' || run.status === 'pending' ? 'The run is not finished.' : 'No evaluation recorded.'),
    );
    return;
  }
  const rows = evals.map((e) =>
    el(
      'tr',
      { 'data-split': e.split },
      el('th', { scope: 'row' }, e.split),
      el('td', { class: 'num' }, String(e.n)),
      METRICS.map((m) => el('td', { class: 'num', 'data-metric': m }, num(e.metrics[m]))),
    ),
  );
  fill(finalHolder, table(['Split', 'n', ...METRICS.map((m) => METRIC_LABELS[m])], rows, { id: 'final-table' }));
}

/** @param {RunAnswer} run */
function renderConfusion(run) {
  const e = run.evaluations.find((x) => x.split === cmSelect.value);
  if (!e) {
    fill(cmHolder, el('p', { class: 'empty' }, `No ${cmSelect.value} evaluation yet.`));
    return;
  }
  fill(
    cmHolder,
    confusionTable(e.confusion, { id: 'confusion-table', caption: `${e.split}: ${e.n} images, threshold 0.5; rates are of the true class (row)` }),
  );
}

/**
 * @param {RunAnswer} run
 * @param {RunCurves} curves
 */
function renderCurves(run, curves) {
  const list = curves.curves;
  const build = (/** @type {'roc' | 'pr'} */ kind) =>
    SPLITS.flatMap((split) => list.find((c) => c.split === split && c.kind === kind) ?? []).map((c) =>
      lineDataset(
        `${c.split} (AUC ${num(c.auc)})`,
        c.x.map((x, i) => ({ x, y: c.y[i] ?? null })),
        SPLIT_STYLE[c.split],
        { pointRadius: 0, showLine: true },
      ),
    );
  curvesNote.hidden = list.length > 0;
  curvesGrid.hidden = list.length === 0;
  if (!list.length) return;
  const rocSets = build('roc');
  if (rocSets.length)
    rocSets.push(
      lineDataset(
        'chance',
        [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
        { color: '#999', dash: [2, 4], point: 'line' },
        { pointRadius: 0, borderWidth: 1, showLine: true },
      ),
    );
  const prSets = build('pr');
  const testEval = run.evaluations.find((e) => e.split === 'test');
  if (prSets.length && testEval?.n) {
    const prevalence = (testEval.confusion.tp + testEval.confusion.fn) / testEval.n;
    prSets.push(
      lineDataset(
        `chance (test prevalence ${num(prevalence, 2)})`,
        [
          { x: 0, y: prevalence },
          { x: 1, y: prevalence },
        ],
        { color: '#999', dash: [2, 4], point: 'line' },
        { pointRadius: 0, borderWidth: 1, showLine: true },
      ),
    );
  }
  drawChart(roc.canvas, {
    type: 'scatter',
    data: { datasets: rocSets },
    options: baseOptions({ xTitle: 'false-positive rate', yTitle: 'true-positive rate', xMin: 0, xMax: 1, yMin: 0, yMax: 1 }),
  });
  drawChart(pr.canvas, {
    type: 'scatter',
    data: { datasets: prSets },
    options: baseOptions({ xTitle: 'recall', yTitle: 'precision', xMin: 0, xMax: 1, yMin: 0, yMax: 1 }),
  });
}

/**
 * @param {RunAnswer} run
 * @param {PredictionsAnswer | null} predictions
 */
function renderPredictions(run, predictions) {
  const list = predictions?.predictions ?? [];
  histogram.box.hidden = list.length === 0;
  if (!predictions || !list.length) {
    fill(
      predNote,
      run.status === 'completed' || run.status === 'failed'
        ? 'No predictions stored for this run (runs recorded before predictions were kept have none).'
        : 'The predictions appear when the run has its final evaluation.',
    );
    fill(errorsHolder);
    return;
  }
  const wrong = (/** @type {Prediction} */ p) => p.probability > 0.5 !== (p.label === 1);
  const missed = list.filter((p) => p.label === 1 && wrong(p)).sort((a, b) => a.probability - b.probability);
  const alarms = list.filter((p) => p.label === 0 && wrong(p)).sort((a, b) => b.probability - a.probability);
  const thumbnails = list.some((p) => p.fileId !== null);
  fill(
    predNote,
    `${list.length} ${predictions.split} images, the best checkpoint's probability of melanoma for each; positive when p > 0.5. `,
    thumbnails ? '' : "Images show when the server is started with --data on the run's dataset (same fingerprint).",
  );
  const datasets = ['benign', 'malignant'].map((cls, label) => {
    /** @type {number[]} */
    const bins = new Array(BINS).fill(0);
    // Bins (k/20, (k+1)/20], so that a bin lies wholly on one side of the threshold (positive when p > 0.5).
    for (const p of list) {
      if (p.label !== label) continue;
      const k = Math.max(0, Math.ceil(p.probability * BINS) - 1);
      bins[k] = (bins[k] ?? 0) + 1;
    }
    return {
      label: `true ${cls} (${bins.reduce((a, b) => a + b, 0)})`,
      data: bins.map((y, b) => ({ x: (b + 0.5) / BINS, y })),
      backgroundColor: hatch(paletteColor(label), label * 2),
      borderColor: paletteColor(label),
      borderWidth: 1,
      barPercentage: 1,
      categoryPercentage: 0.9,
    };
  });
  const options = baseOptions({ xTitle: 'predicted probability of melanoma', yTitle: 'images', xMin: 0, xMax: 1, yMin: 0 });
  options.scales.x.offset = false;
  options.plugins.markers = { lines: [{ x: 0.5, label: 'threshold 0.5', dash: [4, 3] }] };
  drawChart(histogram.canvas, { type: 'bar', data: { datasets }, options });
  const tiles = (/** @type {Prediction[]} */ items, /** @type {string} */ what) =>
    items.length
      ? el(
          'div',
          { class: 'grid' },
          items.slice(0, SHOWN_ERRORS).map((p) => {
            const tile = errorTile(p, `${fileName(p.image)} · p = ${num(p.probability)}`, what);
            const fileId = p.fileId;
            if (fileId !== null && run.status === 'completed')
              tile.append(el('button', { type: 'button', class: 'saliency', onclick: () => showSaliency(tile, fileId) }, 'where it looks'));
            return tile;
          }),
        )
      : el('p', { class: 'empty' }, 'None.');
  const heading = (/** @type {string} */ title, /** @type {Prediction[]} */ items) =>
    el('h3', {}, `${title}: ${items.length}`, items.length > SHOWN_ERRORS ? ` (the ${SHOWN_ERRORS} most confident shown)` : '');
  fill(
    errorsHolder,
    el('div', { id: 'missed' }, heading('Missed melanomas (false negatives, lowest p first)', missed), tiles(missed, 'missed melanoma')),
    el('div', { id: 'false-alarms' }, heading('False alarms (benign lesions called malignant, highest p first)', alarms), tiles(alarms, 'false alarm')),
  );
}

/**
 * Replaces a tile's thumbnail by the run's Grad-CAM of the image (computed by the server on demand).
 * @param {HTMLElement} tile
 * @param {number} fileId
 */
async function showSaliency(tile, fileId) {
  const button = tile.querySelector('button.saliency');
  const img = tile.querySelector('img');
  if (!(button instanceof HTMLButtonElement) || !img) return;
  button.disabled = true;
  try {
    const res = await fetch(`/api/runs/${encodeURIComponent(id)}/saliency/${fileId}`);
    if (!res.ok) throw new Error((await res.json().catch(() => null))?.error ?? `${res.status} ${res.statusText}`);
    const src = URL.createObjectURL(await res.blob());
    img.src = src;
    img.alt = `where the run looks in ${img.alt}`;
    img.closest('a')?.setAttribute('href', src);
    fill(button, `Grad-CAM of ${res.headers.get('x-saliency-layer')}`);
  } catch (err) {
    tile.append(el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
}

const predictionsJSON = latestJSON();
/** @returns {Promise<PredictionsAnswer | null>} */
const fetchPredictions = () => predictionsJSON(`/api/runs/${encodeURIComponent(id)}/predictions?split=${encodeURIComponent(predSelect.value)}`);

/** @param {RunAnswer} run */
function renderConfig(run) {
  const spec = run.spec ?? {};
  const rank = (/** @type {string} */ k) => (SPEC_ORDER.includes(k) ? SPEC_ORDER.indexOf(k) : SPEC_ORDER.length);
  const entries = Object.entries(spec).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  const rows = entries.map(([k, v]) =>
    el('tr', {}, el('th', { scope: 'row' }, k), el('td', { class: 'path' }, v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v))),
  );
  fill(configHolder, rows.length ? table(['Setting', 'Value'], rows, { id: 'config-table' }) : el('p', { class: 'empty' }, 'No configuration recorded.'));
}

/** @param {RunAnswer} run */
function renderFailures(run) {
  const list = run.failedAttempts;
  failuresSection.hidden = list.length === 0;
  fill(
    failuresHolder,
    list.length
      ? table(
          ['Attempt', 'Failed', 'Slot', 'Retried', 'Error'],
          list.map((f) =>
            el(
              'tr',
              {},
              el('td', {}, String(f.attempt)),
              el('td', {}, when(f.at)),
              el('td', {}, f.slot ?? DASH),
              el('td', {}, f.retried ? 'yes' : 'no'),
              el('td', {}, el('pre', { class: 'msg' }, f.error)),
            ),
          ),
          { id: 'failed-attempts-table' },
        )
      : null,
  );
}

/** @param {RunAnswer} run */
function renderLog(run) {
  const logs = run.logs;
  fill(
    logHolder,
    logs.length
      ? el(
          'pre',
          { class: 'log' },
          logs.map((l) => `${when(l.at)}  [attempt ${l.attempt}]  ${l.message}\n`),
        )
      : el('p', { class: 'empty' }, 'No log messages.'),
  );
}

async function load() {
  const base = `/api/runs/${encodeURIComponent(id)}`;
  const wasFinished = run && !['running', 'pending'].includes(run.status);
  /** @type {[RunAnswer, RunEpochs]} */
  const [r, epochs] = await Promise.all([getJSON(base), getJSON(`${base}/epochs`)]);
  run = r;
  if (!curves || !wasFinished) {
    curves = /** @type {RunCurves} */ (await getJSON(`${base}/curves`));
    predictions = (await fetchPredictions()) ?? predictions;
    await Promise.all([loadThreshold(), loadRunPoints(), calibration.load()]);
  }
  renderHeader(r, epochs);
  renderProgress(r);
  renderHistory(r, epochs);
  renderFinal(r);
  renderConfusion(r);
  renderCurves(r, curves);
  renderPredictions(r, predictions);
  renderConfig(r);
  renderFailures(r);
  renderLog(r);
}

cmSelect.addEventListener('change', () => run && renderConfusion(run));
predSelect.addEventListener('change', async () => {
  try {
    const answer = await fetchPredictions();
    if (!answer) return;
    predictions = answer;
    if (run) renderPredictions(run, predictions);
  } catch (err) {
    showError(err);
  }
});

try {
  await load();
  poll(load, () => run && (run.status === 'running' || run.status === 'pending'), 3000);
} catch (err) {
  showError(err);
}
