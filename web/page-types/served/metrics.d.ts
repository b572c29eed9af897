/**
 * The module the server writes at /static/metrics.js from study/metrics/definitions.ts (web/metrics-module.ts), as
 * the page's modules import it (`./metrics.js` beside them: tsconfig.browser.json's rootDirs put this folder there).
 */
import type { MetricInfo } from '../../api-types.ts';

export const METRIC_INFO: MetricInfo[];
