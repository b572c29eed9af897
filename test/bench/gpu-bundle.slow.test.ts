/**
 * The GPU machine's benchmark (`npm run bundle:gpu`, run there by bench/gpu-run.sh) gets one try in a session
 * with a device: here it is bundled, copied where no node_modules can be found, and run on lavapipe at a tiny
 * size, so that a module it cannot load there (sharp, the wasm backend) or a broken report shows up in CI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { useBackendOrSkip } from '../workers/kernels/backends.ts';

test('the GPU bundle runs without node_modules and reports both models, the pipeline, the stock comparison and the host time', async (t) => {
  if (!(await useBackendOrSkip(t, 'webgpu'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'melanoma-gpu-bundle-'));
  try {
    const app = join(dir, 'app.cjs');
    const bundled = spawnSync(process.execPath, ['bench/bundle-gpu.mjs', '--out', app, '--bundle-only'], { encoding: 'utf8' });
    assert.equal(bundled.status, 0, bundled.stderr);
    const dawn = join(dirname(createRequire(import.meta.url).resolve('webgpu')), 'dist', `${process.platform}-${process.arch}`, 'dawn.node');
    const run = spawnSync(process.execPath, [app, '--size', '80', '--baseline-batch', '2', '--xception-batch', '1', '--steps', '1', '--warmup', '0'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, DAWN_NODE: dawn, NODE_PATH: '' },
      timeout: 300_000,
    });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    const report = JSON.parse(run.stdout);
    assert.deepEqual(
      report.results.map((r: { model: string }) => r.model),
      ['baseline', 'xception'],
    );
    for (const r of report.results) {
      assert.equal(r.error, undefined, r.error);
      assert.equal(r.backend, 'webgpu');
      assert.ok(r.trainImagesPerSec > 0 && r.cachedDataImagesPerSec > 0, JSON.stringify(r));
      assert.ok(r.trainIssueMs > 0 && r.trainIssueMs <= r.trainStepMs.median, JSON.stringify(r));
    }
    assert.ok(report.versusStock.speedup > 0, JSON.stringify(report.versusStock));
    assert.equal(report.hostSteps.length, 20, JSON.stringify(report.hostSteps));
    for (const s of report.hostSteps) assert.ok(s.bindGroups > 0 && s.bindGroupMs > 0 && s.bindGroupMs < s.ms, JSON.stringify(s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
