// The list of experiments: name, dataset, models, runs done/failed/running, started, duration.
import { duration, el, fill, getJSON, poll, showError, statusBadge, table, when } from './common.js';

const main = document.querySelector('main');
const holder = el('div', { id: 'experiments' });
main.append(el('h1', {}, 'Experiments'), el('p', { id: 'live', class: 'live', hidden: true }), holder);

let experiments = [];

function render() {
  if (experiments.length === 0) {
    fill(holder, el('p', { class: 'empty' }, 'No experiments yet. Start one with ', el('code', {}, 'orchestrate'), '.'));
    return;
  }
  const rows = experiments.map((x) =>
    el(
      'tr',
      { 'data-id': x.id },
      el('td', {}, el('a', { href: `/experiments/${encodeURIComponent(x.id)}` }, x.name)),
      el('td', {}, statusBadge(x.status)),
      el('td', { class: 'path', title: x.datasetFingerprint ?? '' }, x.dataDir ?? '—'),
      el('td', {}, x.models.join(', ')),
      el('td', { class: 'num' }, `${x.counts.done} / ${x.counts.total}`),
      el('td', { class: 'num' }, String(x.counts.failed)),
      el('td', { class: 'num' }, String(x.counts.running)),
      el('td', {}, when(x.startedAt)),
      el('td', { class: 'num' }, duration(x.seconds)),
    ),
  );
  fill(holder, table(['Name', 'Status', 'Dataset', 'Models', 'Done', 'Failed', 'Running', 'Started', 'Duration'], rows, { id: 'experiments-table' }));
}

async function load() {
  experiments = await getJSON('/api/experiments');
  render();
}

try {
  await load();
  poll(load, () => true, 5000); // new experiments appear without reload
} catch (err) {
  showError(err);
}
