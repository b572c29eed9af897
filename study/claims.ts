/**
 * The article's qualitative claims as checks over the runs' test metrics: each gives a verdict, the rule that
 * decides it and the numbers the rule looked at. A claim about a model the experiment lacks is 'not testable here';
 * Xception's claims use the MobileNetV2 pair where the experiment has no Xception runs (report-metrics.ts).
 */
import { ARTICLE_CLAIMS, ARTICLE_METRICS, type ArticleClaim, type ArticleModel, type ClaimId } from './article.ts';
import { modelFor, type ReportMetric, type RunValues } from './report-metrics.ts';
import { mean, sampleStd, welch } from './statistics.ts';

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
/** 'No clear difference' and the Welch p-values: significance level. */
export const SIGNIFICANCE = 0.05;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const testValues = (runs: readonly RunValues[], metric: ReportMetric) => runs.map((r) => r.metrics.test?.[metric] ?? NaN).filter(Number.isFinite);

interface Resolved {
  models: Record<string, string>;
  standIns: Record<string, string>;
  missing: string[];
}

function resolve(needed: readonly ArticleModel[], byModel: ReadonlyMap<string, readonly RunValues[]>, minRuns: number): Resolved {
  const present = [...byModel.keys()].filter((m) => (byModel.get(m)?.length ?? 0) >= minRuns);
  const models: Record<string, string> = {};
  const standIns: Record<string, string> = {};
  const missing: string[] = [];
  for (const a of needed) {
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
    rule: `no stored test metric differs significantly between the frozen and the fine-tuned model (Welch p >= ${SIGNIFICANCE})`,
    check: (runs, name) => {
      const rows: Evidence[] = [];
      for (const metric of ARTICLE_METRICS) {
        const w = welch(testValues(runs('xception'), metric), testValues(runs('xception-ft'), metric));
        if (!w) return `the ${metric} of ${name('xception')} and ${name('xception-ft')} has no Welch test (no variance)`;
        rows.push({
          what: `${metric}: ${name('xception')} - ${name('xception-ft')}`,
          holds: w.p >= SIGNIFICANCE,
          numbers: { diff: w.diff, ciLow: w.ci[0], ciHigh: w.ci[1], p: w.p },
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
    const { models, standIns, missing } = resolve(r.needs, byModel, r.minRuns);
    const base = { ...claim, rule: r.rule, standIns };
    if (missing.length > 0) {
      const runs = r.minRuns > 1 ? ` with ${r.minRuns} or more ${counted}` : ` with any ${counted}`;
      return { ...base, verdict: 'not testable here', reason: `the experiment has no ${missing.join(', ')} model${runs}`, evidence: [] };
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
