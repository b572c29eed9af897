/**
 * The commands take every registry record (study/models.ts) as a user sees them: `melanoma weights` lists and
 * downloads each ImageNet file, `orchestrate --dry-run` and `melanoma protocol show` plan and show each model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FINE_TUNES, MODEL_NAMES, MODELS, PRETRAINED_NAMES } from '../../study/models.ts';
import { modelFor } from '../../study/report-metrics.ts';
import { MELANOMA, runCli, tinyDataset } from '../orchestrator/helpers.ts';

test('`melanoma weights` lists and downloads the ImageNet file of every record that has one', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'registry-weights-'));
  const list = await runCli(['weights', 'list', '--dir', empty, '--json'], {}, MELANOMA);
  assert.equal(list.code, 0, list.stderr);
  const listed = (JSON.parse(list.stdout) as { models: { model: string; path: string | null }[] }).models;
  assert.deepEqual(
    listed,
    PRETRAINED_NAMES.map((model) => ({ model, path: null, format: null })),
  );
  const refused = await runCli(['weights', 'download', 'nothing', '--dir', empty], {}, MELANOMA);
  assert.equal(refused.code, 2);
  assert.ok(refused.stderr.includes(`'nothing' is not one of ${PRETRAINED_NAMES.join(', ')}.`), refused.stderr);
});

test('`orchestrate --dry-run` and `melanoma protocol show` plan and show every record; the report takes a stand-in for its article model', async () => {
  const models = MODEL_NAMES.join(',');
  const dry = await runCli(['--dry-run', '--json', '--no-estimate', '--backend', 'cpu', '--gpus', 'none', '--models', models, '--data', await tinyDataset()]);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as { runs: { model: string; baseModel: string | null; settings: { architecture: { value: string } } }[] };
  for (const model of MODEL_NAMES) {
    const run = plan.runs.find((r) => r.model === model);
    assert.ok(run, `dry run: ${model}`);
    assert.equal(run.baseModel, FINE_TUNES[model] ?? null);
    assert.equal(run.settings.architecture.value, MODELS[model].architecture.value);
  }
  const shown = await runCli(['protocol', 'show', '--json'], {}, MELANOMA);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(Object.keys((JSON.parse(shown.stdout) as { models: object }).models), [...MODEL_NAMES]);
  for (const model of MODEL_NAMES) {
    const article = MODELS[model].standsInFor;
    if (article) assert.equal(modelFor(article, [model]), model);
  }
});
