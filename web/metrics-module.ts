/**
 * The metric list as the page and the API see it, from study/metrics/definitions.ts: the JSON of GET /api/metrics,
 * and the ES module the server writes at /static/metrics.js, which the page's modules import (web/public/common.js),
 * so a metric added to the definitions shows up in every table, chart and picker of the page.
 */
import { METRICS } from '../study/metrics/definitions.ts';

export interface MetricInfo {
  name: string;
  label: string;
  better: 'higher' | 'lower';
  /** The largest value the metric can take; null when unbounded (the loss). Every metric is at least 0. */
  max: number | null;
  reference: string;
}

export const METRIC_INFO: MetricInfo[] = METRICS.map(({ name, label, better, max, reference }) => ({ name, label, better, max, reference }));

export const METRICS_MODULE = `// The metrics of study/metrics/definitions.ts, written by the server (web/metrics-module.ts).
/** @type {{ name: string, label: string, better: 'higher' | 'lower', max: number | null, reference: string }[]} */
export const METRIC_INFO = ${JSON.stringify(METRIC_INFO, null, 2)};
`;
