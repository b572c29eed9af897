// @ts-check
// Shared helpers of the pages: DOM building (text only, never HTML from data), number formats, JSON fetches,
// live polling, the metric list.
/** @import { ExperimentSettings, SummaryRow } from '../api-types.ts' */
/** @import { MetricName, Split } from '../../study/run.ts' */
/** @import { Child } from '../page-types/child.js' */

// The server writes this module from study/metrics/definitions.ts (web/metrics-module.ts).
import { METRIC_INFO } from './metrics.js';

/**
 * Builds an element. `attrs` are set as properties or attributes (`class`, `data-*`, `aria-*` as attributes);
 * children are nodes or strings, and strings always become text nodes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key in node && !key.includes('-')) Reflect.set(node, key, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

/**
 * @param {Element} node
 * @param {Child[]} children
 */
function append(node, children) {
  for (const child of children) {
    if (Array.isArray(child)) append(node, child);
    else if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces the children of `node`.
 * @template {Element} E
 * @param {E} node
 * @param {Child[]} children
 * @returns {E}
 */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const DASH = '—';

/**
 * Whether `x` is a number other than NaN and ±Infinity (JSON's null, a missing field and NaN are not).
 * @param {unknown} x
 * @returns {x is number}
 */
export const isFiniteNumber = (x) => typeof x === 'number' && Number.isFinite(x);

/**
 * A metric value; null, undefined or NaN (e.g. the AUC of a one-class split) shows as a dash.
 * @param {number | null | undefined} x
 */
export function num(x, digits = 3) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : DASH;
}

/**
 * @param {number | null | undefined} mean
 * @param {number | null | undefined} std
 */
export function meanStd(mean, std, digits = 3) {
  if (!(typeof mean === 'number' && Number.isFinite(mean))) return DASH;
  return typeof std === 'number' && Number.isFinite(std) ? `${mean.toFixed(digits)} ± ${std.toFixed(digits)}` : mean.toFixed(digits);
}

/** @param {number | null | undefined} x */
export function pct(x, digits = 1) {
  return typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : DASH;
}

/** @param {number | null | undefined} seconds */
export function duration(seconds) {
  if (!(typeof seconds === 'number' && Number.isFinite(seconds))) return DASH;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

/** @param {string | null | undefined} iso */
export function when(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The study's metrics in their order. */
export const METRICS = METRIC_INFO.map((m) => m.name);
/** @type {Record<MetricName, string>} */
export const METRIC_LABELS = /** @type {Record<MetricName, string>} */ (Object.fromEntries(METRIC_INFO.map((m) => [m.name, m.label])));
/** @param {MetricName} metric */
const infoOf = (metric) => METRIC_INFO.find((m) => m.name === metric);
/** @type {Split[]} */
export const SPLITS = ['train', 'val', 'test'];
/**
 * Lower is better for the loss, higher for the rest (each metric's `better`).
 * @param {MetricName} metric
 */
export const lowerIsBetter = (metric) => infoOf(metric)?.better === 'lower';
/**
 * The largest value a metric can take; null when unbounded (the loss).
 * @param {MetricName} metric
 * @returns {number | null}
 */
export const metricMax = (metric) => infoOf(metric)?.max ?? null;
/**
 * How a chart of the metric is bounded, for its caption: ' (cut at 0)' or ', clipped to [0, 1]'.
 * @param {MetricName} metric
 */
export const boundsNote = (metric) => (metricMax(metric) === null ? ' (cut at 0)' : `, clipped to [0, ${metricMax(metric)}]`);

export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * The JSON answer of an API endpoint, typed by what the caller assigns it to (web/api-types.ts); an error answer
 * throws its message.
 * @template T
 * @param {string} url
 * @returns {Promise<T>}
 */
export async function getJSON(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok) throw new HttpError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
  return body;
}

/**
 * A getJSON for one control's answers: when a later choice has asked since, an earlier answer resolves to null
 * (a slower answer to an old choice would otherwise overwrite the new one).
 */
export function latestJSON() {
  let asked = 0;
  /**
   * @template T
   * @param {string} url
   * @returns {Promise<T | null>}
   */
  return async (url) => {
    const mine = ++asked;
    /** @type {T} */
    const answer = await getJSON(url);
    return mine === asked ? answer : null;
  };
}

/**
 * The path segment at `index`, e.g. pathPart(1) on '/runs/12' gives '12'.
 * @param {number} index
 */
export function pathPart(index) {
  return decodeURIComponent(location.pathname.split('/').filter(Boolean)[index] ?? '');
}

/** @param {string} status */
export function statusBadge(status) {
  return el('span', { class: `badge status-${String(status).replace(/[^a-z]/g, '')}` }, status);
}

/** The page's <main>, which every view's HTML shell has (web/pages.ts). */
export function mainElement() {
  const main = document.querySelector('main');
  if (!main) throw new Error('the page has no <main> element');
  return main;
}

/** @param {unknown} err */
export function showError(err) {
  const box = el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err));
  mainElement().prepend(box);
}

/**
 * Calls `refresh` every `ms` while `isLive()` is true and the tab is visible; a failed refresh is shown once in
 * the live indicator and retried.
 * @param {() => Promise<unknown>} refresh
 * @param {() => unknown} isLive
 */
export function poll(refresh, isLive, ms = 3000) {
  const indicator = document.getElementById('live');
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  const tick = async () => {
    timer = null;
    if (!isLive()) {
      if (indicator) indicator.hidden = true;
      return;
    }
    if (!document.hidden) {
      try {
        await refresh();
        if (indicator) fill(indicator, '● live: updates every ', String(ms / 1000), ' s');
      } catch (err) {
        if (indicator) fill(indicator, '○ update failed: ', err instanceof Error ? err.message : String(err));
      }
    }
    timer = setTimeout(tick, ms);
  };
  if (indicator) indicator.hidden = !isLive();
  timer = setTimeout(tick, ms);
  return () => timer && clearTimeout(timer);
}

/**
 * A table wrapped in a horizontally scrolling box (narrow screens).
 * @param {(string | Node)[]} head column headings (a <th> as it is, anything else in one)
 * @param {Child[]} rows
 * @param {Record<string, unknown>} [attrs]
 */
export function table(head, rows, attrs = {}) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      attrs,
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          head.map((h) => (h instanceof Node ? h : el('th', { scope: 'col' }, h))),
        ),
      ),
      el('tbody', {}, rows),
    ),
  );
}

/**
 * @param {string} title
 * @param {Child[]} children
 */
export function section(title, ...children) {
  return el('section', {}, el('h2', {}, title), ...children);
}

/**
 * The trail above a page's title: the experiments list, then the experiment when the page is inside one.
 * @param {{ id: number | string, name: string } | null} [experiment]
 */
export function crumbs(experiment = null) {
  return el(
    'p',
    { class: 'crumbs' },
    el('a', { href: '/' }, 'Experiments'),
    ' / ',
    experiment ? [el('a', { href: `/experiments/${encodeURIComponent(experiment.id)}` }, experiment.name), ' / '] : null,
  );
}

/**
 * <dl> from [term, value] pairs; values may be nodes.
 * @param {([string, Child] | null | false)[]} pairs
 */
export function facts(pairs) {
  return el(
    'dl',
    { class: 'facts' },
    pairs.filter((p) => !!p).map(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? DASH)]),
  );
}

/**
 * A model's summary rows of one split (one per metric), with the most runs any of them counts.
 * @typedef {{ model: string, n: number, metrics: Partial<Record<MetricName, SummaryRow>> }} SummaryEntry
 */

/**
 * Summary rows as entries, one per `keyOf(row)` (a model and split, of one experiment where rows span several).
 * @template {SummaryRow} R
 * @param {readonly R[]} rows
 * @param {(row: R) => string} keyOf
 * @returns {Map<string, SummaryEntry>}
 */
export function indexSummary(rows, keyOf) {
  /** @type {Map<string, SummaryEntry>} */
  const out = new Map();
  for (const r of rows) {
    const key = keyOf(r);
    const entry = out.get(key) ?? { model: r.model, n: 0, metrics: {} };
    out.set(key, entry);
    entry.n = Math.max(entry.n, r.n);
    entry.metrics[r.metric] = r;
  }
  return out;
}

/**
 * The best mean of each metric over summary entries: lowest loss, highest otherwise.
 * @param {SummaryEntry[]} entries
 */
export function bestMeans(entries) {
  /** @type {Partial<Record<MetricName, number>>} */
  const best = {};
  for (const metric of METRICS) {
    const values = entries.map((e) => e.metrics[metric]?.mean).filter(isFiniteNumber);
    if (values.length) best[metric] = lowerIsBetter(metric) ? Math.min(...values) : Math.max(...values);
  }
  return best;
}

/**
 * A summary row's metric cells: mean ± std (min and max in the title), marked ★ where best among several rows.
 * @param {SummaryEntry} entry
 * @param {Partial<Record<MetricName, number>>} best
 * @param {boolean} several
 */
export function summaryCells(entry, best, several) {
  return METRICS.map((metric) => {
    const s = entry.metrics[metric];
    const isBest = s && isFiniteNumber(s.mean) && s.mean === best[metric] && several;
    return el(
      'td',
      { class: `num${isBest ? ' best' : ''}`, 'data-metric': metric, title: s ? `n=${s.n}, min ${num(s.min)}, max ${num(s.max)}` : '' },
      s ? meanStd(s.mean, s.std) : DASH,
      isBest ? el('span', { class: 'star', 'aria-label': 'best' }, ' ★') : null,
    );
  });
}

// An experiment's settings as the orchestrator stored them (its `config`): known keys first, with their labels.
/** @type {Record<string, [string, (v: unknown) => string]>} */
const SETTINGS = {
  imageSize: ['Image size', (v) => `${v} px`],
  batchSize: ['Batch size', String],
  epochs: ['Epochs (at most)', (v) => (v === null ? "each model's default" : String(v))],
  seed: ['Seed', String],
  backend: ['Backend', String],
  weights: ['Weights', (v) => (v === null ? 'the weights cache' : String(v))],
  out: ['Output folder', String],
  protocol: [
    'Protocol',
    (v) => {
      const p = /** @type {{ name?: string, overrides?: Record<string, unknown> } | null} */ (v);
      const overrides = Object.entries(p?.overrides ?? {})
        .map(([k, x]) => `${k} ${x}`)
        .join(', ');
      return `${p?.name ?? DASH}${overrides ? ` (flags: ${overrides})` : ''}`;
    },
  ],
};

/**
 * [label, text] pairs of an experiment's config (models aside: they are listed on their own) and code version.
 * @param {ExperimentSettings} experiment
 * @returns {[string, string][]}
 */
export function settings(experiment) {
  const config = experiment.config ?? {};
  const other = Object.keys(config).filter((k) => !(k in SETTINGS) && k !== 'models');
  const show = (/** @type {unknown} */ v) => (v === null || v === undefined ? DASH : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return [
    ...Object.entries(SETTINGS)
      .filter(([k]) => k in config)
      .map(([k, [label, text]]) => /** @type {[string, string]} */ ([label, text(config[k])])),
    ...other.map((k) => /** @type {[string, string]} */ ([k, show(config[k])])),
    ['Code version', experiment.codeVersion ?? DASH],
  ];
}

/**
 * A thumbnail with a caption, a link to `href` when given; without `src` (no dataset to show it from) a blank tile
 * keeps the grid.
 * @param {string | null} src
 * @param {Child} caption
 * @param {string} alt
 * @param {string | null} [href]
 */
export function thumb(src, caption, alt, href = null) {
  const image = src ? el('img', { src, alt, loading: 'lazy', width: 112, height: 112 }) : el('div', { class: 'no-image', role: 'img', 'aria-label': alt });
  return el('figure', { class: 'thumb' }, href && src ? el('a', { href }, image) : image, el('figcaption', {}, caption));
}

/**
 * A tile of a list of images that runs classify wrongly (`data-image` the image's path): the thumbnail, linked to
 * the full size, with its caption; the alt text is `what` and the file name.
 * @param {{ image: string, fileId: number | null }} item
 * @param {Child} caption
 * @param {string} what
 */
export function errorTile(item, caption, what) {
  const { src, href } = datasetImage(item.fileId);
  return el('div', { class: 'error-tile', 'data-image': item.image }, thumb(src, caption, `${what} ${fileName(item.image)}`, href));
}

/**
 * Thumbnail and full-size addresses of a dataset image by file id (null: no dataset to show it from).
 * @param {number | null | undefined} fileId
 */
function datasetImage(fileId) {
  if (fileId === null || fileId === undefined) return { src: null, href: null };
  return { src: `/api/dataset/images/${fileId}?size=112`, href: `/api/dataset/images/${fileId}?size=512` };
}

/**
 * The file name of a dataset path ('test/malignant/1.jpg' → '1.jpg').
 * @param {string} image
 */
export function fileName(image) {
  return image.slice(image.lastIndexOf('/') + 1);
}
