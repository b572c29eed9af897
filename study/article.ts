/**
 * What the article reports, as reference data: every number the reproduction report compares with the runs, and
 * the qualitative claims it checks, each with its line in the article (`/work/shared/study/README.md` lists every
 * fact of `article-zh.md` with its line; the English renderings here follow it).
 */
import type { MetricName } from './metrics/definitions.ts';
import type { ReportMetric } from './report-metrics.ts';

/** The article's models (Xception's pair has stand-ins here, see report-metrics.ts). */
export type ArticleModel = 'baseline' | 'augmented' | 'xception' | 'xception-ft';

/** What a number measures on one run; the runs of the model give its distribution. */
export type ArticleQuantity =
  | { kind: 'metric'; metric: ReportMetric }
  | { kind: 'count'; count: 'tp' | 'fn' | 'tn' | 'fp' }
  | { kind: 'epochs' }
  | { kind: 'tpr-at-fpr'; fpr: number };

export interface ArticleNumber {
  id: string;
  model: ArticleModel;
  /** The article's basis: the mean of ten runs, or one run. */
  basis: 'mean of 10 runs' | 'one run';
  quantity: ArticleQuantity;
  /** The quantity's name in the report. */
  label: string;
  value: number;
  /** Line(s) of article-zh.md. */
  lines: string;
  says: string;
}

/**
 * The stored metrics the article's Keras models report (its AUPRC is Keras' own, `keras_pr_auc` in the report): the
 * claims about "every metric" are about these, whatever else the project measures.
 */
export const ARTICLE_METRICS = ['loss', 'accuracy', 'precision', 'recall', 'roc_auc', 'pr_auc'] as const satisfies readonly MetricName[];

/** The article's false-positive rate of its augmented model's test ROC point (line 209). */
export const ARTICLE_ROC_FPR = 0.23;

export const ARTICLE_NUMBERS: readonly ArticleNumber[] = [
  {
    id: 'baseline-recall',
    model: 'baseline',
    basis: 'mean of 10 runs',
    quantity: { kind: 'metric', metric: 'recall' },
    label: 'test recall',
    value: 0.92,
    lines: '143-149',
    says: '10 runs: test recall 92%',
  },
  {
    id: 'baseline-roc-auc',
    model: 'baseline',
    basis: 'mean of 10 runs',
    quantity: { kind: 'metric', metric: 'roc_auc' },
    label: 'test ROC AUC',
    value: 0.86,
    lines: '143-149',
    says: '10 runs: AUC 86%',
  },
  {
    id: 'baseline-accuracy',
    model: 'baseline',
    basis: 'mean of 10 runs',
    quantity: { kind: 'metric', metric: 'accuracy' },
    label: 'test accuracy',
    value: 0.76,
    lines: '143-149',
    says: '10 runs: accuracy 76%',
  },
  {
    id: 'baseline-precision',
    model: 'baseline',
    basis: 'mean of 10 runs',
    quantity: { kind: 'metric', metric: 'precision' },
    label: 'test precision',
    value: 0.7,
    lines: '143-149',
    says: '10 runs: precision 70%',
  },
  {
    id: 'baseline-tp',
    model: 'baseline',
    basis: 'one run',
    quantity: { kind: 'count', count: 'tp' },
    label: 'test TP',
    value: 295,
    lines: '129',
    says: '295 malignant right',
  },
  {
    id: 'baseline-fn',
    model: 'baseline',
    basis: 'one run',
    quantity: { kind: 'count', count: 'fn' },
    label: 'test FN',
    value: 5,
    lines: '129',
    says: '5 malignant missed',
  },
  {
    id: 'baseline-tn',
    model: 'baseline',
    basis: 'one run',
    quantity: { kind: 'count', count: 'tn' },
    label: 'test TN',
    value: 230,
    lines: '129',
    says: '230 benign right',
  },
  {
    id: 'baseline-fp',
    model: 'baseline',
    basis: 'one run',
    quantity: { kind: 'count', count: 'fp' },
    label: 'test FP',
    value: 130,
    lines: '129',
    says: '130 benign called malignant',
  },
  {
    id: 'augmented-epochs',
    model: 'augmented',
    basis: 'one run',
    quantity: { kind: 'epochs' },
    label: 'epochs trained',
    value: 38,
    lines: '185',
    says: 'the single run stopped after 38 epochs',
  },
  {
    id: 'augmented-tpr',
    model: 'augmented',
    basis: 'one run',
    quantity: { kind: 'tpr-at-fpr', fpr: ARTICLE_ROC_FPR },
    label: `test TPR at FPR ${ARTICLE_ROC_FPR}`,
    value: 0.9,
    lines: '209',
    says: 'test ROC: true-positive rate 90% at false-positive rate 23%',
  },
  {
    id: 'xception-fn',
    model: 'xception',
    basis: 'one run',
    quantity: { kind: 'count', count: 'fn' },
    label: 'test FN',
    value: 61,
    lines: '289',
    says: '61 malignant missed',
  },
  {
    id: 'xception-fp',
    model: 'xception',
    basis: 'one run',
    quantity: { kind: 'count', count: 'fp' },
    label: 'test FP',
    value: 65,
    lines: '289',
    says: '65 benign called malignant',
  },
];

export type ClaimId =
  | 'augmentation-lowers-std'
  | 'augmented-slightly-higher'
  | 'recall-precision-trade-off'
  | 'similar-auc-accuracy'
  | 'fine-tuning-no-difference';

export interface ArticleClaim {
  id: ClaimId;
  lines: string;
  says: string;
}

export const ARTICLE_CLAIMS: readonly ArticleClaim[] = [
  { id: 'augmentation-lowers-std', lines: '215-217, 363', says: "augmentation lowers the std of every metric (markedly, line 363) against the baseline's" },
  { id: 'augmented-slightly-higher', lines: '215-217', says: 'the augmented baseline has slightly higher loss, recall, AUC and accuracy than the baseline' },
  { id: 'recall-precision-trade-off', lines: '359-363', says: 'both baselines trade higher recall for lower precision against Xception' },
  { id: 'similar-auc-accuracy', lines: '359-363', says: 'all three models (baseline, augmented baseline, Xception) have similar AUC and accuracy' },
  { id: 'fine-tuning-no-difference', lines: '345-349', says: 'fine-tuning Xception makes no clear difference against the frozen model' },
];
