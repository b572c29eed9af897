/**
 * Carrying a study between machines as a user does it, with the fake thread task: `orchestrate` on one database,
 * `melanoma export`, `melanoma import` into a new PGlite folder and into PostgreSQL (`melanoma sql` gives the same
 * rows; a second import changes nothing), `orchestrate` continuing the imported experiment with another data and out
 * folder (only the missing run runs; another dataset is refused), and the result carried back.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PG_URL, scratchPgDatabase } from '../../db/fixtures.ts';
import { DUMP_QUERIES } from '../../db/dump.ts';
import { createReader } from '../../../db/sql-reader.ts';
import { MELANOMA, orchestrateArgv, runCli, tempDir, tinyDataset } from '../../orchestrator/helpers.ts';
import { first } from '../../../common/indexing.ts';

const melanoma = (args: string[]) => runCli(args, {}, MELANOMA);

function orchestrate(db: string, data: string, runs: number) {
  return runCli(orchestrateArgv({ data, db, pollMs: 50, workers: 1, models: ['baseline', 'augmented'], runs, epochs: 2, experiment: 'carry' }));
}

/** Every table through `melanoma sql --json`, one statement for all of them (one process per database). */
async function dumpThroughSql(db: string): Promise<Record<string, string[]>> {
  const tables = Object.entries(DUMP_QUERIES);
  const query = `select ${tables.map(([name, q]) => `(select coalesce(json_agg(x), '[]'::json) from (${q}) x) as ${name}`).join(', ')}`;
  // On PostgreSQL, melanoma sql runs only as the read-only role `melanoma sql-reader` makes.
  const target = db.startsWith('postgres://') ? (await createReader(db)).url : db;
  const r = await melanoma(['sql', '--json', query, '--db', target]);
  assert.equal(r.code, 0, r.stderr);
  const row = first(JSON.parse(r.stdout) as Record<string, unknown[]>[]);
  return Object.fromEntries(tables.map(([name]) => [name, row[name]!.map((x) => JSON.stringify(x))]));
}

test('export, import into PGlite and PostgreSQL, continue with orchestrate, carry back', async () => {
  const dataA = await tinyDataset();
  const dbA = join(tempDir('a'), 'db');
  const first = await orchestrate(dbA, dataA, 2);
  assert.equal(first.code, 0, first.stderr);

  const file = join(tempDir('results'), 'results', 'carry.ndjson.gz');
  const exported = await melanoma(['export', '--experiment', 'carry', '--db', dbA, '--out', file]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^experiment 'carry': 4 runs \(4 completed\), 120 predictions -> .*carry\.ndjson\.gz \(\d+ bytes\)\n$/);
  const bytes = readFileSync(file);
  const again = await melanoma(['export', '--experiment', 'carry', '--db', dbA, '--out', file]);
  assert.match(again.stdout, /bytes, unchanged\)/);
  assert.ok(readFileSync(file).equals(bytes));

  const missing = await melanoma(['export', '--experiment', 'nope', '--db', dbA, '--out', join(tempDir('x'), 'f.gz')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^melanoma: no experiment 'nope' in /);

  const sourceRows = await dumpThroughSql(dbA);
  const targets = [join(tempDir('b'), 'db')];
  let scratch: Awaited<ReturnType<typeof scratchPgDatabase>> | null = null;
  if (PG_URL) {
    scratch = await scratchPgDatabase(PG_URL);
    targets.push(scratch.url);
  } else process.stderr.write('\n*** SKIPPED: the PostgreSQL part of transfer.slow.test.ts needs MELANOMA_TEST_PG_URL ***\n');
  try {
    for (const target of targets) {
      const imported = await melanoma(['import', file, '--db', target]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /-> experiment 'carry' \(id \d+, new\) in .*: 4 runs added, 0 updated, 0 unchanged\n$/);
      assert.deepEqual(await dumpThroughSql(target), sourceRows, target);
      const second = await melanoma(['import', file, '--db', target]);
      assert.match(second.stdout, /merged\) in .*: 0 runs added, 0 updated, 4 unchanged\n$/);
      assert.deepEqual(await dumpThroughSql(target), sourceRows, target);
    }
  } finally {
    await scratch?.drop();
  }

  const damaged = Buffer.from(bytes);
  damaged[damaged.length - 12]! ^= 0xff;
  const broken = join(tempDir('x'), 'broken.ndjson.gz');
  writeFileSync(broken, damaged);
  const fresh = join(tempDir('c'), 'db');
  const refused = await melanoma(['import', broken, '--db', fresh]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^melanoma: .*broken\.ndjson\.gz: .*nothing was imported\.\n$/);
  assert.ok(!existsSync(fresh), 'a refused file creates no database');

  // "Machine B": the same images in another folder, another --out, one more run per model.
  const dbB = targets[0]!;
  const more = await orchestrate(dbB, await tinyDataset(), 3);
  assert.equal(more.code, 0, more.stderr);
  assert.match(more.stderr, /4 already completed/);
  const runsB = JSON.parse(
    (
      await melanoma([
        'sql',
        '--json',
        "select model, run_index, attempts, status, to_char(finished_at, 'YYYY-MM-DD HH24:MI:SS.US') as finished from run_overview order by model, run_index",
        '--db',
        dbB,
      ])
    ).stdout,
  );
  const before = JSON.parse(
    (
      await melanoma([
        'sql',
        '--json',
        "select model, run_index, to_char(finished_at, 'YYYY-MM-DD HH24:MI:SS.US') as finished from run_overview order by model, run_index",
        '--db',
        dbA,
      ])
    ).stdout,
  );
  assert.equal(runsB.length, 6);
  assert.ok(runsB.every((r: { status: string; attempts: number }) => r.status === 'completed' && r.attempts === 1));
  // The imported runs were not run again.
  for (const r of before)
    assert.equal(runsB.find((b: { model: string; run_index: number }) => b.model === r.model && b.run_index === r.run_index).finished, r.finished);

  // Another dataset under the same experiment name is refused, as on any resume.
  const otherData = await tinyDataset();
  copyFileSync(join(otherData, 'test', 'benign', '0.jpg'), join(otherData, 'test', 'benign', 'extra.jpg'));
  const wrongData = await orchestrate(dbB, otherData, 3);
  assert.equal(wrongData.code, 1);
  assert.match(wrongData.stderr, /experiment 'carry' already exists with a different configuration: dataset fingerprint/);

  // Carried back: A gets B's two new runs.
  const back = join(tempDir('results'), 'carry.ndjson.gz');
  assert.equal((await melanoma(['export', '--experiment', 'carry', '--db', dbB, '--out', back])).code, 0);
  const merged = await melanoma(['import', back, '--db', dbA]);
  assert.match(merged.stdout, /merged\) in .*: 2 runs added, 0 updated, 4 unchanged\n$/, merged.stderr);
});
