// @ts-check
// Predict a new lesion: an image uploaded to the server (in memory, never stored), put through the best checkpoints
// of an experiment's completed runs of one model: the ensemble's probability, the runs' spread, the calls at 0.5 and
// at the operating points, each run's probability, and on demand where a run looks (Grad-CAM).
/** @import { ExperimentAnswer, ExperimentListItem, ImageCall, PredictionDocument } from '../api-types.ts' */
import { DASH, el, facts, fill, getJSON, mainElement, num, section, showError, table } from './common.js';
import { control, optionList } from './controls.js';

const MAX_BYTES = 10 * 2 ** 20;
const TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/tiff'];

const main = mainElement();
const experimentSelect = el('select', { id: 'experiment', name: 'experiment', required: true });
const modelSelect = el('select', { id: 'model', name: 'model' });
const ttaInput = el('input', { id: 'tta', name: 'tta', type: 'number', min: 1, max: 64, step: 1, value: 1 });
const fileInput = el('input', { id: 'image', name: 'image', type: 'file', accept: TYPES.join(','), required: true });
const submit = el('button', { type: 'submit', id: 'predict-button' }, 'Predict');
const form = el(
  'form',
  { id: 'predict-form', class: 'controls' },
  control('Experiment', experimentSelect),
  control('Model', modelSelect),
  el('label', { class: 'control', title: 'the image, then rotated and flipped views as the protocol augments; their mean' }, 'Test-time views ', ttaInput),
  control('Image', fileInput),
  submit,
);
const result = el('div', { id: 'result', 'aria-live': 'polite' });
main.append(
  el('h1', {}, 'Predict a new lesion'),
  el(
    'p',
    { class: 'hint' },
    "The image goes to the best checkpoints of the experiment's completed runs on this server and stays in its memory: it is not stored. " +
      `JPEG, PNG, WebP or TIFF, up to ${MAX_BYTES / 2 ** 20} MB, at least the runs' image size on each side. Only this machine is answered.`,
  ),
  form,
  result,
);

async function loadExperiments() {
  const list = /** @type {ExperimentListItem[]} */ (await getJSON('/api/experiments')).filter((x) => x.counts.done > 0);
  const wanted = new URLSearchParams(location.search).get('experiment');
  fill(
    experimentSelect,
    list.length
      ? list.map((x) => el('option', { value: String(x.id), selected: String(x.id) === wanted }, `${x.name} (${x.counts.done} completed runs)`))
      : el('option', { value: '' }, 'no experiment has completed runs'),
  );
  await loadModels();
}

async function loadModels() {
  const id = experimentSelect.value;
  const runs = id ? /** @type {ExperimentAnswer} */ (await getJSON(`/api/experiments/${encodeURIComponent(id)}`)).runs : [];
  const models = [...new Set(runs.filter((r) => r.status === 'completed').map((r) => r.model))];
  fill(modelSelect, el('option', { value: '' }, 'best by mean val ROC AUC'), optionList(models));
}

/**
 * POSTs the chosen file to `url`; the response, or an Error with the server's message.
 * @param {string} url
 * @param {File} file
 */
async function upload(url, file) {
  const res = await fetch(url, { method: 'POST', body: file, headers: { 'content-type': file.type } });
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    message = (await res.json()).error ?? message;
  } catch {
    // not JSON: the status says it
  }
  throw new Error(message);
}

const call = (/** @type {ImageCall} */ c) => (c.malignant === null ? DASH : c.malignant ? 'malignant' : 'benign');

/**
 * @param {PredictionDocument} doc
 * @param {File} file
 */
function render(doc, file) {
  const image = doc.images[0];
  if (!image) throw new Error('the answer holds no image');
  const picture = el('img', { id: 'uploaded', src: URL.createObjectURL(file), alt: `the uploaded image ${file.name}` });
  const runRows = doc.runs.map((r, i) =>
    el(
      'tr',
      { 'data-run': String(r.runId) },
      el('td', {}, el('a', { href: `/runs/${r.runId}` }, `run ${r.runId}`)),
      el('td', { class: 'num' }, `#${r.runIndex}`),
      el('td', { class: 'num' }, num(image.runs[i], 4)),
      el('td', {}, (image.runs[i] ?? 0) > 0.5 ? 'malignant' : 'benign'),
      el(
        'td',
        {},
        el(
          'button',
          { type: 'button', class: 'saliency', onclick: (/** @type {Event} */ e) => showSaliency(/** @type {HTMLButtonElement} */ (e.target), r, file) },
          'where it looks',
        ),
      ),
    ),
  );
  const callRows = image.calls.map((c) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, c.label),
      el('td', { class: 'num' }, num(c.threshold, 4)),
      el('td', { class: 'call' }, call(c)),
      el('td', { class: 'num' }, `${c.runsMalignant} of ${c.runsWithThreshold}`),
    ),
  );
  fill(
    result,
    section(
      `${file.name}: p = ${num(image.probability, 4)}`,
      el(
        'div',
        { class: 'predict-result' },
        el('figure', { class: 'upload' }, picture, el('figcaption', {}, file.name)),
        facts([
          ['Ensemble probability', el('strong', { id: 'ensemble-p' }, num(image.probability, 4))],
          [
            'Runs',
            image.std === null
              ? num(image.runs[0], 4)
              : `${num(image.probability, 4)} ± ${num(image.std, 4)} (min ${num(image.min, 4)}, max ${num(image.max, 4)})`,
          ],
          ['Experiment', el('a', { href: `/experiments/${doc.experiment.id}` }, doc.experiment.name)],
          ['Model', `${doc.model} (${doc.chosenBy}), ${doc.runs.length} run${doc.runs.length === 1 ? '' : 's'}`],
          ['Views', doc.tta === 1 ? 'the image alone' : `${doc.tta}: the image, then ${doc.tta - 1} rotated and flipped`],
          ['Backend', doc.backend],
        ]),
      ),
      el('h3', {}, 'Calls'),
      el(
        'p',
        { class: 'hint' },
        `Decision rule: ${doc.rule}. The ensemble's threshold at an operating point is chosen on its own val probabilities; each run calls at its own.`,
      ),
      table(['Rule', 't (ensemble)', 'Ensemble', 'Runs calling malignant'], callRows, { id: 'calls-table' }),
      el('h3', {}, 'Each run'),
      table(['Run', 'Index', 'p', 'At 0.5', 'Saliency'], runRows, { id: 'runs-table' }),
      el('div', { id: 'saliency', class: 'grid' }),
    ),
  );
}

/**
 * @param {HTMLButtonElement} button
 * @param {PredictionDocument['runs'][number]} run
 * @param {File} file
 */
async function showSaliency(button, run, file) {
  button.disabled = true;
  try {
    const res = await upload(`/api/runs/${run.runId}/saliency`, file);
    const src = URL.createObjectURL(await res.blob());
    const layer = res.headers.get('x-saliency-layer');
    document
      .getElementById('saliency')
      ?.append(
        el(
          'figure',
          { class: 'saliency-map', 'data-run': String(run.runId) },
          el('img', { src, alt: `where run ${run.runId} looks` }),
          el('figcaption', {}, `run ${run.runId} (#${run.runIndex}): Grad-CAM of ${layer}, p = ${num(Number(res.headers.get('x-probability')), 4)}`),
        ),
      );
  } catch (err) {
    showError(err);
    button.disabled = false;
  }
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = fileInput.files?.[0];
  if (!file) return;
  const query = new URLSearchParams();
  if (modelSelect.value) query.set('model', modelSelect.value);
  if (ttaInput.value && ttaInput.value !== '1') query.set('tta', ttaInput.value);
  submit.disabled = true;
  fill(result, el('p', { class: 'hint', id: 'working' }, 'Predicting…'));
  try {
    const res = await upload(`/api/experiments/${encodeURIComponent(experimentSelect.value)}/predict?${query}`, file);
    render(await res.json(), file);
  } catch (err) {
    fill(result, el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  } finally {
    submit.disabled = false;
  }
});
experimentSelect.addEventListener('change', () => loadModels().catch(showError));

try {
  await loadExperiments();
} catch (err) {
  showError(err);
}
