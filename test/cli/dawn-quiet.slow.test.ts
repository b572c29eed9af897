/**
 * Dawn writes two warnings ("maxDynamic... artificially reduced") to the native stderr of every process that opens
 * a Vulkan adapter, lavapipe included. `melanoma run --backend webgpu` runs in a child of bin/melanoma.mjs whose
 * stderr passes the filter (cli/filtered-child.mjs): it shows none of them, its JSON on stdout intact; with --verbose
 * it shows them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MELANOMA, runCli, tempDir, tinyDataset } from '../orchestrator/helpers.ts';
import { detectWebgpuAdapters } from '../../orchestrator/slots.ts';

const DAWN_WARNING = /artificially reduced/;

test('melanoma run --backend webgpu: no Dawn adapter warning, unless --verbose', async (t) => {
  if (detectWebgpuAdapters().length === 0) return t.skip('no WebGPU adapter (Dawn with lavapipe or a GPU)');
  const data = await tinyDataset();
  const out = tempDir('out');
  const argv = (name: string, ...more: string[]) => [
    ...['run', '--model', 'baseline', '--data', data, '--epochs', '1', '--image-size', '48', '--batch-size', '4'],
    ...['--backend', 'webgpu', '--out', join(out, name), ...more],
  ];
  const quiet = await runCli(argv('quiet', '--json'), {}, MELANOMA);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stderr, /^backend: webgpu /m);
  assert.doesNotMatch(quiet.stderr, DAWN_WARNING);
  assert.equal(JSON.parse(quiet.stdout).spec.backend, 'webgpu');

  const verbose = await runCli(argv('verbose', '--verbose'), {}, MELANOMA);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, DAWN_WARNING);
});
