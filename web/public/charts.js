// @ts-check
// Chart.js helpers: series styles that stay readable without colour (dash patterns, point styles, hatching),
// a plugin for std error bars on bar charts and one for labelled vertical epoch markers.
/** @import { ChartConfiguration, ChartDataset, ChartOptions, ChartType, Plugin, Point, PointStyle, ScaleOptions, TooltipItem } from 'chart.js' */
/** @import { BandPoint } from '../api-types.ts' */
/** @import { MetricName } from '../../study/run.ts' */
import { METRIC_LABELS, isFiniteNumber, meanStd, metricMax } from './common.js';

const Chart = globalThis.Chart;

// Okabe-Ito: distinguishable with the common colour-vision deficiencies.
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/**
 * How a series is drawn: its colour, dash pattern and point shape.
 * @typedef {{ color: string, dash: number[], point: PointStyle }} SeriesStyle
 */

/** @type {Record<'train' | 'val' | 'test', SeriesStyle>} */
export const SPLIT_STYLE = {
  train: { color: '#0072B2', dash: [], point: 'circle' },
  val: { color: '#D55E00', dash: [6, 4], point: 'triangle' },
  test: { color: '#009E73', dash: [2, 3], point: 'rect' },
};

/** @type {number[][]} */
const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3], [1, 2], [12, 6]];
/** @type {PointStyle[]} */
const POINTS = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot', 'cross', 'rectRounded'];

/**
 * The item at `i` of a list that repeats itself.
 * @template T
 * @param {readonly T[]} list
 * @param {number} i
 */
const cycle = (list, i) => /** @type {T} */ (list[i % list.length]);

/** The colour of series `i`. */
export const paletteColor = (/** @type {number} */ i) => cycle(PALETTE, i);

/**
 * @param {number} i
 * @returns {SeriesStyle}
 */
export function seriesStyle(i) {
  return { color: cycle(PALETTE, i), dash: cycle(DASHES, i), point: cycle(POINTS, i) };
}

/**
 * @param {string} hex '#rrggbb'
 * @param {number} a
 */
export function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/**
 * A fill pattern per series index (solid, diagonal, cross-hatch, dots, horizontal, vertical) over `color`; the plain
 * colour where the browser gives no 2-D canvas.
 * @param {string} color
 * @param {number} i
 * @returns {string | CanvasPattern}
 */
export function hatch(color, i) {
  const kind = i % 6;
  if (kind === 0) return color;
  const size = 8;
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  if (!g) return color;
  g.fillStyle = alpha(color, 0.35);
  g.fillRect(0, 0, size, size);
  g.strokeStyle = color;
  g.fillStyle = color;
  g.lineWidth = 2;
  g.beginPath();
  if (kind === 1 || kind === 2) {
    g.moveTo(0, size);
    g.lineTo(size, 0);
    g.moveTo(-2, 2);
    g.lineTo(2, -2);
    g.moveTo(size - 2, size + 2);
    g.lineTo(size + 2, size - 2);
  }
  if (kind === 2) {
    g.moveTo(0, 0);
    g.lineTo(size, size);
  }
  if (kind === 4) {
    g.moveTo(0, size / 2);
    g.lineTo(size, size / 2);
  }
  if (kind === 5) {
    g.moveTo(size / 2, 0);
    g.lineTo(size / 2, size);
  }
  g.stroke();
  if (kind === 3) {
    g.beginPath();
    g.arc(size / 2, size / 2, 1.8, 0, Math.PI * 2);
    g.fill();
  }
  return g.createPattern(c, 'repeat') ?? color;
}

/**
 * The range a metric's values can take: [0, max], [0, Infinity) for one without a bound (the loss). Axes, bands and
 * error bars of a metric stay inside it.
 * @param {MetricName} metric
 * @returns {[number, number]}
 */
export function metricRange(metric) {
  return [0, metricMax(metric) ?? Infinity];
}

const clamp = (/** @type {number} */ x, /** @type {[number, number]} */ [lo, hi]) => Math.min(hi, Math.max(lo, x));

/**
 * Axis options of a metric's value axis: fixed to [0, max] for a bounded metric, from 0 up for the loss.
 * @param {MetricName} metric
 * @returns {{ yMin: number, yMax?: number }}
 */
export function metricAxis(metric) {
  const max = metricMax(metric);
  return max === null ? { yMin: 0 } : { yMin: 0, yMax: max };
}

/**
 * Draws mean ± std whiskers on bar datasets that carry `errorBars: number[]` (one std per bar; null draws none),
 * clipped to `errorBarRanges[i]` ([lo, hi], the range of the bar's metric; [0, 1] when absent): a whisker stops
 * at the value the metric cannot pass, with its cap there.
 * @type {Plugin<'bar'>}
 */
export const errorBarsPlugin = {
  id: 'errorBars',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const yScale = chart.scales.y;
    if (!yScale) return;
    ctx.save();
    ctx.strokeStyle = '#222';
    ctx.lineWidth = 1.25;
    chart.data.datasets.forEach((ds, di) => {
      if (!Array.isArray(ds.errorBars) || !chart.isDatasetVisible(di)) return;
      const meta = chart.getDatasetMeta(di);
      meta.data.forEach((bar, i) => {
        const mean = ds.data[i];
        const std = ds.errorBars?.[i];
        if (!(isFiniteNumber(mean) && isFiniteNumber(std)) || std <= 0) return;
        const range = ds.errorBarRanges?.[i] ?? [0, 1];
        const top = yScale.getPixelForValue(clamp(mean + std, range));
        const bottom = yScale.getPixelForValue(clamp(mean - std, range));
        const width = 'width' in bar && isFiniteNumber(bar.width) ? bar.width : 8;
        const half = Math.max(2, Math.min(6, width * 0.3));
        ctx.beginPath();
        ctx.moveTo(bar.x, top);
        ctx.lineTo(bar.x, bottom);
        ctx.moveTo(bar.x - half, top);
        ctx.lineTo(bar.x + half, top);
        ctx.moveTo(bar.x - half, bottom);
        ctx.lineTo(bar.x + half, bottom);
        ctx.stroke();
      });
    });
    ctx.restore();
  },
};

/** @typedef {NonNullable<import('chart.js').PluginOptionsByType<ChartType>['markers']>} MarkersOptions */

/**
 * Vertical lines at x values: options.plugins.markers = { lines: [{ x, label, dash }] }.
 * @type {Plugin<ChartType, MarkersOptions>}
 */
export const markersPlugin = {
  id: 'markers',
  afterDatasetsDraw(chart, _args, opts) {
    const lines = opts?.lines ?? [];
    if (!lines.length) return;
    const { ctx, chartArea } = chart;
    const xScale = chart.scales.x;
    if (!xScale) return;
    ctx.save();
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#333';
    ctx.strokeStyle = '#555';
    lines.forEach((line, i) => {
      const x = xScale.getPixelForValue(line.x);
      if (!Number.isFinite(x) || x < chartArea.left - 1 || x > chartArea.right + 1) return;
      ctx.setLineDash(line.dash ?? [3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      const width = ctx.measureText(line.label).width;
      const right = x + 4 + width > chartArea.right;
      const left = right ? x - 4 - width : x + 4;
      const y = chartArea.top + 12 + i * 14;
      ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
      ctx.fillRect(left - 2, y - 10, width + 4, 13);
      ctx.fillStyle = '#333';
      ctx.textAlign = 'left';
      ctx.fillText(line.label, left, y);
    });
    ctx.restore();
  },
};

if (Chart) Chart.register(errorBarsPlugin, markersPlugin);

/**
 * Creates the chart on `canvas`, or swaps in the new data and options of an existing one without animation.
 * @param {HTMLCanvasElement} canvas
 * @param {ChartConfiguration} config
 */
export function drawChart(canvas, config) {
  const existing = Chart.getChart(canvas);
  if (existing) {
    existing.data = config.data;
    existing.options = config.options ?? {};
    existing.update('none');
    return existing;
  }
  return new Chart(canvas, config);
}

/**
 * @param {string} title
 * @param {Record<string, string>} [attrs]
 */
export function chartBox(title, attrs = {}) {
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', title);
  const box = document.createElement('figure');
  box.className = 'chart';
  for (const [k, v] of Object.entries(attrs)) box.setAttribute(k, v);
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  const holder = document.createElement('div');
  holder.className = 'chart-holder';
  holder.append(canvas);
  box.append(caption, holder);
  return { box, canvas };
}

/** Legend entries show each dataset's point style, so series differ by shape as well as colour. */
export const legend = { labels: { usePointStyle: true, pointStyleWidth: 12, boxHeight: 6, font: { size: 11 } } };

/**
 * A point of a line: its value and, on a mean line, the runs behind it and their std (for the tooltip).
 * @typedef {Point & { n?: number, std?: number | null }} LinePoint
 */

/**
 * @param {string} label
 * @param {LinePoint[]} points
 * @param {SeriesStyle} style
 * @param {Partial<ChartDataset<'line', LinePoint[]>>} [extra]
 * @returns {ChartDataset<'line', LinePoint[]>}
 */
export function lineDataset(label, points, style, extra = {}) {
  return {
    label,
    data: points,
    borderColor: style.color,
    backgroundColor: style.color,
    borderDash: style.dash,
    pointStyle: style.point,
    pointRadius: points.length > 60 ? 0 : 3,
    pointHoverRadius: 4,
    borderWidth: 2,
    spanGaps: false,
    ...extra,
  };
}

/**
 * The options baseOptions builds, with the parts its callers add to (the axes, the plugins) always there.
 * @typedef {ChartOptions<'line'> & { scales: { x: ScaleOptions<'linear'>, y: ScaleOptions<'linear'> }, plugins: NonNullable<ChartOptions<'line'>['plugins']> }} BaseOptions
 */

/**
 * Options of a chart with linear x and y axes.
 * @param {{ xTitle?: string, yTitle?: string, yMin?: number, yMax?: number, xMin?: number, xMax?: number }} [axes]
 * @returns {BaseOptions}
 */
export function baseOptions({ xTitle, yTitle, yMin, yMax, xMin, xMax } = {}) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'nearest', intersect: false },
    plugins: { legend },
    scales: {
      x: { type: 'linear', title: { display: !!xTitle, text: xTitle }, min: xMin, max: xMax },
      y: { title: { display: !!yTitle, text: yTitle }, min: yMin, max: yMax },
    },
  };
}

/**
 * One series of a bar chart of means: a bar per cell at its mean with its std as the whisker (errorBarsPlugin),
 * clipped to `ranges` (each bar's metricRange); series `i`'s colour and hatching.
 * @param {string} label
 * @param {({ mean: number | null, std: number | null } | undefined)[]} cells one per bar; undefined: no bar
 * @param {[number, number][]} ranges
 * @param {number} i
 * @returns {ChartDataset<'bar', (number | null)[]>}
 */
export function meanBarDataset(label, cells, ranges, i) {
  const color = paletteColor(i);
  return {
    label,
    data: cells.map((c) => c?.mean ?? null),
    errorBars: cells.map((c) => c?.std ?? null),
    errorBarRanges: ranges,
    backgroundColor: hatch(color, i),
    borderColor: color,
    borderWidth: 1.5,
  };
}

/**
 * Draws a bar chart of meanBarDatasets on `canvas`: bars grouped by `labels`, a title, the tooltip's label.
 * @param {HTMLCanvasElement} canvas
 * @param {string[]} labels
 * @param {ChartDataset<'bar', (number | null)[]>[]} datasets
 * @param {string} title
 * @param {(ctx: TooltipItem<'bar'>) => string} tooltip
 */
export function drawMeanBars(canvas, labels, datasets, title, tooltip) {
  drawChart(canvas, { type: 'bar', data: { labels, datasets }, options: meanBarOptions(title, tooltip, meanBarMax(datasets)) });
}

/**
 * Options of a bar chart of means whose datasets carry `errorBars` (std whiskers): a title, the tooltip's label and
 * the value axis, from 0 to 1 unless a bar (a loss) with its clipped whisker needs more (`yMax`).
 * @param {string} title
 * @param {(ctx: TooltipItem<'bar'>) => string} label
 * @returns {ChartOptions<'bar'>}
 */
function meanBarOptions(title, label, yMax = 1) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: {
      legend: { labels: { boxWidth: 18, font: { size: 11 } } },
      title: { display: true, text: title },
      tooltip: { callbacks: { label } },
    },
    scales: { y: { min: 0, max: yMax } },
  };
}

/**
 * The top of a mean-bar chart's axis: 1, or above the highest bar or clipped whisker (a loss) rounded up to 0.1.
 * @param {ChartDataset<'bar', (number | null)[]>[]} datasets
 */
function meanBarMax(datasets) {
  let top = 1;
  for (const ds of datasets) {
    ds.data.forEach((mean, i) => {
      if (!isFiniteNumber(mean)) return;
      const std = ds.errorBars?.[i];
      const range = ds.errorBarRanges?.[i] ?? [0, 1];
      top = Math.max(top, mean, isFiniteNumber(std) ? clamp(mean + std, range) : mean);
    });
  }
  return top > 1 ? Math.ceil(top * 10) / 10 : 1;
}

/**
 * Draws one metric's mean ± std band per series over epochs on `canvas`, series `i` in seriesStyle(i): `name`
 * prefixes its band's labels, `mean` labels its mean line; `shade` is the bands' opacity.
 * @param {HTMLCanvasElement} canvas
 * @param {MetricName} metric
 * @param {{ band: BandPoint[], name: string, mean: string }[]} series
 * @param {number} shade
 */
export function drawBands(canvas, metric, series, shade) {
  const datasets = series.flatMap((s, i) => bandDatasets(s.band, seriesStyle(i), { prefix: `${s.name} `, mean: s.mean, shade, range: metricRange(metric) }));
  drawChart(canvas, { type: 'line', data: { datasets }, options: bandOptions(metric) });
}

/**
 * Options of a chart of bandDatasets over epochs: the metric's axis, the bands out of the legend and the tooltip.
 * @param {MetricName} metric
 */
function bandOptions(metric) {
  const options = baseOptions({ xTitle: 'epoch', yTitle: METRIC_LABELS[metric], xMin: 1, ...metricAxis(metric) });
  options.scales.x.ticks = { precision: 0 };
  options.plugins.legend = { ...legend, labels: { ...legend.labels, filter: (item, chartData) => !chartData.datasets[item.datasetIndex ?? -1]?.band } };
  options.plugins.tooltip = {
    filter: (item) => !item.dataset.band,
    callbacks: {
      label: (ctx) => {
        const p = /** @type {LinePoint} */ (ctx.raw);
        return `${ctx.dataset.label}: ${meanStd(p.y, p.std)} (n=${p.n})`;
      },
    },
  };
  return options;
}

/**
 * A mean ± 1 std band over epochs ([{ epoch, n, mean, std }]): two edge lines whose space is filled (marked
 * `band`, for legend and tooltip filters) and the mean line, whose points carry n and std for the tooltip. The
 * edges are clipped to `range` (the metric's, metricRange): a band never shows a recall above 1 or below 0.
 * @param {BandPoint[]} band
 * @param {SeriesStyle} style
 * @param {{ prefix?: string, mean: string, shade?: number, range?: [number, number] }} o
 */
export function bandDatasets(band, style, { prefix = '', mean, shade = 0.2, range = [0, 1] }) {
  const edge = (/** @type {number} */ sign) => band.map((b) => ({ x: b.epoch, y: isFiniteNumber(b.mean) ? clamp(b.mean + sign * (b.std ?? 0), range) : null }));
  return [
    lineDataset(`${prefix}+1 std`, edge(1), style, { borderWidth: 0, pointRadius: 0, fill: false, band: true }),
    lineDataset(`${prefix}± 1 std`, edge(-1), style, { borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: alpha(style.color, shade), band: true }),
    lineDataset(
      mean,
      band.map((b) => ({ x: b.epoch, y: b.mean, n: b.n, std: b.std })),
      style,
    ),
  ];
}
