/**
 * Dawn writes two warnings ("maxDynamic... artificially reduced") to the native stderr of every process that opens
 * a Vulkan adapter, lavapipe included. `orchestrate` with webgpu runs, on a GPU slot (calibrating its estimate first)
 * or a CPU slot, shows none of them; with --verbose it shows them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, tempDir, tinyDataset } from './helpers.ts';
import { detectWebgpuAdapters } from '../../orchestrator/slots.ts';

const DAWN_WARNING = /artificially reduced/;

test('orchestrate on a webgpu slot: no Dawn adapter warning, unless --verbose', async (t) => {
  if (detectWebgpuAdapters().length === 0) return t.skip('no WebGPU adapter (Dawn with lavapipe or a GPU)');
  const data = await tinyDataset();
  const argv = (experiment: string, ...more: string[]) => [
    ...['--data', data, '--db', tempDir('db'), '--out', tempDir('out'), '--models', 'baseline', '--runs', '1', '--epochs', '1'],
    ...['--image-size', '48', '--batch-size', '4', '--backend', 'webgpu', '--experiment', experiment, ...more],
  ];
  const quiet = await runCli(argv('quiet', '--gpus', '0'));
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stderr, /estimate: 1 run ≈/);
  assert.match(quiet.stderr, /\[gpu0\] baseline run 0: completed/);
  assert.doesNotMatch(quiet.stderr, DAWN_WARNING);

  // A CPU slot whose runs use webgpu (on the default adapter) opens Dawn as well.
  const cpuSlot = await runCli(argv('cpu-slot', '--workers', '1', '--no-estimate'));
  assert.equal(cpuSlot.code, 0, cpuSlot.stderr);
  assert.match(cpuSlot.stderr, /\[cpu0\] baseline run 0: completed/);
  assert.doesNotMatch(cpuSlot.stderr, DAWN_WARNING);

  const verbose = await runCli(argv('verbose', '--gpus', '0', '--verbose', '--no-estimate'));
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, DAWN_WARNING);
});
