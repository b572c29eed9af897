#!/usr/bin/env node
// `npm run bundle:gpu`: bundles bench/gpu.ts into .gpu/app.cjs for the GPU machine, which has no node_modules,
// then fills .gpu/ with node, dawn.node and the Vulkan loader (../shared/tools/gpu/prepare.sh) where that
// script exists. Run there with bench/gpu-run.sh.
//   node bench/bundle-gpu.mjs [--out FILE] [--bundle-only]   (a test bundles elsewhere, without the rest of .gpu/)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({ options: { out: { type: 'string' }, 'bundle-only': { type: 'boolean', default: false } } });
const outfile = resolve(opts.out ?? resolve(root, '.gpu/app.cjs'));
await build({
  entryPoints: [resolve(root, 'bench/gpu.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Loaded only on paths the GPU benchmark does not take (other backends, image decoding, HDF5 weights);
  // dawn.node comes from $DAWN_NODE.
  external: ['sharp', 'h5wasm', 'h5wasm/*', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'],
  // createRequire(import.meta.url) and friends need a URL in CommonJS too.
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleUrl', 'import.meta.dirname': '__dirname' },
  logLevel: 'warning',
});
console.log(`built ${outfile}`);
if (opts['bundle-only']) process.exit(0);

const prepare = resolve(root, '../shared/tools/gpu/prepare.sh');
if (existsSync(prepare)) {
  const r = spawnSync('bash', [prepare, '.gpu'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
} else {
  console.log(`no ${prepare}: .gpu/ holds the bundle only (add node, dawn.node and the Vulkan loader before running it on the GPU machine)`);
}
