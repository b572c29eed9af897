import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';

function melanoma(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), ...args], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('models summary prints the Keras-like table and the parameter counts', async () => {
  const r = await melanoma('models', 'summary', '--model', 'mobilenet', '--image-size', '96');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'Model: "mobilenet" (input 96x96x3)');
  assert.match(lines.find((l) => l.startsWith('block_16_project_BN')) ?? '', /\(None, 3, 3, 112\)\s+448\s+no$/);
  assert.match(lines.find((l) => l.startsWith('dense ')) ?? '', /\(None, 16\)\s+184,336\s+yes$/);
  const head = 3 * 3 * 1280 * 16 + 16 + 17;
  assert.deepEqual(
    lines.filter((l) => /params:/.test(l)),
    [`Total params: ${(410_208 + head).toLocaleString('en-US')}`, `Trainable params: ${head.toLocaleString('en-US')}`, 'Non-trainable params: 410,208'],
  );
});

test('models summary --json for the baseline; a too small image is a clear error', async () => {
  const r = await melanoma('models', 'summary', '--model', 'baseline', '--image-size', '64', '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { total: number; trainable: number; nonTrainable: number; layers: unknown[] };
  assert.deepEqual([s.total, s.trainable, s.nonTrainable, s.layers.length], [49_756, 49_756, 0, 12]);
  const bad = await melanoma('models', 'summary', '--model', 'xception', '--image-size', '64');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /image size 64 is too small for Xception, which needs at least 71/);
});
