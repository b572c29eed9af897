import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateBinary } from '../../../study/metrics/index.ts';
import { METRIC_NAMES, SPLITS, type RunResult } from '../../../study/run.ts';
import { PROJECT_ROOT, realDataOrSkip, realSubset } from '../../helpers/real-data.ts';
import { useBackendOrSkip } from '../kernels/backends.ts';

const CLI = join(PROJECT_ROOT, 'bin', 'melanoma.mjs');

function melanoma(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 240_000 });
}

test('melanoma run: baseline on a 56-image real subset at 64 px, 2 epochs on wasm; JSON has every metric of every split', (t) => {
  if (!realDataOrSkip(t)) return;
  const data = realSubset({ train: 20, test: 8 }); // 40 train images (32 train + 8 val), 16 test
  const out = mkdtempSync(join(tmpdir(), 'melanoma-run-'));
  try {
    const r = melanoma(['run', '--model', 'baseline', '--data', data, '--image-size', '64', '--epochs', '2', '--backend', 'wasm', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /backend: wasm/);
    const result = JSON.parse(r.stdout) as RunResult;
    assert.equal(result.backend, 'wasm');
    assert.equal(result.params.total, 49_756);
    assert.deepEqual(result.counts, { train: { benign: 16, malignant: 16 }, val: { benign: 4, malignant: 4 }, test: { benign: 8, malignant: 8 } });
    assert.equal(result.history.length, 2);
    for (const epoch of result.history) {
      for (const m of METRIC_NAMES) {
        assert.equal(typeof epoch.train[m], 'number', `train ${m}`);
        assert.equal(typeof epoch.val[m], 'number', `val ${m}`);
      }
    }
    assert.deepEqual(result.final.map((e) => e.split), [...SPLITS]);
    for (const e of result.final) {
      for (const m of METRIC_NAMES) assert.ok(Number.isFinite(e.metrics[m]), `${e.split} ${m} = ${e.metrics[m]}`);
      const { tp, fp, tn, fn } = e.confusion;
      assert.equal(tp + fp + tn + fn, e.n);
      assert.ok(e.roc.x.length >= 2 && e.pr.x.length >= 2);
      // Every image's probability, in the listing's order and with its own class, gives the split's numbers again.
      const p = e.predictions;
      assert.equal(p.images.length, e.n);
      const folder = e.split === 'test' ? 'test' : 'train';
      for (const [i, image] of p.images.entries()) assert.match(image, new RegExp(`^${folder}/${p.labels[i] ? 'malignant' : 'benign'}/`));
      assert.deepEqual(evaluateBinary(p.labels, p.probabilities).metrics, e.metrics);
    }
    assert.deepEqual(
      result.final.map((e) => e.predictions.images.filter((image) => image.startsWith('train/')).length),
      [32, 8, 0],
      'train and val images are disjoint parts of train/',
    );
    const [train, val] = result.final.map((e) => new Set(e.predictions.images));
    assert.ok([...val].every((image) => !train.has(image)));
    assert.equal(result.final.find((e) => e.split === 'test')!.n, 16);
    assert.ok(result.bestEpoch >= 1 && result.bestEpoch <= 2);
    // The same document is in OUT/result.json, the history in OUT/history.csv, the best model in OUT/best.
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')), result);
    const csv = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 3);
    assert.equal(csv[0], ['epoch', 'learning_rate', ...METRIC_NAMES, ...METRIC_NAMES.map((m) => `val_${m}`)].join(','), 'a column per metric, train then val');
    assert.ok(JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8')).modelTopology);
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});

// The stock cpu backend's filter gradients are slow: it gets the smallest case that still has a val split.
// webgpu (lavapipe in CI): the project's WGSL kernels sum in a fixed order, and so does tfjs' matMul here. (On
// some GPUs tfjs may split a matMul's inner dimension with atomic adds, whose order varies from run to run.)
const SEED_CASES = [
  { backend: 'wasm', perClass: 10, batch: '8' },
  { backend: 'cpu', perClass: 5, batch: '4' },
  { backend: 'webgpu', perClass: 10, batch: '8' },
];
for (const { backend, perClass, batch } of SEED_CASES) {
  test(`the same seed gives the same history.csv twice on ${backend}`, async (t) => {
    if (!realDataOrSkip(t)) return;
    if (backend === 'webgpu' && !(await useBackendOrSkip(t, 'webgpu'))) return;
    const data = realSubset({ train: perClass, test: 2 });
    const outs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'melanoma-seed-')));
    try {
      const run = (out: string, seed: string) => {
        const r = melanoma(['run', '--model', 'augmented', '--data', data, '--image-size', '46', '--batch-size', batch, '--epochs', '2', '--backend', backend, '--seed', seed, '--out', out]);
        assert.equal(r.status, 0, r.stderr);
        return readFileSync(join(out, 'history.csv'), 'utf8');
      };
      const first = run(outs[0], '7');
      assert.equal(run(outs[1], '7'), first);
      assert.notEqual(run(outs[2], '8'), first, 'another seed gives another history');
    } finally {
      for (const o of [...outs, data]) rmSync(o, { recursive: true, force: true });
    }
  });
}
