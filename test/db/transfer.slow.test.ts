/**
 * Export and import (db/transfer.ts, db/transfer-format.ts): an experiment written from PGlite comes back row for
 * row in an empty PGlite and in PostgreSQL (skipped loudly without MELANOMA_TEST_PG_URL), a second import changes
 * nothing, damaged or clashing files are refused with nothing written, and two machines' partial studies merge.
 */
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../common/errors.ts';
import {
  claimNextRun,
  createOrResumeExperiment,
  type Database,
  ensureRuns,
  failAttempt,
  finishRun,
  openDatabase,
  type PlannedRun,
  recordEvent,
} from '../../db/index.ts';
import { exportExperiment, importExperiment } from '../../db/transfer.ts';
import { decodeExperimentFile, encodeExperimentFile, FORMAT_VERSION, float32 } from '../../db/transfer-format.ts';
import type { ModelName } from '../../study/run.ts';
import { PG_URL, pgUrlOrSkip, runEvents, scratchPgDatabase, specFor } from './fixtures.ts';
import { dumpDatabase } from './dump.ts';
import { first } from '../../common/indexing.ts';

const CONFIG = {
  seed: 1,
  epochs: 4,
  imageSize: 64,
  protocol: { name: 'seed', models: { baseline: { runs: 2 } }, overrides: {} },
  out: '/machine-a/runs/study',
};

function plan(): PlannedRun[] {
  const models: [ModelName, number][] = [
    ['baseline', 4],
    ['mobilenet', 1],
    ['mobilenet-ft', 1],
  ];
  return models.flatMap(([model, n]) =>
    Array.from({ length: n }, (_, runIndex) => ({ model, runIndex, seed: 1 + runIndex, spec: specFor(model, 1 + runIndex) })),
  );
}

async function startStudy(db: Database, name = 'study', config: Record<string, unknown> = CONFIG, fingerprint = 'fp-a'): Promise<number> {
  const e = await createOrResumeExperiment(db, { name, config, datasetFingerprint: fingerprint, datasetDir: '/machine-a/data', codeVersion: 'abc1234' });
  await ensureRuns(db, e.id, plan());
  return e.id;
}

/** Claims the next pending run of `model` and plays its events: whole (completed), failing, or the first epochs only. */
async function play(db: Database, experimentId: number, model: ModelName, how: 'complete' | 'fail' | 'partial', v = 0.8): Promise<number> {
  const run = await claimNextRun(db, experimentId, 'cpu:0', { models: [model] });
  assert.ok(run, `a pending ${model} run`);
  const events = runEvents(run.spec, v);
  if (how === 'partial') {
    for (const e of events.slice(0, 3)) await recordEvent(db, run.id, e);
    await recordEvent(db, run.id, { type: 'log', message: 'half-way' });
    return run.id;
  }
  for (const e of how === 'complete' ? events : events.slice(0, 2)) await recordEvent(db, run.id, e);
  if (how === 'complete') await finishRun(db, run.id, { status: 'completed' });
  else await failAttempt(db, run.id, { error: 'Error: boom', retry: false });
  return run.id;
}

/** The source as an import gives it back: a run in flight arrives interrupted and unheld. */
function asImported(dump: Record<string, string[]>): Record<string, string[]> {
  const runs = dump.runs!.map((line) => {
    const row = JSON.parse(line);
    if (row.status === 'running') Object.assign(row, { status: 'interrupted', owner: null, heartbeat_at: null });
    return JSON.stringify(row);
  });
  return { ...dump, runs };
}

async function importBytes(db: Database, bytes: Buffer, name = 'study.ndjson.gz') {
  return importExperiment(db, decodeExperimentFile(bytes, name), name);
}

/** A file's lines, edited, then packed again with a correct checksum (a hand-edited file). */
function edit(bytes: Buffer, change: (lines: unknown[]) => void): Buffer {
  const [, ...body] = gunzipSync(bytes).toString('utf8').trimEnd().split('\n');
  const lines = body.map((l) => JSON.parse(l));
  change(lines);
  const text = lines.map((l) => JSON.stringify(l) + '\n').join('');
  const header = {
    format: 'melanoma-experiment',
    version: FORMAT_VERSION,
    codeVersion: 'abc1234',
    createdAt: (lines[0] as { createdAt: string }).createdAt,
    runs: lines.length - 1,
    sha256: createHash('sha256').update(text).digest('hex'),
  };
  return gzipSync(JSON.stringify(header) + '\n' + text);
}

let source: Database;
let file: Buffer;
let sourceDump: Record<string, string[]>;

before(async () => {
  source = await openDatabase('memory://');
  const id = await startStudy(source);
  await play(source, id, 'baseline', 'complete', 0.8);
  await play(source, id, 'baseline', 'complete', 0.7);
  await play(source, id, 'mobilenet', 'complete', 0.9);
  await play(source, id, 'mobilenet-ft', 'complete', 0.95);
  await play(source, id, 'baseline', 'fail');
  await play(source, id, 'baseline', 'partial'); // baseline run 3 stays running, held by this process
  const exported = await exportExperiment(source, 'study');
  assert.ok(exported);
  file = encodeExperimentFile(exported);
  sourceDump = await dumpDatabase(source);
});
after(() => source?.close());

test('the file: the same experiment gives the same bytes; float32 values are written with their shortest digits', async () => {
  const again = await exportExperiment(source, 'study');
  assert.ok(encodeExperimentFile(again!).equals(file));
  assert.equal(float32(0.10000000149011612), 0.1);
  assert.equal(Math.fround(float32(0.19999999999999996)), Math.fround(0.2));
  const decoded = decodeExperimentFile(file, 'f');
  assert.equal(decoded.runs.length, 6);
  assert.deepEqual(decoded.runs.find((r) => r.model === 'baseline' && r.runIndex === 0)!.predictions[2]!.probability, [0.25, 0.8, 0.875, 0.2]);
  assert.equal(decoded.runs.find((r) => r.model === 'baseline' && r.runIndex === 3)!.status, 'interrupted');
  assert.equal(decoded.runs.find((r) => r.model === 'mobilenet-ft')!.baseRunIndex, 0);
  assert.equal(decoded.runs[0]!.curves.find((c) => c.kind === 'roc')!.threshold[0], Infinity);
  assert.ok(sourceDump.predictions!.length > 0 && sourceDump.run_logs!.length > 0 && sourceDump.curve_points!.length > 0);
  assert.ok(sourceDump.failed_attempts!.length > 0, 'a failed attempt travels too');
});

const targets: { name: string; open(): Promise<{ db: Database; drop(): Promise<void> } | null> }[] = [
  { name: 'an empty PGlite', open: async () => ({ db: await openDatabase('memory://'), drop: async () => {} }) },
  {
    name: 'PostgreSQL',
    open: async () => {
      if (!PG_URL) return null;
      const scratch = await scratchPgDatabase(PG_URL);
      return { db: await openDatabase(scratch.url), drop: scratch.drop };
    },
  },
];

for (const target of targets) {
  describe(`import into ${target.name}`, () => {
    let t: { db: Database; drop(): Promise<void> } | null = null;
    before(async () => (t = await target.open()));
    after(async () => {
      await t?.db.close();
      await t?.drop();
    });

    test('gives every row of every table again (in-flight runs interrupted); a second import changes nothing', async (ctx) => {
      if (!t) return void pgUrlOrSkip(ctx);
      const first = await importBytes(t.db, file);
      assert.deepEqual(
        { created: first.created, added: first.added, updated: first.updated, unchanged: first.unchanged },
        { created: true, added: 6, updated: 0, unchanged: 0 },
      );
      const dump = await dumpDatabase(t.db);
      assert.deepEqual(dump, asImported(sourceDump));
      const second = await importBytes(t.db, file);
      assert.deepEqual(
        { created: second.created, added: second.added, updated: second.updated, unchanged: second.unchanged },
        { created: false, added: 0, updated: 0, unchanged: 6 },
      );
      assert.deepEqual(await dumpDatabase(t.db), dump);
      // And it exports to the same bytes.
      assert.ok(encodeExperimentFile((await exportExperiment(t.db, 'study'))!).equals(file));
    });

    test('a damaged, truncated or hand-edited file is refused with a line naming it, and nothing is written', async (ctx) => {
      if (!t) return void pgUrlOrSkip(ctx);
      const before = await dumpDatabase(t.db);
      const flipped = Buffer.from(file);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
      const refused = async (bytes: Buffer, pattern: RegExp) => {
        await assert.rejects(importBytes(t!.db, bytes, 'results/x.ndjson.gz'), (err: Error) => {
          assert.ok(err instanceof UserError, err.stack);
          assert.match(err.message, /^results\/x\.ndjson\.gz: /);
          assert.match(err.message, pattern);
          assert.doesNotMatch(err.message, /\n/);
          return true;
        });
      };
      await refused(flipped, /gzip|checksum/);
      await refused(file.subarray(0, file.length - 100), /gzip|truncated/);
      // The checksum catches a change the gzip layer cannot see: the content repacked with the old header.
      const [header, ...rest] = gunzipSync(file).toString('utf8').split('\n');
      await refused(gzipSync([header, ...rest].join('\n').replace('"status":"completed"', '"status":"pending"')), /checksum mismatch/);
      await refused(
        edit(file, (lines) => ((lines[1] as { predictions: { probability: unknown[] }[] }).predictions[0]!.probability[1] = 'high')),
        /line 3 \(run baseline #0\), field predictions\[0\]\.probability\[1\]: .*number/,
      );
      await refused(
        edit(file, (lines) => ((lines[2] as { model: string }).model = 'resnet')),
        /line 4 .*field model/,
      );
      // A file that fails inside the transaction, after its experiment and five runs were written, leaves the target as it was.
      await refused(
        edit(file, (lines) => {
          (lines[0] as { name: string }).name = 'study-2';
          const ft = lines.find((l) => (l as { model?: string }).model === 'mobilenet-ft') as { runIndex: number; baseRunIndex: number };
          ft.runIndex = 7;
          ft.baseRunIndex = 7;
        }),
        /mobilenet-ft run 7 fine-tunes a run the database and the file lack/,
      );
      assert.deepEqual(await dumpDatabase(t.db), before);
    });

    test('an experiment of the same name on another dataset, protocol or configuration is refused, nothing written', async (ctx) => {
      if (!t) return void pgUrlOrSkip(ctx);
      const before = await dumpDatabase(t.db);
      const other = (change: (e: { datasetFingerprint: string; config: Record<string, unknown> }) => void) =>
        edit(file, (lines) => change(lines[0] as { datasetFingerprint: string; config: Record<string, unknown> }));
      await assert.rejects(
        importBytes(
          t.db,
          other((e) => (e.datasetFingerprint = 'fp-b')),
        ),
        /experiment 'study' is already in the database with another dataset \(fingerprint fp-a/,
      );
      await assert.rejects(
        importBytes(
          t.db,
          other((e) => (e.config.protocol = { name: 'quick' })),
        ),
        /under another protocol \('seed', the file's 'quick'\)/,
      );
      await assert.rejects(
        importBytes(
          t.db,
          other((e) => delete e.config.protocol),
        ),
        /under another protocol \('seed', the file's 'none'\)/,
      );
      await assert.rejects(
        importBytes(
          t.db,
          other((e) => (e.config.epochs = 100)),
        ),
        /another configuration: epochs \(stored 4, now 100\)/,
      );
      assert.deepEqual(await dumpDatabase(t.db), before);
      // Where the checkpoints went on the other machine is no clash.
      const moved = await importBytes(
        t.db,
        other((e) => (e.config.out = '/machine-b/runs/study')),
      );
      assert.equal(moved.unchanged, 6);
      assert.deepEqual(await dumpDatabase(t.db), before);
      // Nor is a run count the other machine raised (`--runs 3` there): it may only add runs.
      const grown = await importBytes(
        t.db,
        other((e) => (e.config.protocol = { name: 'seed', models: { baseline: { runs: 3 } }, overrides: { runs: 3 } })),
      );
      assert.equal(grown.unchanged, 6);
      await assert.rejects(
        importBytes(
          t.db,
          other((e) => (e.config.protocol = { name: 'seed', models: { baseline: { runs: 2 } }, overrides: { epochs: 9 } })),
        ),
        /another configuration: protocol\.overrides\.epochs \(stored absent, now 9\)/,
      );
    });
  });
}

test('two machines continue one study: each import adds what the other did, no completed run is lost', async () => {
  const a = await openDatabase('memory://');
  const b = await openDatabase('memory://');
  try {
    const idA = await startStudy(a, 'merge');
    await play(a, idA, 'baseline', 'complete', 0.8); // baseline 0
    await play(a, idA, 'baseline', 'partial'); // baseline 1 in flight on A
    await importBytes(b, encodeExperimentFile((await exportExperiment(a, 'merge'))!));
    const idB = first((await b.query<{ id: number }>(`select id from experiments where name = 'merge'`)).map((r) => r.id));

    // B runs what A has not started; A finishes its run in flight and one more.
    await play(b, idB, 'baseline', 'complete', 0.71); // baseline 2 on B
    await play(b, idB, 'mobilenet', 'complete', 0.9);
    await play(b, idB, 'baseline', 'complete', 0.6); // baseline 3 on B ...
    const { id: inFlight } = first(
      await a.query<{ id: number }>(`select id from runs where experiment_id = $1 and model = 'baseline' and run_index = 1`, [idA]),
    );
    await recordEvent(a, inFlight, runEvents(specFor('baseline', 2), 0.75).at(-1)!); // its 'final' event
    await finishRun(a, inFlight, { status: 'completed' });
    await play(a, idA, 'baseline', 'complete', 0.72); // baseline 2 on A
    await play(a, idA, 'baseline', 'complete', 0.5); // ... and baseline 3 on A too, with other numbers

    const fromA = await importBytes(b, encodeExperimentFile((await exportExperiment(a, 'merge'))!));
    // baseline 1 (interrupted on B, completed in A's file) is updated; B's completed baseline 2, 3 and mobilenet 0 stay B's.
    assert.deepEqual([fromA.added, fromA.updated, fromA.unchanged], [0, 1, 5]);
    const testAuc = async (db: Database, index: number) =>
      (
        await db.query<{ roc_auc: number }>(
          `select ev.roc_auc from evaluations ev join runs r on r.id = ev.run_id join experiments e on e.id = r.experiment_id
         where e.name = 'merge' and r.model = 'baseline' and r.run_index = $1 and ev.split = 'test'`,
          [index],
        )
      )[0]?.roc_auc;
    assert.equal(await testAuc(b, 1), 0.75);
    assert.equal(await testAuc(b, 3), 0.6);

    const fromB = await importBytes(a, encodeExperimentFile((await exportExperiment(b, 'merge'))!));
    assert.deepEqual([fromB.added, fromB.updated, fromB.unchanged], [0, 1, 5]); // mobilenet 0 reaches A
    assert.equal(await testAuc(a, 3), 0.5); // A keeps its own completed run
    const counts = async (db: Database) =>
      await db.query<{ status: string; n: number }>(
        `select status, count(*)::integer as n from runs r join experiments e on e.id = r.experiment_id where e.name = 'merge' group by status order by status`,
      );
    assert.deepEqual(await counts(a), [
      { status: 'completed', n: 5 },
      { status: 'pending', n: 1 },
    ]);
    assert.deepEqual(await counts(b), [
      { status: 'completed', n: 5 },
      { status: 'pending', n: 1 },
    ]);
  } finally {
    await a.close();
    await b.close();
  }
});
