/**
 * The article's claims on hand-made run sets: each rule made to come out supported, not supported and not
 * testable, with the numbers it reports; the MobileNetV2 pair standing in for Xception's.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ARTICLE_CLAIMS } from '../../study/article.ts';
import { checkClaims, type ClaimResult } from '../../study/claims.ts';
import { REPORT_METRICS, type ReportMetric, type RunValues } from '../../study/report-metrics.ts';

let nextId = 1;
/** Runs of one model whose test metrics are `base` plus, per run, the offsets (same offset for every metric). */
function runs(model: string, base: Partial<Record<ReportMetric, number>>, offsets: number[]): RunValues[] {
  return offsets.map((o, runIndex) => ({
    runId: nextId++,
    model,
    runIndex,
    epochs: 10,
    metrics: { test: Object.fromEntries(REPORT_METRICS.map((k) => [k, (base[k] ?? 0.5) + o])) as Record<ReportMetric, number> },
    confusion: null,
    tprAtArticleFpr: null,
  }));
}

const study = (...sets: RunValues[][]) => new Map(sets.map((s) => [s[0]!.model, s]));
const claim = (results: ClaimResult[], id: string) => results.find((c) => c.id === id)!;

const wide = [-0.02, 0, 0.02];
const narrow = [-0.01, 0, 0.01];

describe('claims', () => {
  test('every claim of the article is checked, with its lines', () => {
    const results = checkClaims(new Map());
    assert.deepEqual(
      results.map((c) => c.id),
      ARTICLE_CLAIMS.map((c) => c.id),
    );
    for (const c of results) {
      assert.equal(c.verdict, 'not testable here');
      assert.match(c.reason!, /the experiment has no /);
      assert.match(c.lines, /^\d/);
    }
  });

  test('augmentation lowers every std: supported, then not supported when one metric spreads more', () => {
    const base = runs('baseline', {}, wide);
    const c = claim(checkClaims(study(base, runs('augmented', {}, narrow))), 'augmentation-lowers-std');
    assert.equal(c.verdict, 'supported');
    assert.equal(c.evidence.length, 6);
    const loss = c.evidence.find((e) => e.what === 'loss std')!;
    assert.ok(Math.abs(loss.numbers.baseline! - 0.02) < 1e-12 && Math.abs(loss.numbers.augmented! - 0.01) < 1e-12);

    const aug = runs('augmented', {}, narrow);
    aug[0]!.metrics.test!.recall = 0.1; // recall spreads far more than the baseline's
    const d = claim(checkClaims(study(runs('baseline', {}, wide), aug)), 'augmentation-lowers-std');
    assert.equal(d.verdict, 'not supported');
    assert.deepEqual(
      d.evidence.filter((e) => !e.holds).map((e) => e.what),
      ['recall std'],
    );
  });

  test('augmentation lowers std needs two runs of each model', () => {
    const c = claim(checkClaims(study(runs('baseline', {}, [0]), runs('augmented', {}, narrow))), 'augmentation-lowers-std');
    assert.equal(c.verdict, 'not testable here');
    assert.match(c.reason!, /no baseline model with 2 or more completed runs/);
  });

  test('slightly higher loss, recall, AUC and accuracy', () => {
    const higher = claim(
      checkClaims(study(runs('baseline', {}, wide), runs('augmented', { loss: 0.51, recall: 0.51, roc_auc: 0.51, accuracy: 0.51 }, wide))),
      'augmented-slightly-higher',
    );
    assert.equal(higher.verdict, 'supported');
    assert.deepEqual(
      higher.evidence.map((e) => e.what),
      ['loss mean', 'recall mean', 'roc_auc mean', 'accuracy mean'],
    );
    assert.ok(Math.abs(higher.evidence[0]!.numbers.diff! - 0.01) < 1e-12);
    const lower = claim(
      checkClaims(study(runs('baseline', {}, wide), runs('augmented', { loss: 0.51, recall: 0.49, roc_auc: 0.51, accuracy: 0.51 }, wide))),
      'augmented-slightly-higher',
    );
    assert.equal(lower.verdict, 'not supported');
    assert.deepEqual(
      lower.evidence.filter((e) => !e.holds).map((e) => e.what),
      ['recall mean'],
    );
  });

  test('recall/precision trade-off against Xception, and MobileNetV2 standing in for it', () => {
    const baselines = [runs('baseline', { recall: 0.9, precision: 0.7 }, wide), runs('augmented', { recall: 0.92, precision: 0.69 }, wide)];
    const xception = runs('xception', { recall: 0.8, precision: 0.8 }, wide);
    const c = claim(checkClaims(study(...baselines, xception)), 'recall-precision-trade-off');
    assert.equal(c.verdict, 'supported');
    assert.deepEqual(c.standIns, {});
    assert.equal(c.evidence.length, 4);

    const mobilenet = runs('mobilenet', { recall: 0.95, precision: 0.8 }, wide);
    const m = claim(checkClaims(study(...baselines, mobilenet)), 'recall-precision-trade-off');
    assert.deepEqual(m.standIns, { xception: 'mobilenet' });
    assert.equal(m.verdict, 'not supported');
    assert.deepEqual(
      m.evidence.filter((e) => !e.holds).map((e) => e.what),
      ['recall: baseline > mobilenet', 'recall: augmented > mobilenet'],
    );

    const none = claim(checkClaims(study(...baselines)), 'recall-precision-trade-off');
    assert.equal(none.verdict, 'not testable here');
    assert.match(none.reason!, /no xception model/);
  });

  test('similar AUC and accuracy: the Welch interval within ±0.03', () => {
    const close = claim(
      checkClaims(study(runs('baseline', {}, narrow), runs('augmented', {}, narrow), runs('xception', { roc_auc: 0.505, accuracy: 0.495 }, narrow))),
      'similar-auc-accuracy',
    );
    assert.equal(close.verdict, 'supported');
    assert.equal(close.evidence.length, 6);
    for (const e of close.evidence) assert.ok(e.numbers.ciLow! > -0.03 && e.numbers.ciHigh! < 0.03);

    const apart = claim(
      checkClaims(study(runs('baseline', {}, narrow), runs('augmented', {}, narrow), runs('xception', { roc_auc: 0.56 }, narrow))),
      'similar-auc-accuracy',
    );
    assert.equal(apart.verdict, 'not supported');
    assert.deepEqual(
      apart.evidence.filter((e) => !e.holds).map((e) => e.what),
      ['roc_auc: baseline - xception', 'roc_auc: augmented - xception'],
    );

    // Equal means but too few runs and too much spread for the interval to fit: not shown similar.
    const vague = claim(
      checkClaims(study(runs('baseline', {}, [-0.05, 0.05]), runs('augmented', {}, [-0.05, 0.05]), runs('xception', {}, [-0.05, 0.05]))),
      'similar-auc-accuracy',
    );
    assert.equal(vague.verdict, 'not supported');
  });

  test('fine-tuning makes no clear difference: Welch p >= 0.05 for every metric', () => {
    const same = claim(checkClaims(study(runs('mobilenet', {}, wide), runs('mobilenet-ft', { accuracy: 0.53 }, wide))), 'fine-tuning-no-difference');
    assert.equal(same.verdict, 'supported');
    assert.deepEqual(same.standIns, { xception: 'mobilenet', 'xception-ft': 'mobilenet-ft' });
    const accuracy = same.evidence.find((e) => e.what.startsWith('accuracy'))!;
    assert.ok(accuracy.numbers.p! > 0.05 && accuracy.numbers.p! < 0.5, `accuracy p ${accuracy.numbers.p}`);
    const ft = claim(checkClaims(study(runs('mobilenet', {}, narrow), runs('mobilenet-ft', { recall: 0.6 }, narrow))), 'fine-tuning-no-difference');
    assert.equal(ft.verdict, 'not supported');
    const recall = ft.evidence.find((e) => e.what.startsWith('recall'))!;
    assert.ok(recall.numbers.p! < 0.05 && !recall.holds);
    const noVariance = claim(checkClaims(study(runs('xception', {}, [0, 0]), runs('xception-ft', {}, [0, 0]))), 'fine-tuning-no-difference');
    assert.equal(noVariance.verdict, 'not testable here');
    assert.match(noVariance.reason!, /no variance/);
  });

  test("fine-tuning with one run, as the article has: Crawford and Howell's test of that run against the frozen runs", () => {
    const frozen = runs('mobilenet', {}, [-0.02, -0.01, 0, 0.01, 0.02]);
    const inside = claim(checkClaims(study(frozen, runs('mobilenet-ft', {}, [0.015]))), 'fine-tuning-no-difference');
    assert.equal(inside.verdict, 'supported');
    assert.equal(inside.evidence.length, 6);
    const auc = inside.evidence.find((e) => e.what === 'roc_auc: mobilenet - mobilenet-ft (Crawford-Howell)')!;
    assert.ok(Math.abs(auc.numbers.diff! + 0.015) < 1e-12 && auc.numbers.p! > 0.05 && auc.numbers.p! < 0.5, `p ${auc.numbers.p}`);

    const outside = claim(checkClaims(study(frozen, runs('mobilenet-ft', { recall: 0.6 }, [0]))), 'fine-tuning-no-difference');
    assert.equal(outside.verdict, 'not supported');
    assert.deepEqual(
      outside.evidence.filter((e) => !e.holds).map((e) => e.what),
      ['recall: mobilenet - mobilenet-ft (Crawford-Howell)'],
    );

    const one = claim(checkClaims(study(runs('mobilenet', {}, [0]), runs('mobilenet-ft', {}, [0]))), 'fine-tuning-no-difference');
    assert.equal(one.verdict, 'not testable here');
    assert.equal(one.reason, 'the experiment has no xception model with 2 or more completed runs');
    const none = claim(checkClaims(study(runs('mobilenet', {}, [0]))), 'fine-tuning-no-difference');
    assert.equal(none.reason, 'the experiment has no xception model with 2 or more completed runs and no xception-ft model with any completed runs');

    // The fine-tuned model is the one that starts from the frozen model chosen: never xception-ft beside mobilenet.
    const mixed = study(runs('xception', {}, [0]), runs('xception-ft', {}, [0]), frozen);
    assert.equal(claim(checkClaims(mixed), 'fine-tuning-no-difference').reason, 'the experiment has no xception-ft model with any completed runs');
    mixed.set('mobilenet-ft', runs('mobilenet-ft', {}, [0.015]));
    assert.deepEqual(claim(checkClaims(mixed), 'fine-tuning-no-difference').standIns, { xception: 'mobilenet', 'xception-ft': 'mobilenet-ft' });

    const unscored = runs('mobilenet-ft', {}, [0]);
    unscored[0]!.metrics.test!.recall = NaN;
    assert.equal(
      claim(checkClaims(study(frozen, unscored)), 'fine-tuning-no-difference').reason,
      'the recall of mobilenet and mobilenet-ft has no Crawford-Howell test (too few values, or no variance)',
    );
  });
});
