// @ts-check
// One experiment: the study's summary table (mean ± std per model and split, best per column marked, sortable),
// the summary chart (grouped bars per metric and model with std error bars), the ensemble of each model's runs
// against its single runs, the reproduction of the article (its numbers and claims beside the runs, pairwise
// tests), the per-run table, and the images a model's runs classify wrongly most often.
/**
 * @import {
 *   EnsembleView, ExperimentAnswer, ExperimentBands, ExperimentSummary, MisclassifiedAnswer, RunCounts, RunRow,
 *   SummaryRow,
 * } from '../api-types.ts'
 * @import { ReproductionReport } from '../../study/reproduction.ts'
 * @import { MetricName } from '../../study/run.ts'
 * @import { SummaryEntry } from './common.js'
 */
import {
  DASH,
  METRICS,
  METRIC_LABELS,
  SPLITS,
  bestMeans,
  boundsNote,
  crumbs,
  duration,
  el,
  errorTile,
  facts,
  fileName,
  fill,
  getJSON,
  indexSummary,
  isFiniteNumber,
  latestJSON,
  lowerIsBetter,
  mainElement,
  meanStd,
  num,
  pathPart,
  poll,
  section,
  settings,
  showError,
  statusBadge,
  summaryCells,
  table,
  when,
} from './common.js';
import { control, optionList, picker, selected } from './controls.js';
import { chartBox, drawBands, drawMeanBars, meanBarDataset, metricRange } from './charts.js';
import { experimentCalibrationSections } from './calibration.js';
import { experimentOperatingSections } from './operating-points.js';

const id = pathPart(1);
const main = mainElement();

const header = el('div', { id: 'experiment-header' });
const summaryHolder = el('div', { id: 'summary' });
const splitSelect = picker({ id: 'chart-split', 'aria-label': 'split shown in the chart' }, SPLITS, 'test');
const { box: chartFigure, canvas: chartCanvas } = chartBox('Mean ± std per metric and model', { id: 'summary-chart' });
const runsHolder = el('div', { id: 'runs' });
const ensembleSplit = picker({ id: 'ensemble-split', 'aria-label': 'split of the ensemble' }, SPLITS, 'test');
const ensembleHolder = el('div', { id: 'ensemble' });
const hardModel = el('select', { id: 'misclassified-model', 'aria-label': 'model whose misclassified images are shown' });
const hardSplit = picker({ id: 'misclassified-split', 'aria-label': 'split of the misclassified images' }, SPLITS, 'test');
const hardHolder = el('div', { id: 'misclassified' });
const misclassifiedJSON = latestJSON();
const protocolHolder = el('div', { id: 'protocol' });
const reproductionHolder = el('div', { id: 'reproduction' });

// All models per epoch: one line per model (the mean over its completed and running runs), a ± 1 std band each.
const bandsMetric = picker({ id: 'bands-metric', 'aria-label': 'metric of the all-models chart' }, METRICS, 'roc_auc', (m) => METRIC_LABELS[m]);
const BAND_SPLITS = /** @type {const} */ (['val', 'train']);
const bandsSplit = picker({ id: 'bands-split', 'aria-label': 'split of the all-models chart' }, BAND_SPLITS);
const bandsNote = el('p', { class: 'hint', id: 'bands-note' });
const { box: bandsFigure, canvas: bandsCanvas } = chartBox('Mean ± std per epoch, one line per model', { id: 'bands-chart' });
/** @type {ExperimentBands | null} */
let allBands = null;

function renderBands() {
  const metric = selected(bandsMetric, METRICS);
  const split = selected(bandsSplit, BAND_SPLITS);
  const shown = (allBands?.models ?? []).filter((m) => m.bands[split][metric].length);
  bandsFigure.hidden = shown.length === 0;
  fill(
    bandsNote,
    shown.length
      ? `${split} ${METRIC_LABELS[metric]} per epoch: line = mean over each model's completed and running runs, band = ± 1 sample std${boundsNote(metric)}; n (in the tooltip) drops as runs stop early.`
      : 'No epochs recorded yet.',
  );
  drawBands(
    bandsCanvas,
    metric,
    shown.map((m) => ({ band: m.bands[split][metric], name: m.model, mean: `${m.model} (${m.runs} runs)` })),
    0.12,
  );
}

async function loadBands() {
  allBands = await getJSON(`/api/experiments/${encodeURIComponent(id)}/bands`);
  renderBands();
}

for (const select of [bandsMetric, bandsSplit]) select.addEventListener('change', renderBands);
const operating = experimentOperatingSections(id);
const calibration = experimentCalibrationSections(id);

main.append(
  header,
  el('p', { id: 'live', class: 'live', hidden: true }),
  section(
    'Summary',
    el(
      'p',
      { class: 'hint' },
      'Mean ± sample std over completed runs; n = runs. ★ marks the best value of each column within a split (lowest loss, highest otherwise). Click a column to sort.',
    ),
    summaryHolder,
  ),
  section('Summary chart', control('Split', splitSelect), chartFigure),
  section('All models per epoch', el('div', { class: 'controls' }, control('Metric', bandsMetric), control('Split', bandsSplit)), bandsNote, bandsFigure),
  ...operating.sections,
  section(
    'Ensemble of the runs',
    el(
      'p',
      { class: 'hint' },
      "Each model's repeated runs as one classifier: every image's probability averaged over the completed runs, scored like a single run; below it, the single runs' mean ± std.",
    ),
    control('Split', ensembleSplit),
    ensembleHolder,
  ),
  ...calibration.sections,
  section(
    'Reproduction',
    el(
      'p',
      { class: 'hint' },
      "The article's numbers beside the runs' test values, its claims with verdicts, and Welch's and DeLong's tests between the models (the same report as `melanoma report`).",
    ),
    reproductionHolder,
  ),
  section('Runs', runsHolder),
  section('Protocol', protocolHolder),
  section('Images the runs get wrong', control('Model', hardModel), ' ', control('Split', hardSplit), hardHolder),
);

/** @type {ExperimentAnswer | null} */
let experiment = null;
/** @type {SummaryRow[]} */
let summary = [];
/** @type {MetricName | null} */
let sortBy = null; // null: model order

/**
 * The summary's entries by "model|split".
 * @param {SummaryRow[]} rows
 */
const bySplit = (rows) => indexSummary(rows, (r) => `${r.model}|${r.split}`);

/** @param {ExperimentAnswer} experiment */
function modelsInOrder(experiment) {
  /** @type {Set<string>} */
  const seen = new Set(experiment.models);
  for (const r of summary) seen.add(r.model);
  return [...seen];
}

/** @param {ExperimentAnswer} experiment */
function renderHeader(experiment) {
  document.title = `${experiment.name} · melanoma study`;
  fill(
    header,
    crumbs(),
    el('h1', {}, experiment.name, ' ', statusBadge(experiment.status)),
    facts([
      ['Dataset', experiment.dataDir ?? DASH],
      ['Fingerprint', experiment.datasetFingerprint ? experiment.datasetFingerprint.slice(0, 16) : DASH],
      ['Models', experiment.models.join(', ')],
      ['Runs', runCounts(experiment.counts)],
      ['Started', when(experiment.startedAt)],
      ['Duration', duration(experiment.seconds)],
      experiment.estimate && experiment.status === 'running'
        ? [
            'Time left',
            el(
              'span',
              { id: 'time-left', title: experiment.estimate.basis },
              `${experiment.estimate.upperBound ? 'at most about' : 'about'} ${duration(Math.max(0, experiment.estimate.secondsLeft - (Date.now() - new Date(experiment.estimate.at).getTime()) / 1000))} left`,
            ),
          ]
        : null,
      ...settings(experiment),
      [
        'Compare runs',
        el(
          'span',
          { class: 'links' },
          modelsInOrder(experiment).map((m) => el('a', { href: `/experiments/${encodeURIComponent(id)}/compare?model=${encodeURIComponent(m)}` }, m)),
        ),
      ],
      experiment.counts.done > 0
        ? [
            'New images',
            el('a', { href: `/predict?experiment=${encodeURIComponent(id)}`, id: 'predict-link' }, "predict a new lesion with this experiment's runs"),
          ]
        : null,
    ]),
  );
}

/** @param {RunCounts} c */
function runCounts(c) {
  const parts = [`${c.done} done`, `${c.failed} failed`, `${c.running} running`, `${c.pending} pending`];
  if (c.interrupted) parts.push(`${c.interrupted} interrupted`);
  return `${parts.join(', ')} (${c.total} in all)`;
}

/** @param {ExperimentAnswer} experiment */
function renderSummary(experiment) {
  const byKey = bySplit(summary);
  if (byKey.size === 0) {
    fill(summaryHolder, el('p', { class: 'empty' }, 'No completed runs yet: the table fills in as runs finish.'));
    return;
  }
  const models = modelsInOrder(experiment);
  const head = [
    el('th', { scope: 'col' }, sortButton(experiment, null, 'Model')),
    el('th', { scope: 'col', class: 'num' }, 'n'),
    ...METRICS.map((m) =>
      el(
        'th',
        { scope: 'col', class: 'num', 'aria-sort': sortBy === m ? (lowerIsBetter(m) ? 'ascending' : 'descending') : undefined },
        sortButton(experiment, m, METRIC_LABELS[m]),
      ),
    ),
  ];
  const rows = [];
  const by = sortBy;
  for (const split of SPLITS) {
    const entries = models.flatMap((m) => byKey.get(`${m}|${split}`) ?? []);
    if (entries.length === 0) continue;
    const best = bestMeans(entries);
    if (by) {
      const key = (/** @type {SummaryEntry} */ e) => e.metrics[by]?.mean;
      entries.sort((a, b) => {
        const va = key(a);
        const vb = key(b);
        if (!isFiniteNumber(va)) return isFiniteNumber(vb) ? 1 : 0;
        if (!isFiniteNumber(vb)) return -1;
        return lowerIsBetter(by) ? va - vb : vb - va;
      });
    }
    rows.push(el('tr', { class: 'group' }, el('th', { colspan: 2 + METRICS.length, scope: 'rowgroup' }, split)));
    for (const e of entries) {
      rows.push(
        el(
          'tr',
          { 'data-model': e.model, 'data-split': split },
          el('th', { scope: 'row' }, e.model),
          el('td', { class: 'num' }, String(e.n)),
          summaryCells(e, best, entries.length > 1),
        ),
      );
    }
  }
  fill(summaryHolder, table(head, rows, { id: 'summary-table', class: 'summary' }));
}

/**
 * @param {ExperimentAnswer} experiment
 * @param {MetricName | null} metric null: model order
 * @param {string} label
 */
function sortButton(experiment, metric, label) {
  const active = sortBy === metric;
  return el(
    'button',
    {
      type: 'button',
      class: `sort${active ? ' active' : ''}`,
      'data-sort': metric ?? 'model',
      title: metric ? `sort by ${label} (${lowerIsBetter(metric) ? 'lowest' : 'highest'} first)` : 'model order',
      onclick: () => {
        sortBy = metric;
        renderSummary(experiment);
      },
    },
    label,
    active && metric ? (lowerIsBetter(metric) ? ' ▲' : ' ▼') : '',
  );
}

/** @param {ExperimentAnswer} experiment */
function renderChart(experiment) {
  const split = splitSelect.value;
  const byKey = bySplit(summary);
  const entries = modelsInOrder(experiment).flatMap((model) => byKey.get(`${model}|${split}`) ?? []);
  chartFigure.hidden = byKey.size === 0;
  const datasets = entries.map((e, i) =>
    meanBarDataset(
      `${e.model} (n=${e.n})`,
      METRICS.map((m) => e.metrics[m]),
      METRICS.map(metricRange),
      i,
    ),
  );
  drawMeanBars(
    chartCanvas,
    METRICS.map((m) => METRIC_LABELS[m]),
    datasets,
    `${split} split: mean ± std (whiskers, clipped to [0, 1] for the metrics) over completed runs`,
    (ctx) => `${ctx.dataset.label}: ${meanStd(/** @type {number | null} */ (ctx.raw), ctx.dataset.errorBars?.[ctx.dataIndex])}`,
  );
}

/** @param {ExperimentAnswer} experiment */
function renderRuns(experiment) {
  const runs = experiment.runs;
  if (!runs.length) {
    fill(runsHolder, el('p', { class: 'empty' }, 'No runs.'));
    return;
  }
  const rows = runs.map((r) =>
    el(
      'tr',
      { 'data-run': r.id },
      el('td', {}, el('a', { href: `/runs/${encodeURIComponent(r.id)}` }, `#${r.id}`)),
      el('td', {}, r.model),
      el('td', { class: 'num' }, String(r.repeat)),
      el('td', {}, statusBadge(r.status)),
      el('td', { class: 'num' }, r.epochs ? `${r.bestEpoch ?? DASH} / ${r.epochs}${r.stoppedEarly ? ' (early stop)' : ''}` : DASH),
      el('td', { class: 'num' }, num(r.test?.accuracy)),
      el('td', { class: 'num' }, num(r.test?.roc_auc)),
      el('td', { class: 'num' }, num(r.test?.pr_auc)),
      el('td', { class: 'nowrap' }, ranOn(r)),
      el('td', { class: 'num' }, duration(r.seconds)),
      el('td', { class: 'msg' }, r.error ?? ''),
    ),
  );
  fill(
    runsHolder,
    table(['Run', 'Model', 'Repeat', 'Status', 'Best / epochs', 'Test acc.', 'Test ROC AUC', 'Test PR AUC', 'Ran on', 'Duration', 'Error'], rows, {
      id: 'runs-table',
    }),
  );
}

/**
 * The slot, machine and Slurm job of a run's orchestrator: "cpu0 on node-3, Slurm 812_1".
 * @param {RunRow} r
 */
function ranOn(r) {
  return `${r.slot ?? DASH}${r.host ? ` on ${r.host}` : ''}${r.slurmJob ? `, Slurm ${r.slurmJob}` : ''}`;
}

const ensembleJSON = latestJSON();
async function loadEnsemble() {
  /** @type {EnsembleView | null} */
  const v = await ensembleJSON(`/api/experiments/${encodeURIComponent(id)}/ensemble?split=${encodeURIComponent(ensembleSplit.value)}`);
  if (!v) return;
  if (!v.models.length) {
    fill(ensembleHolder, el('p', { class: 'empty' }, `No completed run has predictions stored for the ${v.split} split.`));
    return;
  }
  const byKey = bySplit(summary);
  const rows = v.models.flatMap((m) => {
    const single = byKey.get(`${m.model}|${v.split}`);
    return [
      el(
        'tr',
        { 'data-model': m.model, 'data-kind': 'ensemble' },
        el('th', { scope: 'row' }, `${m.model}: ensemble of ${m.runs}`),
        el('td', { class: 'num' }, String(m.n)),
        METRICS.map((k) => el('td', { class: 'num', 'data-metric': k }, num(m.metrics[k]))),
      ),
      single
        ? el(
            'tr',
            { 'data-model': m.model, 'data-kind': 'runs', class: 'secondary' },
            el('th', { scope: 'row' }, `${m.model}: ${single.n} runs, mean ± std`),
            el('td', { class: 'num' }, DASH),
            summaryCells(single, {}, false),
          )
        : null,
    ];
  });
  fill(ensembleHolder, table(['Model', 'Images', ...METRICS.map((k) => METRIC_LABELS[k])], rows, { id: 'ensemble-table', class: 'summary' }));
}

/**
 * The images most completed runs of the chosen model classify wrongly at 0.5, with their mean probability.
 * @param {ExperimentAnswer} experiment
 */
async function loadMisclassified(experiment) {
  const models = experiment.models;
  if (hardModel.options.length !== models.length) fill(hardModel, optionList(models));
  if (!hardModel.value) return;
  /** @type {MisclassifiedAnswer | null} */
  const v = await misclassifiedJSON(
    `/api/experiments/${encodeURIComponent(id)}/misclassified?model=${encodeURIComponent(hardModel.value)}&split=${encodeURIComponent(hardSplit.value)}`,
  );
  if (!v) return;
  if (!v.runs) {
    fill(hardHolder, el('p', { class: 'empty' }, `No completed ${v.model} run has predictions stored for the ${v.split} split.`));
    return;
  }
  const thumbnails = v.images.some((i) => i.fileId !== null);
  fill(
    hardHolder,
    el(
      'p',
      { class: 'hint' },
      `Over ${v.runs} completed ${v.model} run${v.runs === 1 ? '' : 's'}: the ${v.split} images classified wrongly (p > 0.5 for benign, p ≤ 0.5 for malignant) by the most runs, then the furthest from their class on average. `,
      thumbnails ? '' : "Images show when the server is started with --data on this experiment's dataset.",
    ),
    v.images.length
      ? el(
          'div',
          { class: 'grid' },
          v.images.map((i) => {
            const cls = i.label ? 'malignant' : 'benign';
            const caption = [
              `${fileName(i.image)} · ${cls}`,
              el('br'),
              `wrong in ${i.wrong} of ${i.n}`,
              el('br'),
              `mean p ${meanStd(i.meanProbability, i.stdProbability, 2)}`,
            ];
            return errorTile(i, caption, cls);
          }),
        )
      : el('p', { class: 'empty' }, 'Every run classified every image correctly.'),
  );
}

const SOURCE_LABELS = { article: 'article', choice: "project's choice", override: 'override' };

/**
 * The protocol's settings of each model of the experiment, each with its source (the article's line, or why).
 * @param {ExperimentAnswer} experiment
 */
function renderProtocol(experiment) {
  const p = experiment.protocol;
  const overrides = Object.entries(p.overrides)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const intro = p.legacy
    ? `Recorded before protocols: its runs followed the ${p.name} protocol, whose settings these are.`
    : `Protocol ${p.name}${overrides ? `, overridden by flags: ${overrides}` : ''}. Each setting comes from the article (its line in the article) or is the project's choice (with why).`;
  /** @type {string | null} */
  let previous = null;
  const rows = p.rows.map((r) => {
    const first = r.model !== previous;
    previous = r.model;
    return el(
      'tr',
      { class: first ? 'group-start' : undefined, 'data-model': r.model, 'data-kind': r.kind },
      el('th', { scope: 'row' }, first ? r.model : ''),
      el('td', {}, r.setting),
      el('td', {}, r.value),
      el(
        'td',
        {},
        el('span', { class: `source source-${r.kind}` }, SOURCE_LABELS[r.kind]),
        ' ',
        r.source.replace(/^(article |project's choice: |override: )/, ''),
      ),
    );
  });
  fill(protocolHolder, el('p', { class: 'hint' }, intro), table(['Model', 'Setting', 'Value', 'Source'], rows, { id: 'protocol-table' }));
}

const yesNo = (/** @type {boolean | null} */ b) => (b === null ? 'n/a' : b ? 'yes' : 'no');
const pValue = (/** @type {unknown} */ p) => (isFiniteNumber(p) ? (p < 0.001 ? '< 0.001' : p.toFixed(3)) : DASH);
const interval = (/** @type {[number, number] | undefined} */ ci) => (ci ? `${num(ci[0])} to ${num(ci[1])}` : DASH);

/** The reproduction report: the article's numbers against the runs, the claims, the pairwise tests. */
async function loadReproduction() {
  /** @type {ReproductionReport} */
  const r = await getJSON(`/api/experiments/${encodeURIComponent(id)}/reproduction`);
  const isCount = (/** @type {ReproductionReport['article'][number]} */ a) => a.quantity.kind === 'count' || a.quantity.kind === 'epochs';
  const articleRows = r.article.map((a) =>
    el(
      'tr',
      { 'data-number': a.id },
      el('td', {}, a.lines),
      el('td', {}, a.ourModel && a.ourModel !== a.model ? `${a.model} (→ ${a.ourModel})` : a.model),
      el('td', {}, `${a.label} (${a.basis})`),
      el('td', { class: 'num' }, isCount(a) ? String(a.value) : a.value.toFixed(2)),
      el('td', { class: 'num' }, a.ours ? meanStd(a.ours.mean, a.ours.std, isCount(a) ? 1 : 3) : DASH),
      el('td', { class: 'num' }, a.ours ? `${num(a.ours.min, isCount(a) ? 0 : 3)} to ${num(a.ours.max, isCount(a) ? 0 : 3)}` : DASH),
      el('td', { 'data-check': 'range' }, yesNo(a.withinRange)),
      el('td', { 'data-check': '2std' }, yesNo(a.within2Std)),
    ),
  );
  const welchRows = r.welch.map((w) =>
    el(
      'tr',
      { 'data-pair': `${w.a}|${w.b}`, 'data-metric': w.metric },
      el('td', {}, `${w.a} vs ${w.b}`),
      el('td', {}, w.metric === 'keras_pr_auc' ? 'PR AUC (Keras)' : METRIC_LABELS[w.metric]),
      el('td', { class: 'num' }, `${w.n[0]} / ${w.n[1]}`),
      el('td', { class: 'num' }, w.test ? num(w.test.diff) : DASH),
      el('td', { class: 'num' }, interval(w.test?.ci)),
      el('td', { class: 'num' }, w.test ? pValue(w.test.p) : 'n/a'),
      el('td', {}, w.method),
    ),
  );
  /**
   * @param {ReproductionReport['delong'][number]} d
   * @param {string} pair
   * @param {string} what
   */
  const delongRow = (d, pair, what) =>
    el(
      'tr',
      { 'data-pair': pair },
      el('td', {}, what),
      el('td', { class: 'num' }, String(d.images)),
      el('td', { class: 'num' }, num(d.aucA)),
      el('td', { class: 'num' }, num(d.aucB)),
      el('td', { class: 'num' }, interval(d.ci)),
      el('td', { class: 'num' }, pValue(d.p)),
    );
  const delongRows = r.delong.map((d) => delongRow(d, `${d.a}|${d.b}`, `${d.a} vs ${d.b}`));
  const fineTunedRows = r.fineTuned.map((d) => delongRow(d, `${d.a}|${d.b}|${d.runIndex}`, `${d.a} run ${d.runIndex} vs ${d.b} run ${d.runIndex}`));
  const standIns = Object.entries(r.standIns);
  fill(
    reproductionHolder,
    el(
      'p',
      {},
      `Protocol: ${r.experiment.protocol ?? 'protocol not recorded'}.`,
      standIns.length ? ` Stand-ins: ${standIns.map(([a, m]) => `${m} for ${a}`).join(', ')} (Xception's weights can't be downloaded here).` : '',
    ),
    constantRunsNote(r),
    el('h3', {}, "The article's numbers beside ours"),
    table(['Line', 'Model', 'Number', 'Article', 'Ours (mean ± std)', 'Our range', 'In range', 'Within 2 std'], articleRows, { id: 'article-numbers' }),
    el('h3', {}, 'Claims'),
    claimList(r.claims, 'claims'),
    ...(r.claimsWithoutConstant.length
      ? [el('h4', {}, 'The same claims without the near-constant runs'), claimList(r.claimsWithoutConstant, 'claims-without-constant')]
      : []),
    el('h3', {}, "Welch's t-test (test metrics, first model minus second; Crawford and Howell's where a model has a single run)"),
    welchRows.length
      ? table(['Models', 'Metric', 'Runs', 'A − B', '95% CI', 'p', 'Test'], welchRows, { id: 'welch-table' })
      : el('p', { class: 'empty' }, 'Fewer than two models.'),
    el('h3', {}, "DeLong's test (the ensembles' test ROC AUCs, paired over the same images)"),
    delongRows.length
      ? table(['Models', 'Images', 'AUC A', 'AUC B', '95% CI of A − B', 'p'], delongRows, { id: 'delong-table' })
      : el('p', { class: 'empty' }, 'No pair of models with test predictions.'),
    ...(fineTunedRows.length
      ? [
          el('h4', {}, "Each fine-tuned run (B) against the run it starts from (A): DeLong's test of the test ROC AUCs, paired over the same images"),
          table(['Runs', 'Images', 'AUC A', 'AUC B', '95% CI of A − B', 'p'], fineTunedRows, { id: 'fine-tuned-table' }),
        ]
      : []),
  );
}

/**
 * The article's claims, each with its verdict, rule and the evidence that decides it.
 * @param {ReproductionReport['claims']} claims
 * @param {string} listId
 */
function claimList(claims, listId) {
  return el(
    'ul',
    { id: listId },
    claims.map((c) =>
      el(
        'li',
        { 'data-claim': c.id, 'data-verdict': c.verdict },
        el('strong', {}, c.verdict),
        `: ${c.says} (line ${c.lines}). Rule: ${c.rule}.`,
        c.reason ? ` Why: ${c.reason}.` : '',
        c.evidence.length
          ? el(
              'ul',
              {},
              c.evidence.map((e) =>
                el(
                  'li',
                  {},
                  `${e.holds ? 'holds' : 'fails'}: ${e.what} (${Object.entries(e.numbers)
                    .map(([k, v]) => `${k} ${k === 'p' ? pValue(v) : num(v, 4)}`)
                    .join(', ')})`,
                ),
              ),
            )
          : null,
      ),
    ),
  );
}

/**
 * The near-constant runs, whose output hardly depends on the image, linked, with each affected model's test ROC AUC without them.
 * @param {ReproductionReport} r
 */
function constantRunsNote(r) {
  if (!r.constantRuns.length) return null;
  const runs = r.constantRuns.flatMap((c, i) => [
    i ? ', ' : '',
    el('a', { href: `/runs/${c.runId}`, 'data-run': String(c.runId) }, `${c.model} run ${c.runIndex}`),
    ` (p = ${c.probability.toFixed(4)})`,
  ]);
  const without = r.withoutConstant.map((w) => `${w.model} ${meanStd(w.rocAuc.mean, w.rocAuc.std, 3)} over ${w.rocAuc.n}`).join('; ');
  return el(
    'p',
    { id: 'constant-runs', class: 'hint' },
    `Near-constant runs, whose kept checkpoint gives every test image the same probability to within ${r.constantTolerance}: `,
    ...runs,
    `. Their ROC AUC ranks only differences below ${r.constantTolerance} (0.5 for an exact constant); they count in every number here, as the protocol ran them. Test ROC AUC without them: ${without}.`,
  );
}

async function load() {
  /** @type {[ExperimentAnswer, ExperimentSummary]} */
  const [x, s] = await Promise.all([getJSON(`/api/experiments/${encodeURIComponent(id)}`), getJSON(`/api/experiments/${encodeURIComponent(id)}/summary`)]);
  experiment = x;
  summary = s.rows;
  renderHeader(x);
  renderSummary(x);
  renderChart(x);
  renderRuns(x);
  renderProtocol(x);
  await Promise.all([loadEnsemble(), loadMisclassified(x), loadReproduction(), loadBands(), operating.load(), calibration.load()]);
}

splitSelect.addEventListener('change', () => experiment && renderChart(experiment));
for (const select of [hardModel, hardSplit]) select.addEventListener('change', () => experiment && loadMisclassified(experiment).catch(showError));
ensembleSplit.addEventListener('change', () => loadEnsemble().catch(showError));

try {
  await load();
  poll(load, () => experiment && (experiment.status === 'running' || experiment.counts.running > 0 || experiment.counts.pending > 0), 3000);
} catch (err) {
  showError(err);
}
