/**
 * The metric list as the page and the API see it, from study/metrics/definitions.ts: the JSON of GET /api/metrics,
 * and the ES module the server writes at /static/metrics.js, which the page's modules import (web/public/common.js;
 * its type for the page's check: web/page-types/metrics.d.ts), so a metric added to the definitions shows up in
 * every table, chart and picker of the page.
 */
import { METRICS } from '../study/metrics/definitions.ts';
import type { MetricInfo } from './api-types.ts';

export const METRIC_INFO: MetricInfo[] = METRICS.map(({ name, label, better, max, reference }) => ({ name, label, better, max, reference }));

export const METRICS_MODULE = `// The metrics of study/metrics/definitions.ts, written by the server (web/metrics-module.ts).
export const METRIC_INFO = ${JSON.stringify(METRIC_INFO, null, 2)};
`;
