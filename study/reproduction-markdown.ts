/**
 * The reproduction report as Markdown, ready to paste into a README: deterministic (the same report gives the same
 * bytes: no clock, no locale, fixed decimals), val and train folded into <details>.
 */
import { REPORT_METRICS, REPORT_METRIC_LABELS } from './report-metrics.ts';
import type { ArticleComparison, DelongRow, ReproductionReport } from './reproduction.ts';
import type { Spread } from './statistics.ts';
import { SIMILARITY_MARGIN, type ClaimResult } from './claims.ts';
import type { MeanStd as RunsMeanStd } from './operating-points.ts';
import type { CalibrationReport } from './probability-calibration.ts';

const overRuns = (s: RunsMeanStd, digits = 3): string =>
  s.mean === null ? DASH : s.std === null ? fixed(s.mean, digits) : `${fixed(s.mean, digits)} ± ${fixed(s.std, digits)}`;

/** Per split: each model's runs (mean ± std) and its ensemble, before and after temperature scaling. */
function calibrationTable(c: CalibrationReport, split: 'val' | 'test'): string[] {
  return tableOf(
    ['Model', 'Runs', 'T (fitted on val)', 'Brier', 'Brier, scaled', 'ECE', 'ECE, scaled'],
    c.models.flatMap((m) => {
      const rows = [
        [
          m.model,
          String(m.runs),
          overRuns(m.temperature),
          overRuns(m[split].brier),
          overRuns(m[split].brierScaled),
          overRuns(m[split].ece),
          overRuns(m[split].eceScaled),
        ],
      ];
      const e = m.ensemble;
      if (e)
        rows.push([
          `${m.model} (ensemble)`,
          String(e.runs),
          fixed(e.temperature),
          fixed(e[split].before.brier),
          fixed(e[split].after?.brier),
          fixed(e[split].before.ece),
          fixed(e[split].after?.ece),
        ]);
      return rows;
    }),
  );
}

function calibrationMarkdown(c: CalibrationReport): string[] {
  const out = ['### Calibration of the probabilities (test)', ''];
  out.push(
    `Does a probability of 0.7 mean 70%? ${c.definition} Runs: mean ± sample std over the completed runs; ensemble: each image's probability averaged over them, calibrated as one classifier.`,
    '',
  );
  if (c.models.length === 0) return [...out, 'No completed run has val and test predictions stored.', ''];
  out.push(...calibrationTable(c, 'test'), '');
  out.push('<details><summary>Validation split (where the temperature is fitted)</summary>', '', ...calibrationTable(c, 'val'), '', '</details>', '');
  return out;
}

const DASH = '–';
const fixed = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? DASH : x.toFixed(digits));
const pValue = (p: number | null | undefined): string => (p === null || p === undefined || !Number.isFinite(p) ? DASH : p < 0.001 ? '< 0.001' : p.toFixed(3));
const meanStd = (s: Spread, digits = 3): string =>
  s.n === 0 ? DASH : Number.isNaN(s.std) ? fixed(s.mean, digits) : `${fixed(s.mean, digits)} ± ${fixed(s.std, digits)}`;
const yesNo = (b: boolean | null): string => (b === null ? 'n/a' : b ? 'yes' : 'no');
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function tableOf(header: string[], rows: string[][], rightFrom = 1): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map((_, i) => (i >= rightFrom ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function studyTable(report: ReproductionReport, split: string): string[] {
  const t = report.table.find((x) => x.split === split);
  if (!t || t.rows.length === 0) return [`No completed run has a ${split} evaluation.`];
  return tableOf(
    ['Model', 'Runs', ...REPORT_METRICS.map((k) => REPORT_METRIC_LABELS[k])],
    t.rows.map((r) => [r.model, String(r.runs), ...REPORT_METRICS.map((k) => meanStd(r.metrics[k]))]),
  );
}

/** The near-constant runs, whose output hardly depends on the image: named, and each affected model's ROC AUC without them. */
function constantMarkdown(report: ReproductionReport): string[] {
  const tolerance = report.constantTolerance;
  if (report.constantRuns.length === 0) return [`No run gives every test image the same probability (to within ${tolerance}).`];
  const runs = report.constantRuns.map((c) => `${c.model} run ${c.runIndex} (p = ${c.probability.toFixed(4)})`).join(', ');
  const without = report.withoutConstant.map((w) => `${w.model} ${meanStd(w.rocAuc)} over ${w.rocAuc.n} run${w.rocAuc.n === 1 ? '' : 's'}`).join('; ');
  return [
    `Near-constant runs, whose kept checkpoint gives every test image the same probability to within ${tolerance}: ${runs}. Their ROC AUC ranks only differences below ${tolerance} (0.5 for an exact constant) and they call every image one class at 0.5; they count in every number of this report, as the protocol ran them. Test ROC AUC without them: ${without}.`,
  ];
}

/** The runs that have not completed: each started one with the epoch it stands at, then how many are pending. */
function unfinishedLine(report: ReproductionReport): string | null {
  const started = report.progress.filter((r) => r.status !== 'completed' && r.status !== 'pending');
  const pending = report.progress.filter((r) => r.status === 'pending');
  if (started.length === 0 && pending.length === 0) return null;
  const where = (r: (typeof started)[number]) =>
    r.epochs === 0 ? 'before its first epoch' : r.status === 'running' ? `epoch ${r.epochs} done` : `after epoch ${r.epochs}`;
  const parts = started.map((r) => `${r.model} run ${r.runIndex} ${r.status} ${where(r)}`);
  if (pending.length > 0) {
    const byModel = new Map<string, number[]>();
    for (const r of pending) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r.runIndex]);
    const listed = [...byModel].map(([model, runs]) => `${model} ${runs.join(', ')}`).join('; ');
    parts.push(`${pending.length} pending (${listed})`);
  }
  return `Not completed: ${parts.join(', ')}.`;
}

/** Every started run, one row each, folded: its status, seed, epochs, best epoch and ROC AUCs. */
function runsFoldOut(report: ReproductionReport): string[] {
  const started = report.progress.filter((r) => r.status !== 'pending');
  if (started.length === 0) return [];
  const constant = new Map(report.constantRuns.map((c) => [c.runId, c.probability]));
  const status = (r: (typeof started)[number]) =>
    [
      r.stoppedEarly ? `${r.status}, stopped early` : r.status,
      ...(constant.has(r.runId) ? [`near-constant, every test image p = ${constant.get(r.runId)!.toFixed(4)}`] : []),
    ].join('; ');
  const rows = started.map((r) => [
    r.model,
    String(r.runIndex),
    status(r),
    String(r.seed),
    String(r.epochs),
    r.bestEpoch === null ? DASH : String(r.bestEpoch),
    fixed(r.valRocAuc, 4),
    fixed(r.testRocAuc, 4),
  ]);
  return [
    `<details><summary>Every started run (${started.length})</summary>`,
    '',
    "A completed run's ROC AUCs are its kept checkpoint's (the best epoch by val ROC AUC).",
    '',
    ...tableOf(['Model', 'Run', 'Status', 'Seed', 'Epochs', 'Best epoch', 'Val ROC AUC', 'Test ROC AUC'], rows, 3),
    '',
    '</details>',
    '',
  ];
}

/** Each claim with its verdict, rule and the evidence that decides it. */
function claimLines(claims: ClaimResult[]): string[] {
  return claims.flatMap((c) => {
    const standIns = Object.entries(c.standIns).map(([a, m]) => `${m} for ${a}`);
    return [
      `- **${c.verdict}**: ${c.says} (line ${c.lines}).`,
      `  Rule: ${c.rule}.${standIns.length ? ` Using ${standIns.join(', ')}.` : ''}`,
      ...(c.reason ? [`  Why: ${c.reason}.`] : []),
      ...c.evidence.map((e) => {
        const numbers = Object.entries(e.numbers)
          .map(([k, v]) => `${k} ${k === 'p' ? pValue(v) : fixed(v, 4)}`)
          .join(', ');
        return `  - ${e.holds ? 'holds' : 'fails'}: ${e.what} (${numbers})`;
      }),
    ];
  });
}

/** Counts and epochs with one decimal, rates with three. */
const digitsFor = (a: ArticleComparison) => (a.quantity.kind === 'count' || a.quantity.kind === 'epochs' ? 1 : 3);
const articleValue = (a: ArticleComparison) => (a.quantity.kind === 'count' || a.quantity.kind === 'epochs' ? String(a.value) : a.value.toFixed(2));

const delongCells = (d: DelongRow, what: string): string[] => [
  what,
  String(d.images),
  fixed(d.aucA),
  fixed(d.aucB),
  fixed(d.diff),
  `${fixed(d.ci[0])} to ${fixed(d.ci[1])}`,
  fixed(d.z, 2),
  pValue(d.p),
];

export function reproductionMarkdown(report: ReproductionReport): string {
  const out: string[] = [];
  const { experiment } = report;
  out.push(`## Reproduction: ${cell(experiment.name)}`, '');
  out.push(`Experiment ${experiment.id}; protocol: ${experiment.protocol ?? 'protocol not recorded'}.`);
  out.push(`Completed runs: ${report.models.length === 0 ? 'none' : report.models.map((m) => `${m.model} ${m.runs}`).join(', ')}.`);
  const unfinished = unfinishedLine(report);
  if (unfinished) out.push(unfinished);
  const standIns = Object.entries(report.standIns);
  if (standIns.length > 0) {
    out.push(
      `Stand-ins: ${standIns.map(([a, m]) => `${a} → ${m}`).join(', ')} (Xception's ImageNet weights can't be downloaded here; the MobileNetV2 pair answers for its claims).`,
    );
  }
  out.push('');

  out.push("### The study's table (test)", '');
  out.push(
    "Mean ± sample std over the completed runs. PR AUC (AP) is scikit-learn's average precision, as stored; PR AUC (Keras) is the article's AUPRC, Keras' interpolated `AUC(curve='PR')` over 200 thresholds, from the stored predictions.",
    '',
  );
  out.push(...studyTable(report, 'test'), '');
  out.push(...constantMarkdown(report), '');
  out.push(...runsFoldOut(report));
  out.push('<details><summary>Validation and training splits</summary>', '');
  for (const split of ['val', 'train']) out.push(`#### ${split}`, '', ...studyTable(report, split), '');
  out.push('</details>', '');

  out.push("### The article's numbers beside ours", '');
  out.push(
    "Each article number against the distribution of the same quantity over our runs of the model (one value per run): inside the runs' range, and within 2 std of their mean.",
    '',
  );
  out.push(
    ...tableOf(
      ['Line', 'Model', 'Article', 'Quantity', 'Article value', 'Ours (mean ± std)', 'Our range', 'Runs', 'In range', 'Within 2 std'],
      report.article.map((a) => [
        a.lines,
        a.ourModel && a.ourModel !== a.model ? `${a.model} (→ ${a.ourModel})` : a.model,
        a.basis,
        a.label,
        articleValue(a),
        a.ours ? meanStd(a.ours, digitsFor(a)) : DASH,
        a.ours ? `${fixed(a.ours.min, digitsFor(a) === 1 ? 0 : 3)} to ${fixed(a.ours.max, digitsFor(a) === 1 ? 0 : 3)}` : DASH,
        a.ours ? String(a.ours.n) : '0',
        yesNo(a.withinRange),
        yesNo(a.within2Std),
      ]),
      4,
    ),
    '',
  );

  out.push("### The article's claims", '', ...claimLines(report.claims));
  if (report.claimsWithoutConstant.length > 0) {
    out.push('', '#### The same claims without the near-constant runs', '', ...claimLines(report.claimsWithoutConstant));
  }
  out.push('');

  out.push('### Significance', '');
  out.push(
    `Welch's t-test over the runs, per test metric: the difference of means (first model minus second) with its 95% interval and two-sided p-value. Where a model has a single run, Crawford and Howell's test of that run against the other model's runs. 'Similar' in the claims means that interval lies within ±${SIMILARITY_MARGIN}.`,
    '',
  );
  if (report.welch.length === 0) out.push('Fewer than two models: nothing to compare.', '');
  else {
    out.push(
      ...tableOf(
        ['Models', 'Metric', 'Runs', 'Mean A', 'Mean B', 'A − B', '95% CI', 'p', 'Test'],
        report.welch.map((w) => [
          `${w.a} vs ${w.b}`,
          REPORT_METRIC_LABELS[w.metric],
          `${w.n[0]} / ${w.n[1]}`,
          fixed(w.meanA),
          fixed(w.meanB),
          w.test ? fixed(w.test.diff) : DASH,
          w.test ? `${fixed(w.test.ci[0])} to ${fixed(w.test.ci[1])}` : DASH,
          w.test ? pValue(w.test.p) : 'n/a',
          w.method,
        ]),
        2,
      ),
      '',
    );
  }
  out.push("DeLong's test of the ensembles' test ROC AUCs, paired over the same test images.", '');
  if (report.delong.length === 0) out.push('No pair of models with test predictions.', '');
  else {
    out.push(
      ...tableOf(
        ['Models', 'Images', 'AUC A', 'AUC B', 'A − B', '95% CI', 'z', 'p'],
        report.delong.map((d) => delongCells(d, `${d.a} vs ${d.b}`)),
        1,
      ),
      '',
    );
  }
  if (report.fineTuned.length > 0) {
    out.push(
      "DeLong's test of each fine-tuned run (B) against the run it starts from (A: its base model's run of the same index), paired over the same test images.",
      '',
      ...tableOf(
        ['Runs', 'Images', 'AUC A', 'AUC B', 'A − B', '95% CI', 'z', 'p'],
        report.fineTuned.map((d) => delongCells(d, `${d.a} run ${d.runIndex} vs ${d.b} run ${d.runIndex}`)),
        1,
      ),
      '',
    );
  }

  out.push('### Ensembles of the runs (test)', '');
  out.push("Each model's runs as one classifier: every test image's probability averaged over the runs.", '');
  if (report.ensembles.length === 0) out.push('No completed run has test predictions stored.', '');
  else {
    out.push(
      ...tableOf(
        ['Model', 'Runs', 'Images', ...REPORT_METRICS.map((k) => REPORT_METRIC_LABELS[k]), 'TP', 'FN', 'TN', 'FP'],
        report.ensembles.map((e) => [
          e.model,
          String(e.runs),
          String(e.images),
          ...REPORT_METRICS.map((k) => fixed(e.metrics[k])),
          String(e.confusion.tp),
          String(e.confusion.fn),
          String(e.confusion.tn),
          String(e.confusion.fp),
        ]),
      ),
      '',
    );
  }

  out.push(...calibrationMarkdown(report.calibration));

  out.push('### Lesions every run gets wrong (test)', '');
  if (report.alwaysWrong.length === 0) out.push('No completed run has test predictions stored.', '');
  else {
    out.push(
      ...tableOf(
        ['Model', 'Runs', 'Images', 'Malignant missed', 'Benign called malignant'],
        report.alwaysWrong.map((w) => [w.model, String(w.runs), String(w.images), String(w.malignant), String(w.benign)]),
      ),
      '',
    );
  }
  return out.join('\n');
}
