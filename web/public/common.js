// Shared helpers of the pages: DOM building (text only, never HTML from data), number formats, JSON fetches,
// live polling, the metric list.

import { METRIC_INFO } from './metrics.js';

/**
 * Builds an element. `attrs` are set as properties or attributes (`class`, `data-*`, `aria-*` as attributes);
 * children are nodes or strings, and strings always become text nodes.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key in node && !key.includes('-')) node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const DASH = '—';

/** A metric value; null, undefined or NaN (e.g. the AUC of a one-class split) shows as a dash. */
export function num(x, digits = 3) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : DASH;
}

export function meanStd(mean, std, digits = 3) {
  if (!(typeof mean === 'number' && Number.isFinite(mean))) return DASH;
  return typeof std === 'number' && Number.isFinite(std) ? `${mean.toFixed(digits)} ± ${std.toFixed(digits)}` : mean.toFixed(digits);
}

export function pct(x, digits = 1) {
  return typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : DASH;
}

export function duration(seconds) {
  if (!(typeof seconds === 'number' && Number.isFinite(seconds))) return DASH;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

export function when(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The study's metrics in their order (the server writes metrics.js from study/metrics/definitions.ts). */
export const METRICS = METRIC_INFO.map((m) => m.name);
export const METRIC_LABELS = Object.fromEntries(METRIC_INFO.map((m) => [m.name, m.label]));
const infoOf = (metric) => METRIC_INFO.find((m) => m.name === metric);
export const SPLITS = ['train', 'val', 'test'];
/** Lower is better for the loss, higher for the rest (each metric's `better`). */
export const lowerIsBetter = (metric) => infoOf(metric)?.better === 'lower';
/** The largest value a metric can take; null when unbounded (the loss). */
export const metricMax = (metric) => infoOf(metric)?.max ?? null;
/** How a chart of the metric is bounded, for its caption: ' (cut at 0)' or ', clipped to [0, 1]'. */
export const boundsNote = (metric) => (metricMax(metric) === null ? ' (cut at 0)' : `, clipped to [0, ${metricMax(metric)}]`);

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

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

/** The path segment after `prefix`, e.g. idFromPath('/runs/') on '/runs/12' gives '12'. */
export function pathPart(index) {
  return decodeURIComponent(location.pathname.split('/').filter(Boolean)[index] ?? '');
}

export function statusBadge(status) {
  return el('span', { class: `badge status-${String(status).replace(/[^a-z]/g, '')}` }, status);
}

export function showError(err) {
  const main = document.querySelector('main');
  const box = el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err));
  main.prepend(box);
}

/**
 * Calls `refresh` every `ms` while `isLive()` is true and the tab is visible; a failed refresh is shown once in
 * the live indicator and retried.
 */
export function poll(refresh, isLive, ms = 3000) {
  const indicator = document.getElementById('live');
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
        if (indicator) fill(indicator, '○ update failed: ', err.message);
      }
    }
    timer = setTimeout(tick, ms);
  };
  if (indicator) indicator.hidden = !isLive();
  timer = setTimeout(tick, ms);
  return () => timer && clearTimeout(timer);
}

/** A table wrapped in a horizontally scrolling box (narrow screens). */
export function table(head, rows, attrs = {}) {
  return el(
    'div',
    { class: 'table-wrap' },
    el('table', attrs, el('thead', {}, el('tr', {}, head.map((h) => (h instanceof Node ? h : el('th', { scope: 'col' }, h))))), el('tbody', {}, rows)),
  );
}

export function section(title, ...children) {
  return el('section', {}, el('h2', {}, title), ...children);
}

/** <dl> from [term, value] pairs; values may be nodes. */
export function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? DASH)]));
}

/** The best mean of each metric over summary entries ({ metrics: { metric: row } }): lowest loss, highest otherwise. */
export function bestMeans(entries) {
  const best = {};
  for (const metric of METRICS) {
    const values = entries.map((e) => e.metrics[metric]?.mean).filter((v) => Number.isFinite(v));
    if (values.length) best[metric] = lowerIsBetter(metric) ? Math.min(...values) : Math.max(...values);
  }
  return best;
}

/** A summary row's metric cells: mean ± std (min and max in the title), marked ★ where best among several rows. */
export function summaryCells(entry, best, several) {
  return METRICS.map((metric) => {
    const s = entry.metrics[metric];
    const isBest = s && Number.isFinite(s.mean) && s.mean === best[metric] && several;
    return el(
      'td',
      { class: `num${isBest ? ' best' : ''}`, 'data-metric': metric, title: s ? `n=${s.n}, min ${num(s.min)}, max ${num(s.max)}` : '' },
      s ? meanStd(s.mean, s.std) : DASH,
      isBest ? el('span', { class: 'star', 'aria-label': 'best' }, ' ★') : null,
    );
  });
}

// An experiment's settings as the orchestrator stored them (its `config`): known keys first, with their labels.
const SETTINGS = {
  imageSize: ['Image size', (v) => `${v} px`],
  batchSize: ['Batch size', String],
  epochs: ['Epochs (at most)', (v) => (v === null ? "each model's default" : String(v))],
  seed: ['Seed', String],
  backend: ['Backend', String],
  weights: ['Weights', (v) => (v === null ? 'the weights cache' : String(v))],
  out: ['Output folder', String],
  protocol: ['Protocol', (v) => {
    const overrides = Object.entries(v?.overrides ?? {}).map(([k, x]) => `${k} ${x}`).join(', ');
    return `${v?.name ?? DASH}${overrides ? ` (flags: ${overrides})` : ''}`;
  }],
};

/** [label, text] pairs of an experiment's config (models aside: they are listed on their own) and code version. */
export function settings(experiment) {
  const config = experiment.config ?? {};
  const known = Object.keys(SETTINGS).filter((k) => k in config);
  const other = Object.keys(config).filter((k) => !(k in SETTINGS) && k !== 'models');
  const show = (v) => (v === null || v === undefined ? DASH : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return [
    ...known.map((k) => [SETTINGS[k][0], SETTINGS[k][1](config[k])]),
    ...other.map((k) => [k, show(config[k])]),
    ['Code version', experiment.codeVersion ?? DASH],
  ];
}

/**
 * A thumbnail with a caption, a link to `href` when given; without `src` (no dataset to show it from) a blank tile
 * keeps the grid.
 */
export function thumb(src, caption, alt, href = null) {
  const image = src ? el('img', { src, alt, loading: 'lazy', width: 112, height: 112 }) : el('div', { class: 'no-image', role: 'img', 'aria-label': alt });
  return el('figure', { class: 'thumb' }, href && src ? el('a', { href }, image) : image, el('figcaption', {}, caption));
}

/** Thumbnail and full-size addresses of a dataset image by file id (null: no dataset to show it from). */
export function datasetImage(fileId) {
  if (fileId === null || fileId === undefined) return { src: null, href: null };
  return { src: `/api/dataset/images/${fileId}?size=112`, href: `/api/dataset/images/${fileId}?size=512` };
}

/** The file name of a dataset path ('test/malignant/1.jpg' → '1.jpg'). */
export function fileName(image) {
  return image.slice(image.lastIndexOf('/') + 1);
}
