/**
 * The folder rules of the design (../shared/DESIGN.md), checked from the code's own import statements: who may
 * import whom, study/ without tfjs, and no import cycle between files (type-only imports, erased at run time, are
 * no edge of a cycle). The layout has no crossing left: any import across the rules fails the test.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const FOLDERS = ['study', 'common', 'workers', 'db', 'orchestrator', 'web', 'cli', 'bench'] as const;
type Folder = (typeof FOLDERS)[number];

/** What each folder may import besides itself (and node's and npm's modules). */
const MAY_IMPORT: Record<Folder, readonly Folder[]> = {
  study: ['common'],
  common: [],
  workers: ['study', 'common'],
  db: ['study', 'common'],
  orchestrator: ['study', 'common', 'db', 'web'],
  web: ['study', 'common', 'db'],
  cli: ['study', 'common', 'workers', 'db', 'orchestrator', 'web', 'bench'],
  bench: ['study', 'common', 'workers', 'db', 'orchestrator', 'web'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mjs|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports: static (type-only ones too unless `runtimeOnly`), dynamic, re-exports. */
function specifiers(text: string, runtimeOnly = false): string[] {
  const found: string[] = [];
  if (runtimeOnly) text = text.replace(/^\s*(?:import|export)\s+type\s[^;]*?from\s*['"][^'"]+['"];?/gm, '');
  const patterns = [/^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]!);
  return found;
}

const files = FOLDERS.flatMap((folder) => {
  try {
    return sourceFiles(join(ROOT, folder));
  } catch {
    return [];
  }
});
const imports = new Map(files.map((file) => [file, specifiers(readFileSync(file, 'utf8'))]));
const runtimeImports = new Map(files.map((file) => [file, specifiers(readFileSync(file, 'utf8'), true)]));
const folderOf = (file: string) => relative(ROOT, file).split('/')[0] as Folder;
const local = (file: string, spec: string) => (spec.startsWith('.') ? resolve(dirname(file), spec) : null);

test('each folder imports only the folders below it', () => {
  const broken: string[] = [];
  for (const [file, specs] of imports) {
    const from = folderOf(file);
    for (const spec of specs) {
      const target = local(file, spec);
      if (target === null) continue;
      const to = relative(ROOT, target).split('/')[0] as Folder;
      if (to !== from && FOLDERS.includes(to) && !MAY_IMPORT[from].includes(to)) broken.push(`${relative(ROOT, file)} -> ${spec}`);
    }
  }
  assert.deepEqual(broken, [], 'imports across the folder rules');
});

test('study/ loads no tfjs', () => {
  const tfjs = [...imports]
    .filter(([file]) => folderOf(file) === 'study')
    .flatMap(([file, specs]) => specs.filter((s) => s.startsWith('@tensorflow/')).map((s) => `${relative(ROOT, file)} -> ${s}`));
  assert.deepEqual(tfjs, []);
});

test('no two files import each other, directly or around a circle', () => {
  const edges = new Map<string, string[]>();
  for (const [file, specs] of runtimeImports) {
    edges.set(
      file,
      specs.map((s) => local(file, s)).filter((t): t is string => t !== null && imports.has(t)),
    );
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(ROOT, f)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of imports.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});
