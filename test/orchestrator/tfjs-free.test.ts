/** The orchestrator's main thread never loads tfjs: its import graph (type-only imports aside) reaches no @tensorflow package. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/real-data.ts';

/** Specifiers of the value imports (static, dynamic and re-exports) of one source file. */
function valueImports(source: string): string[] {
  const withoutTypeImports = source.replace(/^\s*(import|export)\s+type\s[^;]*;/gms, '');
  return [...withoutTypeImports.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

test('orchestrate loads no tfjs: from its command (cli/orchestrate.ts) through orchestrator/, db/, web/ or workers/', () => {
  const seen = new Set<string>();
  const offending: string[] = [];
  const visit = (file: string, via: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of valueImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('@tensorflow/')) offending.push([...via, file, spec].map((p) => p.replace(PROJECT_ROOT + '/', '')).join(' -> '));
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec), [...via, file]);
    }
  };
  visit(join(PROJECT_ROOT, 'cli', 'orchestrate.ts'), []);
  assert.ok(seen.size > 10, `only ${seen.size} files visited`);
  assert.ok([...seen].some((f) => f.endsWith(join('db', 'runs.ts'))));
  assert.deepEqual(offending, []);
});
