/**
 * The article's qualitative claims as checks over the runs' test metrics: each gives a verdict, the rule that
 * decides it and the numbers the rule looked at. A claim about a model the experiment lacks is 'not testable here';
 * Xception's claims use the MobileNetV2 pair where the experiment has no Xception runs (report-metrics.ts).
 */
import { ARTICLE_CLAIMS, ARTICLE_METRICS, type ArticleClaim, type ArticleModel, type ClaimId } from './article.ts';
import { FINE_TUNES, isModelName } from './models.ts';
import { modelFor, type ReportMetric, type RunValues } from './report-metrics.ts';
import { compareMeans, mean, sampleStd, welch, type MeansTest } from './statistics.ts';

export type Verdict = 'supported' | 'not supported' | 'not testable here';

/** One comparison the rule makes: whether it holds and the numbers behind it. */
export interface Evidence {
  what: string;
  holds: boolean;
  numbers: Record<string, number | null>;
}

export interface ClaimResult extends ArticleClaim {
  verdict: Verdict;
  rule: string;
  /** Article model -> the experiment's model that answers for it (only where they differ). */
  standIns: Record<string, string>;
  /** Why the claim is not testable here. */
  reason: string | null;
  evidence: Evidence[];
}

/** 'Similar': the 95% Welch interval of the difference of means lies within ± this margin (an equivalence test). */
export const SIMILARITY_MARGIN = 0.03;
/** 'No clear difference' and the p-values of the tests: significance level. */
export const SIGNIFICANCE = 0.05;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const testValues = (runs: readonly RunValues[], metric: ReportMetric) => runs.map((r) => r.metrics.test?.[metric] ?? NaN).filter(Number.isFinite);

interface Resolved {
  models: Record<string, string>;
  standIns: Record<string, string>;
  missing: ArticleModel[];
}

function resolve(needed: readonly ArticleModel[], byModel: ReadonlyMap<string, readonly RunValues[]>, minRuns: (a: ArticleModel) => number): Resolved {
  const models: Record<string, string> = {};
  const standIns: Record<string, string> = {};
  const missing: ArticleModel[] = [];
  for (const a of needed) {
    // A fine-tuned model answers only with the model it starts from: mobilenet-ft beside mobilenet, never xception.
    const startsFrom = FINE_TUNES[a];
    const fromResolved = startsFrom === undefined ? undefined : models[startsFrom];
    const present = [...byModel.keys()].filter(
      (m) => (byModel.get(m)?.length ?? 0) >= minRuns(a) && (fromResolved === undefined || (isModelName(m) && FINE_TUNES[m] === fromResolved)),
    );
    const m = modelFor(a, present);
    if (m === null) missing.push(a);
    else {
      models[a] = m;
      if (m !== a) standIns[a] = m;
    }
  }
  return { models, standIns, missing };
}

interface Rule {
  needs: readonly ArticleModel[];
  minRuns: number;
  /** Where a model needs another number of runs than `minRuns`. */
  minRunsOf?: Partial<Record<ArticleModel, number>>;
  rule: string;
  /** Evidence rows; null with a reason when the numbers can't decide. */
  check(runs: (a: ArticleModel) => readonly RunValues[], name: (a: ArticleModel) => string): Evidence[] | string;
}

const RULES: Record<ClaimId, Rule> = {
  'augmentation-lowers-std': {
    needs: ['baseline', 'augmented'],
    minRuns: 2,
    rule: "the augmented model's sample std is lower than the baseline's for every stored test metric",
    check: (runs) =>
      ARTICLE_METRICS.map((metric) => {
        const b = sampleStd(testValues(runs('baseline'), metric));
        const a = sampleStd(testValues(runs('augmented'), metric));
        return { what: `${metric} std`, holds: a < b, numbers: { baseline: finite(b), augmented: finite(a) } };
      }),
  },
  'augmented-slightly-higher': {
    needs: ['baseline', 'augmented'],
    minRuns: 1,
    rule: "the augmented model's mean is higher than the baseline's for loss, recall, ROC AUC and accuracy (Welch p shown, not required)",
    check: (runs) =>
      (['loss', 'recall', 'roc_auc', 'accuracy'] as const).map((metric) => {
        const b = testValues(runs('baseline'), metric);
        const a = testValues(runs('augmented'), metric);
        const w = welch(a, b);
        return {
          what: `${metric} mean`,
          holds: mean(a) > mean(b),
          numbers: { baseline: finite(mean(b)), augmented: finite(mean(a)), diff: finite(mean(a) - mean(b)), p: w ? w.p : null },
        };
      }),
  },
  'recall-precision-trade-off': {
    needs: ['baseline', 'augmented', 'xception'],
    minRuns: 1,
    rule: "each baseline's mean recall is higher and its mean precision lower than Xception's",
    check: (runs, name) =>
      (['baseline', 'augmented'] as const).flatMap((b) =>
        (['recall', 'precision'] as const).map((metric) => {
          const own = mean(testValues(runs(b), metric));
          const x = mean(testValues(runs('xception'), metric));
          return {
            what: `${metric}: ${b} ${metric === 'recall' ? '>' : '<'} ${name('xception')}`,
            holds: metric === 'recall' ? own > x : own < x,
            numbers: { [b]: finite(own), [name('xception')]: finite(x) },
          };
        }),
      ),
  },
  'similar-auc-accuracy': {
    needs: ['baseline', 'augmented', 'xception'],
    minRuns: 2,
    rule: `for every pair of the three models, the 95% Welch interval of the difference of mean ROC AUC and of mean accuracy lies within ±${SIMILARITY_MARGIN}`,
    check: (runs, name) => {
      const pairs = [
        ['baseline', 'augmented'],
        ['baseline', 'xception'],
        ['augmented', 'xception'],
      ] as const;
      const rows: Evidence[] = [];
      for (const [x, y] of pairs) {
        for (const metric of ['roc_auc', 'accuracy'] as const) {
          const w = welch(testValues(runs(x), metric), testValues(runs(y), metric));
          if (!w) return `the ${metric} of ${name(x)} and ${name(y)} has no Welch interval (no variance)`;
          rows.push({
            what: `${metric}: ${name(x)} - ${name(y)}`,
            holds: w.ci[0] > -SIMILARITY_MARGIN && w.ci[1] < SIMILARITY_MARGIN,
            numbers: { diff: w.diff, ciLow: w.ci[0], ciHigh: w.ci[1], p: w.p },
          });
        }
      }
      return rows;
    },
  },
  'fine-tuning-no-difference': {
    needs: ['xception', 'xception-ft'],
    minRuns: 2,
    minRunsOf: { 'xception-ft': 1 },
    rule:
      `no stored test metric differs significantly between the frozen and the fine-tuned model (p >= ${SIGNIFICANCE}): ` +
      "Welch's t-test, or for a single fine-tuned run, as the article has, Crawford and Howell's test of that run against the frozen runs",
    check: (runs, name) => {
      // The test follows the run count; a metric whose missing values would change it has no test.
      const test: MeansTest = runs('xception-ft').length === 1 ? 'Crawford-Howell' : 'Welch';
      const rows: Evidence[] = [];
      for (const metric of ARTICLE_METRICS) {
        const { method, test: t } = compareMeans(testValues(runs('xception'), metric), testValues(runs('xception-ft'), metric));
        if (!t || method !== test)
          return `the ${metric} of ${name('xception')} and ${name('xception-ft')} has no ${test} test (too few values, or no variance)`;
        rows.push({
          what: `${metric}: ${name('xception')} - ${name('xception-ft')} (${test})`,
          holds: t.p >= SIGNIFICANCE,
          numbers: { diff: t.diff, ciLow: t.ci[0], ciHigh: t.ci[1], p: t.p },
        });
      }
      return rows;
    },
  },
};

/**
 * Every claim of the article checked against the runs of each model (test metrics): its completed runs, or those
 * `counted` names where the caller left some out.
 */
export function checkClaims(byModel: ReadonlyMap<string, readonly RunValues[]>, counted = 'completed runs'): ClaimResult[] {
  return ARTICLE_CLAIMS.map((claim) => {
    const r = RULES[claim.id];
    const minRuns = (a: ArticleModel) => r.minRunsOf?.[a] ?? r.minRuns;
    const { models, standIns, missing } = resolve(r.needs, byModel, minRuns);
    const base = { ...claim, rule: r.rule, standIns };
    if (missing.length > 0) {
      const lacking = [...new Set(missing.map(minRuns))].map((n) => {
        const runs = n > 1 ? ` with ${n} or more ${counted}` : ` with any ${counted}`;
        return `no ${missing.filter((a) => minRuns(a) === n).join(' or ')} model${runs}`;
      });
      return { ...base, verdict: 'not testable here', reason: `the experiment has ${lacking.join(' and ')}`, evidence: [] };
    }
    const modelOf = (a: ArticleModel): string => {
      const model = models[a];
      if (model === undefined) throw new Error(`the rule "${r.rule}" reads ${a}, which its needs do not list`);
      return model;
    };
    const rows = r.check((a) => byModel.get(modelOf(a)) ?? [], modelOf);
    if (typeof rows === 'string') return { ...base, verdict: 'not testable here', reason: rows, evidence: [] };
    return { ...base, verdict: rows.every((e) => e.holds) ? 'supported' : 'not supported', reason: null, evidence: rows };
  });
}
