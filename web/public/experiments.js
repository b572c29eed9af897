// @ts-check
// The list of experiments: name, dataset, models, runs done/failed/running, started, duration; ticking two or more
// links to their comparison.
/** @import { ExperimentListItem } from '../api-types.ts' */
import { duration, el, fill, getJSON, mainElement, poll, showError, statusBadge, table, when } from './common.js';

const main = mainElement();
const holder = el('div', { id: 'experiments' });
const compareLink = el('a', { id: 'compare-selected', class: 'button', href: '#', 'aria-disabled': 'true' }, 'Compare selected');
const compareHint = el('span', { class: 'hint', id: 'compare-hint' });
const compareBar = el('p', { class: 'compare-bar', hidden: true }, compareLink, compareHint);
main.append(el('h1', {}, 'Experiments'), el('p', { id: 'live', class: 'live', hidden: true }), compareBar, holder);

/** @type {ExperimentListItem[]} */
let experiments = [];
/** @type {Set<number>} */
const selected = new Set(); // ids ticked for comparison, kept across refreshes

function updateCompareLink() {
  const ids = experiments.map((x) => x.id).filter((id) => selected.has(id));
  const ready = ids.length >= 2;
  compareLink.setAttribute('aria-disabled', String(!ready));
  compareLink.href = ready ? `/compare?${new URLSearchParams({ experiments: ids.join(',') })}` : '#';
  fill(compareLink, ready ? `Compare ${ids.length} experiments` : 'Compare selected');
  fill(compareHint, ready ? '' : 'Tick two or more experiments to compare them.');
}

function render() {
  if (experiments.length === 0) {
    fill(holder, el('p', { class: 'empty' }, 'No experiments yet. Start one with ', el('code', {}, 'orchestrate'), '.'));
    return;
  }
  compareBar.hidden = experiments.length < 2;
  const rows = experiments.map((x) =>
    el(
      'tr',
      { 'data-id': x.id },
      el(
        'td',
        {},
        el('input', {
          type: 'checkbox',
          class: 'pick',
          checked: selected.has(x.id),
          'aria-label': `compare ${x.name}`,
          onchange: (/** @type {Event & { target: HTMLInputElement }} */ event) => {
            if (event.target.checked) selected.add(x.id);
            else selected.delete(x.id);
            updateCompareLink();
          },
        }),
      ),
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
  updateCompareLink();
  fill(
    holder,
    table(
      [el('th', { scope: 'col', class: 'nowrap' }, 'Compare'), 'Name', 'Status', 'Dataset', 'Models', 'Done', 'Failed', 'Running', 'Started', 'Duration'],
      rows,
      { id: 'experiments-table' },
    ),
  );
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
