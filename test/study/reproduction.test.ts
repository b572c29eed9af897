/**
 * The reproduction report built from hand-made stored runs: the ROC point, the article's numbers against the runs'
 * range and 2 std, Keras' PR AUC beside the stored AP, the ensembles and DeLong between them, and Markdown that is
 * the same bytes for the same report.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kerasPrAuc } from '../../study/keras-pr-auc.ts';
import { calibrationReport } from '../../study/probability-calibration.ts';
import { reproductionMarkdown } from '../../study/reproduction-markdown.ts';
import { REPORT_METRICS } from '../../study/report-metrics.ts';
import { buildReproduction, type RunProgress, type StoredRun } from '../../study/reproduction.ts';
import { tprAtFpr } from '../../study/roc-point.ts';
import { delongTest, singleCase } from '../../study/statistics.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';

describe('ROC point', () => {
  test('TPR at a given FPR, linear between vertices, by hand', () => {
    // Descending: 0.9 (P), 0.8 (N), 0.7 (P), 0.6 (N), 0.5 (N), 0.4 (P); 3 positives, 3 negatives.
    const labels = [1, 0, 1, 0, 0, 1];
    const probs = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    // Vertices (FPR, TPR): (0, 1/3), (1/3, 1/3), (1/3, 2/3), (2/3, 2/3), (1, 2/3), (1, 1).
    assert.equal(tprAtFpr(labels, probs, 0), 1 / 3);
    assert.ok(Math.abs(tprAtFpr(labels, probs, 1 / 6) - 1 / 3) < 1e-12);
    assert.equal(tprAtFpr(labels, probs, 1 / 3), 2 / 3);
    assert.equal(tprAtFpr(labels, probs, 0.5), 2 / 3);
    assert.equal(tprAtFpr(labels, probs, 1), 1);
    // A tie across classes: the segment from (0, 0) to (1/2, 1/2) at 0.25 gives 0.25.
    assert.equal(tprAtFpr([1, 0, 1, 0], [0.5, 0.5, 0.2, 0.1], 0.25), 0.25);
  });
});

/** A stored run whose test predictions are `probs` over a fixed 20-image test set (10 malignant first). */
function run(
  runId: number,
  model: string,
  runIndex: number,
  probs: number[],
  counts: { tp: number; fp: number; tn: number; fn: number },
  epochs = 20,
): StoredRun {
  const labels = probs.map((_, i) => (i < 10 ? 1 : 0));
  const images = probs.map((_, i) => `test/${i < 10 ? 'malignant' : 'benign'}/${String(i).padStart(2, '0')}.jpg`);
  const e = evaluateBinary(labels, probs);
  return {
    runId,
    model,
    runIndex,
    epochs,
    evaluations: { test: { metrics: e.metrics, confusion: counts } },
    predictions: { test: { images, labels, probabilities: probs } },
  };
}

const ramp = (shift: number) => Array.from({ length: 20 }, (_, i) => Math.min(1, Math.max(0, (i < 10 ? 0.7 : 0.3) + shift + ((i * 7) % 10) / 40 - 0.1)));

const RUNS: StoredRun[] = [
  run(1, 'baseline', 0, ramp(0), { tp: 290, fp: 120, tn: 240, fn: 10 }),
  run(2, 'baseline', 1, ramp(0.05), { tp: 300, fp: 140, tn: 220, fn: 0 }),
  run(3, 'augmented', 0, ramp(-0.1), { tp: 250, fp: 80, tn: 280, fn: 50 }, 38),
  run(4, 'augmented', 1, ramp(0.1), { tp: 260, fp: 90, tn: 270, fn: 40 }, 30),
];

describe('reproduction report', () => {
  const report = buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'article' }, runs: RUNS, progress: [], alwaysWrong: [] });

  test("the article's numbers against the runs' range and 2 std", () => {
    const tp = report.article.find((a) => a.id === 'baseline-tp')!;
    // 290 and 300: mean 295, std 7.07; 295 is inside both.
    assert.deepEqual([tp.ours!.min, tp.ours!.max, tp.ours!.mean], [290, 300, 295]);
    assert.equal(tp.withinRange, true);
    assert.equal(tp.within2Std, true);
    const fp = report.article.find((a) => a.id === 'baseline-fp')!;
    // 120 and 140 around 130: in range, and |130 - 130| <= 2 std.
    assert.equal(fp.withinRange, true);
    const fn = report.article.find((a) => a.id === 'baseline-fn')!;
    // 10 and 0: mean 5, std 7.07: 5 is within both.
    assert.equal(fn.within2Std, true);
    const epochs = report.article.find((a) => a.id === 'augmented-epochs')!;
    // 38 and 30: mean 34, std 5.66; 38 is the maximum: in range, |38 - 34| = 4 <= 11.3.
    assert.equal(epochs.withinRange, true);
    assert.equal(epochs.within2Std, true);
    const tn = report.article.find((a) => a.id === 'baseline-tn')!;
    // 240 and 220 around 230: yes; the xception numbers have no model here.
    assert.equal(tn.withinRange, true);
    const x = report.article.find((a) => a.id === 'xception-fn')!;
    assert.equal(x.ourModel, null);
    assert.equal(x.withinRange, null);
  });

  test("a number outside the runs' range and beyond 2 std", () => {
    const far = buildReproduction({
      experiment: { id: 1, name: 'far', protocol: null },
      runs: [run(1, 'baseline', 0, ramp(0), { tp: 200, fp: 10, tn: 350, fn: 100 }), run(2, 'baseline', 1, ramp(0), { tp: 202, fp: 12, tn: 348, fn: 98 })],
      progress: [],
      alwaysWrong: [],
    });
    const tp = far.article.find((a) => a.id === 'baseline-tp')!;
    assert.equal(tp.withinRange, false);
    assert.equal(tp.within2Std, false);
    // 280, 286, 292: mean 286, std 6; 295 lies beyond the maximum but within 2 std (9 <= 12), not within 1 std.
    const spreadOut = buildReproduction({
      experiment: { id: 1, name: 'spread', protocol: null },
      runs: [280, 286, 292].map((tp, i) => run(i + 1, 'baseline', i, ramp(0), { tp, fp: 10, tn: 350, fn: 300 - tp })),
      progress: [],
      alwaysWrong: [],
    });
    const tp3 = spreadOut.article.find((a) => a.id === 'baseline-tp')!;
    assert.equal(tp3.withinRange, false);
    assert.equal(tp3.within2Std, true);
    const one = buildReproduction({ experiment: { id: 1, name: 'one', protocol: null }, runs: [RUNS[0]!], progress: [], alwaysWrong: [] });
    assert.equal(one.article.find((a) => a.id === 'baseline-tp')!.within2Std, null);
  });

  test("Keras' PR AUC per run beside the stored AP; the table's means", () => {
    const row = report.table.find((t) => t.split === 'test')!.rows.find((r) => r.model === 'baseline')!;
    const expected = (kerasPrAuc(RUNS[0]!.predictions.test!.labels, ramp(0)) + kerasPrAuc(RUNS[1]!.predictions.test!.labels, ramp(0.05))) / 2;
    assert.ok(Math.abs(row.metrics.keras_pr_auc.mean - expected) < 1e-12);
    assert.equal(row.metrics.pr_auc.n, 2);
    assert.equal(report.table.find((t) => t.split === 'val')!.rows.length, 0);
  });

  test('ensembles average the runs per image; DeLong compares them over the same images', () => {
    const mean = ramp(0).map((p, i) => (p + ramp(0.05)[i]!) / 2);
    const baseline = report.ensembles.find((e) => e.model === 'baseline')!;
    assert.equal(baseline.images, 20);
    assert.ok(Math.abs(baseline.metrics.roc_auc - evaluateBinary(RUNS[0]!.predictions.test!.labels, mean).metrics.roc_auc) < 1e-12);
    assert.equal(report.delong.length, 1);
    const d = report.delong[0]!;
    const augmented = ramp(-0.1).map((p, i) => (p + ramp(0.1)[i]!) / 2);
    const expected = delongTest(RUNS[0]!.predictions.test!.labels, mean, augmented);
    assert.deepEqual([d.a, d.b, d.images, d.z], ['baseline', 'augmented', 20, expected.z]);
    assert.equal(report.welch.length, REPORT_METRICS.length, 'one pair, every reported metric');
  });

  test('each fine-tuned run against the run of its base model it starts from (the same index), DeLong-paired', () => {
    // Scores whose classes overlap (10 malignant first): the fine-tuned run ranks the melanomas higher than its start.
    const negatives = [0.85, 0.55, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05];
    const start = [0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.2, ...negatives];
    const tuned = [0.95, 0.85, 0.8, 0.7, 0.65, 0.6, 0.5, 0.45, 0.4, 0.3, ...negatives];
    const counts = { tp: 280, fp: 60, tn: 300, fn: 20 };
    const runs = [
      run(11, 'mobilenet', 0, ramp(0), counts),
      run(12, 'mobilenet', 1, start, counts),
      run(13, 'mobilenet-ft', 1, tuned, counts),
      run(14, 'mobilenet-ft', 2, ramp(-0.05), counts), // its base run 2 is missing
    ];
    const r = buildReproduction({ experiment: { id: 8, name: 'ft', protocol: 'seed' }, runs, progress: [], alwaysWrong: [] });
    const labels = runs[1]!.predictions.test!.labels;
    const expected = delongTest(labels, start, tuned);
    assert.ok(expected.diff < 0 && expected.p < 1, 'the fixture separates the two runs');
    assert.notEqual(delongTest(labels, ramp(0), tuned).z, expected.z, 'pairing with run 0 would give another z');
    assert.deepEqual(
      r.fineTuned.map((d) => [d.a, d.b, d.runIndex, d.images, d.aucA, d.aucB, d.diff, d.z, d.p]),
      [['mobilenet', 'mobilenet-ft', 1, 20, expected.aucA, expected.aucB, expected.diff, expected.z, expected.p]],
    );
    assert.match(reproductionMarkdown(r), /\n\| mobilenet run 1 vs mobilenet-ft run 1 \| 20 \| /);
    const single = buildReproduction({ experiment: { id: 9, name: 'one', protocol: 'seed' }, runs: runs.slice(0, 3), progress: [], alwaysWrong: [] });
    const auc = single.welch.find((w) => w.metric === 'roc_auc')!;
    assert.deepEqual([auc.a, auc.b, auc.n, auc.method], ['mobilenet', 'mobilenet-ft', [2, 1], 'Crawford-Howell']);
    assert.equal(auc.test!.diff, singleCase([1, evaluateBinary(labels, start).metrics.roc_auc], evaluateBinary(labels, tuned).metrics.roc_auc)!.diff);
    assert.match(reproductionMarkdown(single), /\| mobilenet vs mobilenet-ft \| ROC AUC \| 2 \/ 1 \|.*\| Crawford-Howell \|/);
    assert.deepEqual(report.fineTuned, [], 'no fine-tuning model, no row');
    assert.doesNotMatch(reproductionMarkdown(report), /against the run it starts from/);
  });

  test('the same report gives the same Markdown bytes; it names the protocol and folds val and train', () => {
    const again = buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'article' }, runs: structuredClone(RUNS), progress: [], alwaysWrong: [] });
    const md = reproductionMarkdown(report);
    assert.equal(reproductionMarkdown(again), md);
    assert.match(md, /protocol: article\./);
    assert.match(md, /<details><summary>Validation and training splits<\/summary>/);
    assert.match(md, /\| 129 \| baseline \| one run \| test TP \| 295 \| 295\.0 ± 7\.1 \| 290 to 300 \| 2 \| yes \| yes \|/);
    const none = reproductionMarkdown(buildReproduction({ experiment: { id: 1, name: 'x', protocol: null }, runs: [], progress: [], alwaysWrong: [] }));
    assert.match(none, /protocol not recorded/);
    assert.match(none, /### Calibration of the probabilities \(test\)\n\n.*\n\nNo completed run has val and test predictions stored\./);
  });

  test("calibration of the runs with val and test predictions, per model and ensemble, in the Markdown's table", () => {
    const withVal = RUNS.map((r, i) => ({ ...r, predictions: { ...r.predictions, val: { ...r.predictions.test!, probabilities: ramp(0.02 * i - 0.03) } } }));
    const c = buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'article' }, runs: withVal, progress: [], alwaysWrong: [] }).calibration;
    assert.deepEqual(
      c,
      calibrationReport(withVal.map((r) => ({ runId: r.runId, model: r.model, runIndex: r.runIndex, val: r.predictions.val, test: r.predictions.test }))),
    );
    assert.deepEqual(
      c.models.map((m) => [m.model, m.runs]),
      [
        ['baseline', 2],
        ['augmented', 2],
      ],
    );
    const md = reproductionMarkdown(
      buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'article' }, runs: withVal, progress: [], alwaysWrong: [] }),
    );
    const b = c.models[0]!;
    const ms = (s: { mean: number | null; std: number | null }) => `${s.mean!.toFixed(3)} ± ${s.std!.toFixed(3)}`;
    assert.ok(
      md.includes(`| baseline | 2 | ${ms(b.temperature)} | ${ms(b.test.brier)} | ${ms(b.test.brierScaled)} | ${ms(b.test.ece)} | ${ms(b.test.eceScaled)} |`),
      md,
    );
    assert.ok(md.includes(`| baseline (ensemble) | 2 | ${b.ensemble!.temperature!.toFixed(3)} | ${b.ensemble!.test.before.brier.toFixed(3)} |`));
  });
});

describe('runs that predict one constant', () => {
  const constant = Array.from({ length: 20 }, () => 0.4546);
  const runs = [...RUNS, run(5, 'baseline', 2, constant, { tp: 0, fp: 0, tn: 10, fn: 10 })];
  const report = buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'seed' }, runs, progress: [], alwaysWrong: [] });

  test('are named with their probability, and the model ROC AUC is given without them beside the one with them', () => {
    assert.deepEqual(report.constantRuns, [{ runId: 5, model: 'baseline', runIndex: 2, probability: 0.4546 }]);
    const withAll = report.table.find((t) => t.split === 'test')!.rows.find((r) => r.model === 'baseline')!;
    assert.equal(withAll.runs, 3, 'the constant run counts in the table');
    const aucs = RUNS.filter((r) => r.model === 'baseline').map((r) => r.evaluations.test!.metrics.roc_auc!);
    assert.deepEqual(
      report.withoutConstant.map((w) => [w.model, w.rocAuc.n, w.rocAuc.mean]),
      [['baseline', 2, (aucs[0]! + aucs[1]!) / 2]],
    );
    assert.equal(withAll.metrics.roc_auc.mean, (aucs[0]! + aucs[1]! + 0.5) / 3);
    const decided = (claims: typeof report.claims) => claims.map((c) => [c.id, c.verdict, c.evidence]);
    const runsOnly = buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'seed' }, runs: RUNS, progress: [], alwaysWrong: [] });
    assert.deepEqual(decided(report.claimsWithoutConstant), decided(runsOnly.claims), 'the claims over the runs that are not near-constant');
    assert.match(report.claimsWithoutConstant.find((c) => c.reason)!.reason!, /model with (any|2 or more) completed runs that are not near-constant$/);
    assert.notDeepEqual(report.claimsWithoutConstant, report.claims);
    assert.match(reproductionMarkdown(report), /\n#### The same claims without the near-constant runs\n\n- \*\*/);
    assert.match(
      reproductionMarkdown(report),
      /same probability to within 0\.001: baseline run 2 \(p = 0\.4546\)\..*without them: baseline \d\.\d{3} ± \d\.\d{3} over 2 runs\./,
    );
  });

  test('a run whose probabilities differ by more than 0.001 is not one; by a residue of 5e-6 it is', () => {
    const build = (probabilities: number[]) =>
      buildReproduction({
        experiment: { id: 7, name: 'hand', protocol: 'seed' },
        runs: [run(5, 'baseline', 2, probabilities, { tp: 0, fp: 0, tn: 10, fn: 10 })],
        progress: [],
        alwaysWrong: [],
      });
    const apart = build(constant.map((p, i) => (i === 3 ? p + 2e-3 : p)));
    assert.deepEqual(apart.constantRuns, []);
    assert.deepEqual(apart.claimsWithoutConstant, [], 'no collapsed run, no second set of claims');
    assert.match(reproductionMarkdown(apart), /No run gives every test image the same probability \(to within 0\.001\)\./);
    const residue = build(constant.map((p, i) => p + (i % 5) * 1.2e-6));
    assert.equal(residue.constantRuns.length, 1);
  });
});

describe('where the runs stand', () => {
  const constant = Array.from({ length: 20 }, () => 0.4546);
  const runs = [...RUNS, run(5, 'baseline', 2, constant, { tp: 0, fp: 0, tn: 10, fn: 10 })];
  const done = (r: StoredRun, seed: number, bestEpoch: number): RunProgress => ({
    runId: r.runId,
    model: r.model,
    runIndex: r.runIndex,
    seed,
    status: 'completed',
    epochs: r.epochs,
    bestEpoch,
    stoppedEarly: r.epochs === 30,
    valRocAuc: 0.8,
    testRocAuc: r.evaluations.test!.metrics.roc_auc!,
  });
  const unfinished = (runId: number, model: string, runIndex: number, status: RunProgress['status'], epochs: number): RunProgress => ({
    runId,
    model,
    runIndex,
    seed: runIndex + 1,
    status,
    epochs,
    bestEpoch: epochs > 0 ? epochs - 1 : null,
    stoppedEarly: null,
    valRocAuc: null,
    testRocAuc: null,
  });
  const progress = [
    ...runs.filter((r) => r.model === 'baseline').map((r) => done(r, r.runIndex + 1, 7)),
    unfinished(6, 'baseline', 3, 'interrupted', 14),
    unfinished(7, 'baseline', 4, 'pending', 0),
    ...runs.filter((r) => r.model === 'augmented').map((r) => done(r, r.runIndex + 1, 9)),
    unfinished(8, 'augmented', 2, 'failed', 3),
    unfinished(9, 'augmented', 3, 'pending', 0),
    unfinished(10, 'augmented', 4, 'pending', 0),
    unfinished(11, 'augmented', 5, 'running', 2),
    unfinished(12, 'augmented', 6, 'running', 0),
  ];
  const md = reproductionMarkdown(buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'seed' }, runs, progress, alwaysWrong: [] }));

  test('the runs not completed are named with the epoch they stand at, and the pending ones counted per model', () => {
    assert.match(
      md,
      /\nNot completed: baseline run 3 interrupted after epoch 14, augmented run 2 failed after epoch 3, augmented run 5 running epoch 2 done, augmented run 6 running before its first epoch, 3 pending \(baseline 4; augmented 3, 4\)\.\n/,
    );
  });

  test('a fold-out lists every started run with its status, seed, epochs and ROC AUCs, the constant run marked', () => {
    const fold = md.slice(md.indexOf('<details><summary>Every started run (9)</summary>'));
    assert.ok(fold.length < md.length, md);
    const rows = fold
      .slice(0, fold.indexOf('</details>'))
      .split('\n')
      .filter((l) => /^\| (baseline|augmented) \|/.test(l));
    assert.equal(rows.length, 9, 'five completed runs, one interrupted, one failed, two running; no pending one');
    const auc = RUNS[0]!.evaluations.test!.metrics.roc_auc!.toFixed(4);
    assert.ok(rows.includes(`| baseline | 0 | completed | 1 | 20 | 7 | 0.8000 | ${auc} |`), rows.join('\n'));
    assert.ok(rows.includes('| baseline | 2 | completed; near-constant, every test image p = 0.4546 | 3 | 20 | 7 | 0.8000 | 0.5000 |'), rows.join('\n'));
    assert.ok(rows.includes('| baseline | 3 | interrupted | 4 | 14 | 13 | – | – |'), rows.join('\n'));
    assert.ok(rows.includes('| augmented | 1 | completed, stopped early | 2 | 30 | 9 | 0.8000 | 1.0000 |'), rows.join('\n'));
  });

  test('an experiment with every run completed has no line of unfinished runs', () => {
    const all = progress.filter((p) => p.status === 'completed');
    assert.doesNotMatch(
      reproductionMarkdown(buildReproduction({ experiment: { id: 7, name: 'hand', protocol: 'seed' }, runs, progress: all, alwaysWrong: [] })),
      /Not completed/,
    );
  });
});
