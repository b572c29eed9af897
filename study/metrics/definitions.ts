/**
 * The study's metrics, one record each. Everything else takes the list from here: the training loop and the final
 * evaluation compute every metric of it (evaluateBinary), the database stores one row per run, split and metric
 * (db/schema.ts) and generates the per-metric columns of its views from it, the JSON API keys its numbers by
 * `name`, and the page and the reports show `label`. Adding a metric is adding its record; `npm run db:generate`
 * then writes the migration of the views.
 */
import type { ConfusionMatrix } from '../run.ts';
import { accuracy, precision, recall, specificity } from './confusion.ts';
import { binaryCrossEntropyUnchecked } from './loss.ts';
import { averagePrecisionFromCounts } from './precision-recall.ts';
import type { RankCounts } from './ranking.ts';
import { rocAucFromCounts } from './roc.ts';

/** What every metric of one split is computed from. */
export interface ScoredSplit {
  /** Labels, 1 = malignant. */
  yTrue: ArrayLike<number>;
  /** Predicted probabilities of malignant. */
  yProb: ArrayLike<number>;
  /** At the decision threshold (p > 0.5 is malignant). */
  confusion: ConfusionMatrix;
  /** The one sort behind the AUCs (scikit-learn's _binary_clf_curve). */
  ranks: RankCounts;
}

export interface MetricDefinition {
  /**
   * snake_case: the key of the metric in JSON, its `metric` in the database's rows and the prefix of its columns in
   * the views (metric_summary_wide's `<name>_mean`, run_overview's `test_<name>`). Never renamed: stored rows name it.
   */
  name: string;
  /** As the page and the reports show it. */
  label: string;
  /** Which way is better: sorting, the best value of a table, the report's verdicts. */
  better: 'higher' | 'lower';
  /** The largest value it can take (every metric is at least 0); null when unbounded. Charts clip to [0, max]. */
  max: number | null;
  /** The implementation whose numbers it reproduces, which its tests check against worked examples. */
  reference: string;
  compute(s: ScoredSplit): number;
}

export const METRICS = [
  {
    name: 'loss',
    label: 'Loss',
    better: 'lower',
    max: null,
    reference: 'Keras binary_crossentropy: p clipped to [1e-7, 1 - 1e-7], mean over the split',
    compute: (s) => binaryCrossEntropyUnchecked(s.yTrue, s.yProb),
  },
  {
    name: 'accuracy',
    label: 'Accuracy',
    better: 'higher',
    max: 1,
    reference: 'Keras BinaryAccuracy (p > 0.5)',
    compute: (s) => accuracy(s.confusion),
  },
  {
    name: 'precision',
    label: 'Precision',
    better: 'higher',
    max: 1,
    reference: 'Keras Precision (p > 0.5; 0 when nothing is predicted positive)',
    compute: (s) => precision(s.confusion),
  },
  {
    name: 'recall',
    label: 'Recall',
    better: 'higher',
    max: 1,
    reference: 'Keras Recall, the sensitivity (p > 0.5; 0 without a positive)',
    compute: (s) => recall(s.confusion),
  },
  {
    name: 'specificity',
    label: 'Specificity',
    better: 'higher',
    max: 1,
    reference: 'scikit-learn recall_score(pos_label=0) at p > 0.5: the benign lesions called benign (0 without a benign one)',
    compute: (s) => specificity(s.confusion),
  },
  {
    name: 'roc_auc',
    label: 'ROC AUC',
    better: 'higher',
    max: 1,
    reference: 'scikit-learn roc_auc_score (NaN when a class is missing)',
    compute: (s) => rocAucFromCounts(s.ranks),
  },
  {
    name: 'pr_auc',
    label: 'PR AUC (AP)',
    better: 'higher',
    max: 1,
    reference: 'scikit-learn average_precision_score (NaN without a positive)',
    compute: (s) => averagePrecisionFromCounts(s.ranks),
  },
] as const satisfies readonly MetricDefinition[];

export type MetricName = (typeof METRICS)[number]['name'];
/** The names in the list's order, as a tuple ('loss', 'accuracy', ...). */
export const METRIC_NAMES = METRICS.map((m) => m.name) as unknown as NamesOf<typeof METRICS>;
type NamesOf<T extends readonly { name: string }[]> = { readonly [K in keyof T]: T[K] extends { name: infer N } ? N : never };
/** Every metric of a split. */
export type Metrics = Record<MetricName, number>;

export function isMetricName(name: string): name is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(name);
}

export function metricDefinition(name: MetricName): MetricDefinition {
  return METRICS.find((m) => m.name === name)!;
}
