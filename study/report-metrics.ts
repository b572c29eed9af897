import { METRICS, METRIC_NAMES, type MetricName } from './metrics/definitions.ts';

/**
 * The metrics the reproduction report shows per run: those the project stores for every evaluation
 * (study/metrics/definitions.ts), and the article's own AUPRC (Keras' interpolated PR AUC over 200 thresholds),
 * computed from the stored predictions.
 */
import type { ArticleModel } from './article.ts';
import { standInsFor } from './models.ts';

export const REPORT_METRICS = [...METRIC_NAMES, 'keras_pr_auc'] as const;
export type ReportMetric = MetricName | 'keras_pr_auc';

export const REPORT_METRIC_LABELS = {
  ...Object.fromEntries(METRICS.map((m) => [m.name, m.label])),
  keras_pr_auc: 'PR AUC (Keras)',
} as Record<ReportMetric, string>;

export const REPORT_SPLITS = ['test', 'val', 'train'] as const;
export type ReportSplit = (typeof REPORT_SPLITS)[number];

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** One completed run as the report sees it. */
export interface RunValues {
  runId: number;
  model: string;
  runIndex: number;
  /** Epochs trained (val rows stored). */
  epochs: number;
  /** Per split: the stored metrics and Keras' PR AUC (NaN where the run has no predictions of the split). */
  metrics: Partial<Record<ReportSplit, Record<ReportMetric, number>>>;
  /** Test confusion matrix at 0.5. */
  confusion: Confusion | null;
  /** True-positive rate of the test ROC at the article's false-positive rate 0.23 (null without predictions). */
  tprAtArticleFpr: number | null;
}

/**
 * The model of the experiment that answers for the article's `model`: that model, else its first stand-in present
 * (study/models.ts: Xception's ImageNet weights can't be downloaded here, so the MobileNetV2 models take its place
 * in the article's claims when an experiment has no Xception runs); null when it has none.
 */
export function modelFor(articleModel: ArticleModel, present: readonly string[]): string | null {
  if (present.includes(articleModel)) return articleModel;
  return standInsFor(articleModel).find((m) => present.includes(m)) ?? null;
}
