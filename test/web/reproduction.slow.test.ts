/**
 * The reproduction report from a database: a small experiment (fixture runs with stored predictions) in a PGlite
 * folder; /api/experiments/:id/reproduction and `melanoma report --json` give the same document, the Markdown
 * names the experiment's protocol, bad flags and unknown experiments get one-line errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../db/index.ts';
import { REPORT_METRICS } from '../../study/report-metrics.ts';
import { tempDir } from '../db/fixtures.ts';
import { startServer } from '../../web/server.ts';
import { buildExperiment } from './fixtures.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);
const melanoma = (...args: string[]) =>
  exec(process.execPath, [join(PROJECT_ROOT, 'bin', 'melanoma.mjs'), ...args], { cwd: PROJECT_ROOT, maxBuffer: 64 << 20 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

const NAME = 'report fixture';
let dir: string;
let experimentId: number;
let api: { status: number; json: unknown };

before(async () => {
  dir = join(tempDir('report'), 'db');
  const db = await openDatabase(dir);
  const built = await buildExperiment(db, {
    name: NAME,
    finished: true,
    runs: [
      { model: 'baseline', epochs: 6, bestEpoch: 4 },
      { model: 'baseline', epochs: 7, bestEpoch: 5 },
      { model: 'augmented', epochs: 5, bestEpoch: 3 },
      { model: 'augmented', epochs: 8, bestEpoch: 6 },
      { model: 'mobilenet', epochs: 5, bestEpoch: 3 },
      { model: 'mobilenet', epochs: 6, bestEpoch: 4 },
    ],
  });
  experimentId = built.experimentId;
  await db.query(`update experiments set config = config || '{"protocol": {"name": "article"}}'::jsonb where id = $1`, [experimentId]);
  // Two melanomas and two benign lesions of test that every run of every model gets wrong.
  await db.query(
    `update predictions set probability = case when label = 1 then 0.05 else 0.95 end
     where split = 'test' and image in ((select distinct image from predictions where split = 'test' and label = 0 order by image limit 2)
                                        union all (select distinct image from predictions where split = 'test' and label = 1 order by image limit 2))`,
  );
  const server = await startServer({ db, port: 0, dataDir: null });
  try {
    const res = await fetch(`${server.url}/api/experiments/${experimentId}/reproduction`);
    api = { status: res.status, json: await res.json() };
    assert.equal((await fetch(`${server.url}/api/experiments/999/reproduction`)).status, 404);
    assert.equal((await fetch(`${server.url}/api/experiments/${experimentId}/reproduction?x=1`)).status, 400);
  } finally {
    await server.close();
    await db.close();
  }
});

describe('reproduction report from the database', () => {
  test('the API and `melanoma report --json` give the same document', async () => {
    assert.equal(api.status, 200);
    const cli = await melanoma('report', '--experiment', NAME, '--db', dir, '--json');
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), api.json);
  });

  test('the document holds the runs, the stand-in, the claims and the tests', () => {
    const r = api.json as {
      experiment: { id: number; protocol: string };
      models: { model: string; runs: number }[];
      standIns: Record<string, string>;
      claims: { id: string; verdict: string }[];
      welch: unknown[];
      delong: { images: number }[];
      ensembles: { model: string; images: number }[];
      alwaysWrong: { model: string; runs: number }[];
    };
    assert.deepEqual(r.experiment, { id: experimentId, name: NAME, protocol: 'article' });
    assert.deepEqual(r.models, [
      { model: 'baseline', runs: 2 },
      { model: 'augmented', runs: 2 },
      { model: 'mobilenet', runs: 2 },
    ]);
    assert.deepEqual(r.standIns, { xception: 'mobilenet' });
    assert.equal(r.claims.find((c) => c.id === 'fine-tuning-no-difference')!.verdict, 'not testable here');
    assert.notEqual(r.claims.find((c) => c.id === 'recall-precision-trade-off')!.verdict, 'not testable here');
    assert.equal(r.welch.length, 3 * REPORT_METRICS.length, 'three pairs, every reported metric');
    assert.deepEqual(
      r.delong.map((d) => d.images),
      [660, 660, 660],
    );
    assert.deepEqual(
      r.ensembles.map((e) => [e.model, e.images]),
      [
        ['baseline', 660],
        ['augmented', 660],
        ['mobilenet', 660],
      ],
    );
    assert.deepEqual(
      r.alwaysWrong.map((w) => [w.model, w.runs]),
      [
        ['baseline', 2],
        ['augmented', 2],
        ['mobilenet', 2],
        ['every model', 6],
      ],
    );
  });

  test('the lesions every run gets wrong: counted again from the stored predictions, per model and over every model', async () => {
    const db = await openDatabase(dir);
    let stored: { run_id: number; model: string; image: string; label: number; probability: number }[];
    try {
      stored = await db.query(
        `select p.run_id, r.model, p.image, p.label, p.probability from predictions p join runs r on r.id = p.run_id
         where r.experiment_id = $1 and r.status = 'completed' and p.split = 'test'`,
        [experimentId],
      );
    } finally {
      await db.close();
    }
    const count = (rows: typeof stored) => {
      const runs = new Set(rows.map((r) => r.run_id)).size;
      const wrong = new Map<string, { label: number; n: number }>();
      for (const r of rows) {
        const w = wrong.get(r.image) ?? { label: r.label, n: 0 };
        if (r.probability > 0.5 !== (r.label === 1)) w.n++;
        wrong.set(r.image, w);
      }
      const every = [...wrong.values()].filter((w) => w.n === runs);
      const malignant = every.filter((w) => w.label === 1).length;
      return { runs, images: every.length, malignant, benign: every.length - malignant };
    };
    const expected = ['baseline', 'augmented', 'mobilenet'].map((model) => ({ model, ...count(stored.filter((r) => r.model === model)) }));
    expected.push({ model: 'every model', ...count(stored) });
    assert.ok(
      expected.every((e) => e.malignant >= 2 && e.benign >= 2),
      JSON.stringify(expected),
    );
    assert.deepEqual((api.json as { alwaysWrong: unknown }).alwaysWrong, expected);
  });

  test('Markdown by default, the same bytes twice; bad flags and names get one-line errors', async () => {
    const [a, b] = [await melanoma('report', '--experiment', NAME, '--db', dir), await melanoma('report', '--experiment', NAME, '--db', dir, '--markdown')];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /^## Reproduction: report fixture\n\nExperiment \d+; protocol: article\./);
    assert.match(a.stdout, /Stand-ins: xception → mobilenet/);
    const unknown = await melanoma('report', '--experiment', 'nope', '--db', dir);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, `melanoma: --experiment: no experiment named 'nope' in ${dir}.\n`);
    const both = await melanoma('report', '--experiment', NAME, '--db', dir, '--json', '--markdown');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--markdown and --json exclude each other/);
  });
});

after(() => {});
