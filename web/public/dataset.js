// @ts-check
// The dataset: images per split and class with the class ratio, sample images of each class, augmented samples
// exactly as the training pipeline of the 'augmented' model produces them on the CPU (on webgpu the GPU computes the
// same in float32: a few values one byte step apart), and on request the exact and near-duplicate pairs within and
// across the splits. Images are fetched by file id (position in the dataset listing), never by path.
/** @import { DatasetDuplicates, DatasetSummary } from '../api-types.ts' */
import { el, fill, getJSON, mainElement, pct, section, showError, table, thumb } from './common.js';
import { chartBox, drawChart, hatch, paletteColor } from './charts.js';

const main = mainElement();
const header = el('div', { id: 'dataset-header' }, el('h1', {}, 'Dataset'));
const countsHolder = el('div', { id: 'counts' });
const ratio = chartBox('Images per split and class', { id: 'class-chart' });
const samplesHolder = el('div', { id: 'samples' });
const augHolder = el('div', { id: 'augmented' });
const duplicatesButton = el('button', { type: 'button', id: 'find-duplicates' }, 'Find duplicates');
const duplicatesHolder = el('div', { id: 'duplicates' });
main.append(
  header,
  section('Class balance', countsHolder, ratio.box),
  section('Sample images', samplesHolder),
  section('Augmented training samples', augHolder),
  section(
    'Duplicates within and across the splits',
    el(
      'p',
      { class: 'hint' },
      'Exact pairs have the same pixels; near pairs have 256-bit DCT perceptual hashes within a few bits (robust to resizing and recompression). The first search decodes every image: about 20 s for the full dataset. `melanoma data duplicates` prints the same.',
    ),
    duplicatesButton,
    duplicatesHolder,
  ),
);

/** Pairs shown as thumbnails: those across splits first (the leaks), at most this many. */
const SHOWN_PAIRS = 60;

/** @param {DatasetDuplicates} d */
function renderDuplicates(d) {
  const rows = d.counts.map((c) =>
    el(
      'tr',
      { 'data-splits': c.splits },
      el('th', { scope: 'row' }, c.splits),
      el('td', { class: 'num' }, String(c.exact)),
      el('td', { class: 'num' }, String(c.near)),
    ),
  );
  const across = (/** @type {DatasetDuplicates['pairs'][number]} */ p) => p.splitA !== p.splitB;
  const pairs = [...d.pairs.filter(across), ...d.pairs.filter((p) => !across(p))].slice(0, SHOWN_PAIRS);
  fill(
    duplicatesHolder,
    el(
      'p',
      {},
      `${d.images} images, near = at most ${d.threshold} of ${d.bits} bits apart. `,
      el('strong', { id: 'leaked-test' }, `${d.leakedTest.length} test image${d.leakedTest.length === 1 ? '' : 's'}`),
      `${d.leakedTest.length === 1 ? ' has' : ' have'} an exact or near duplicate in train or val.`,
      d.skipped ? ` ${d.skipped} images outside the dataset folder (links) were left out.` : '',
    ),
    table(['Splits', 'Exact pairs', 'Near pairs'], rows, { id: 'duplicate-counts' }),
    d.pairs.length > pairs.length ? el('p', { class: 'hint' }, `The first ${pairs.length} of ${d.pairs.length} pairs, those across splits first.`) : null,
    el(
      'div',
      { class: 'grid', id: 'duplicate-pairs' },
      pairs.map((p) =>
        el(
          'div',
          { class: 'aug-row', 'data-a': p.a, 'data-b': p.b, 'data-kind': p.kind },
          el(
            'div',
            { class: 'grid' },
            thumb(`/api/dataset/images/${p.fileIdA}`, `${p.splitA} · ${p.a}`, p.a),
            thumb(`/api/dataset/images/${p.fileIdB}`, `${p.splitB} · ${p.b} (${p.kind}, ${p.distance} bits)`, p.b),
          ),
        ),
      ),
    ),
  );
}

duplicatesButton.addEventListener('click', async () => {
  duplicatesButton.disabled = true;
  fill(duplicatesHolder, el('p', { class: 'hint' }, 'Hashing every image…'));
  try {
    renderDuplicates(await getJSON('/api/dataset/duplicates'));
  } catch (err) {
    showError(err);
  } finally {
    duplicatesButton.disabled = false;
  }
});

const CLASSES = /** @type {const} */ (['benign', 'malignant']);

/** @param {DatasetSummary} d */
function render(d) {
  fill(
    header,
    el('h1', {}, 'Dataset'),
    el(
      'p',
      { class: 'hint' },
      'Folder ',
      el('code', { class: 'path' }, d.dataDir),
      `; validation = the ${d.validation.take} ${pct(d.validation.fraction, 0)} of each train class folder in file-name order (the default protocol's rule; Keras' validation_split takes the first); fingerprint `,
      el('code', {}, d.fingerprint.slice(0, 16)),
      '.',
    ),
  );
  const splits = /** @type {(keyof DatasetSummary['counts'])[]} */ (Object.keys(d.counts));
  const rows = [...splits.map((s) => ({ name: s, c: d.counts[s] })), { name: 'all', c: d.all }].map(({ name, c }) =>
    el(
      'tr',
      { 'data-split': name },
      el('th', { scope: 'row' }, name),
      el('td', { class: 'num' }, String(c.benign)),
      el('td', { class: 'num' }, String(c.malignant)),
      el('td', { class: 'num' }, String(c.total)),
      el('td', { class: 'num' }, pct(c.malignantRatio)),
    ),
  );
  fill(countsHolder, table(['Split', 'Benign', 'Malignant', 'Total', 'Malignant share'], rows, { id: 'counts-table' }));

  drawChart(ratio.canvas, {
    type: 'bar',
    data: {
      labels: splits.map((s) => `${s} (${pct(d.counts[s].malignantRatio, 0)} malignant)`),
      datasets: CLASSES.map((cls, i) => ({
        label: cls,
        data: splits.map((s) => d.counts[s][cls]),
        backgroundColor: hatch(paletteColor(i), i * 2),
        borderColor: paletteColor(i),
        borderWidth: 1.5,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'images' } } },
    },
  });

  fill(
    samplesHolder,
    CLASSES.map((cls) =>
      el(
        'div',
        { class: 'class-samples', 'data-class': cls },
        el('h3', {}, cls),
        el(
          'div',
          { class: 'grid' },
          d.samples[cls].map((s) => thumb(`/api/dataset/images/${s.fileId}`, `${s.split} · ${s.name}`, `${cls} sample ${s.name}`)),
        ),
      ),
    ),
  );

  fill(
    augHolder,
    el(
      'p',
      { class: 'hint' },
      `Rotation ±${d.augment.rotationRange}°, zoom ±${d.augment.zoomRange}, shifts ±${d.augment.widthShiftRange}, horizontal and vertical flips, brightness ${d.augment.brightnessRange.join('–')}, black fill. Each row: the original, then the same image as drawn in training epochs 1 to ${d.augmentEpochs} (seed ${d.augmentSeed}).`,
    ),
    d.augmentSources.map((s) =>
      el(
        'div',
        { class: 'aug-row', 'data-file': s.fileId },
        el(
          'div',
          { class: 'grid' },
          thumb(`/api/dataset/images/${s.fileId}`, `original ${s.label} · ${s.name}`, `original ${s.name}`),
          Array.from({ length: d.augmentEpochs }, (_, k) =>
            thumb(
              `/api/dataset/augmented/${s.fileId}?seed=${d.augmentSeed}&epoch=${k + 1}&size=${d.imageSize}`,
              `epoch ${k + 1}`,
              `augmented ${s.name}, epoch ${k + 1}`,
            ),
          ),
        ),
      ),
    ),
  );
}

try {
  render(await getJSON('/api/dataset'));
} catch (err) {
  showError(err);
}
