/**
 * Chart.js as the pages get it: the UMD build (/vendor/chart.umd.js, every chart type registered), loaded by a classic
 * script before the pages' modules, is the global `Chart`. The options and dataset fields of the project's own
 * plugins and tooltips (web/public/charts.js) are added to Chart.js's types.
 */
import type { Chart as ChartJs, ChartType } from 'chart.js';

declare global {
  var Chart: typeof ChartJs;
}

declare module 'chart.js' {
  interface PluginOptionsByType<TType extends ChartType> {
    /** markersPlugin: labelled vertical lines at x values. */
    markers?: { lines: { x: number; label: string; dash?: number[] }[] };
  }
  interface ChartDatasetProperties<TType extends ChartType, TData> {
    /** errorBarsPlugin: one std per bar (null draws none), clipped to the bar's [lo, hi] ([0, 1] when absent). */
    errorBars?: (number | null)[];
    errorBarRanges?: [number, number][];
    /** The runs behind each bar, for the tooltip. */
    counts?: number[];
    /** An edge of a mean ± std band (bandDatasets): left out of the legend and the tooltip. */
    band?: boolean;
  }
}
