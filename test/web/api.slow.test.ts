/**
 * The JSON API and the server's guards, with plain fetch against a started server: the numbers match the
 * database, unknown ids are 404, bad parameters 400, nothing but GET/HEAD is allowed, no request reaches a file
 * outside the served folders, names with markup come back as data.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openDatabase, type Database } from '../../db/index.ts';
import { startServer, type RunningServer } from '../../web/server.ts';
import { DEFAULT_AUGMENT } from '../../study/data/augment.ts';
import { indexDataset } from '../../study/data/dataset.ts';
import { augmentedPixels, batches } from '../../study/data/loader.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';
import { METRIC_NAMES } from '../../study/run.ts';
import { realDataOrSkip, realSubset } from '../helpers/real-data.ts';
import { buildExperiment, oneClassStudy, smallStudy, XSS_NAME, type BuiltExperiment } from './fixtures.ts';
import { first } from '../../common/indexing.ts';

let db: Database;
let server: RunningServer;
let study: BuiltExperiment;
let oneClass: BuiltExperiment;

before(async () => {
  db = await openDatabase('memory://');
  study = await buildExperiment(db, smallStudy());
  oneClass = await buildExperiment(db, oneClassStudy());
  server = await startServer({ db, port: 0, dataDir: null });
});

after(async () => {
  await server?.close();
  await db?.close();
});

async function get(path: string, init?: RequestInit) {
  const res = await fetch(server.url + path, { redirect: 'manual', ...init });
  const body = await res.text();
  const json = body && res.headers.get('content-type')?.includes('application/json') ? JSON.parse(body) : null;
  return { status: res.status, headers: res.headers, body, json };
}

describe('JSON API', () => {
  test('binds 127.0.0.1 by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('/api/experiments lists experiments newest first with run counts', async () => {
    const { status, json } = await get('/api/experiments');
    assert.equal(status, 200);
    assert.deepEqual(
      json.map((x: { id: number }) => x.id),
      [oneClass.experimentId, study.experimentId],
    );
    const x = json[1];
    assert.equal(x.name, XSS_NAME);
    assert.deepEqual(x.models, ['baseline', 'xception']);
    assert.deepEqual(x.counts, { total: 7, done: 4, failed: 1, running: 1, pending: 1, interrupted: 0 });
    assert.equal(x.status, 'running');
    assert.equal(json[0].status, 'completed');
    assert.ok(json[0].seconds >= 0 && typeof x.startedAt === 'string');
  });

  test('/api/experiments/:id has every run with its test metrics', async () => {
    const { json } = await get(`/api/experiments/${study.experimentId}`);
    assert.deepEqual(
      json.runs.map((r: { id: number }) => r.id),
      study.runIds,
    );
    const [listed] = json.runs;
    const row = first(
      await db.query<{ accuracy: number; roc_auc: number }>("select accuracy, roc_auc from evaluations where run_id = $1 and split = 'test'", [listed.id]),
    );
    assert.equal(listed.test.accuracy, row.accuracy);
    assert.equal(listed.test.roc_auc, row.roc_auc);
    assert.deepEqual(
      json.runs.map((r: { status: string }) => r.status),
      ['completed', 'completed', 'failed', 'completed', 'completed', 'running', 'pending'],
    );
    assert.match(json.runs[2].error, /injected failure/);
    assert.equal(json.runs[3].gpu, 0);
    // The protocol: rows of the experiment's models only, each setting with its source.
    assert.deepEqual([json.protocol.name, json.protocol.legacy, json.protocol.overrides], ['seed', false, { epochs: 30 }]);
    assert.deepEqual([...new Set(json.protocol.rows.map((r: { model: string }) => r.model))], ['baseline', 'xception']);
    const epochs = json.protocol.rows.find((r: { model: string; setting: string }) => r.model === 'baseline' && r.setting === 'epochs');
    assert.deepEqual(epochs, { model: 'baseline', setting: 'epochs', value: '30', source: 'override: --epochs 30', kind: 'override' });
    const legacy = (await get(`/api/experiments/${oneClass.experimentId}`)).json.protocol;
    assert.deepEqual([legacy.name, legacy.legacy], ['extended', true]);
  });

  test('/api/experiments/:id/summary is metric_summary (completed runs only)', async () => {
    const { json } = await get(`/api/experiments/${study.experimentId}/summary`);
    const sql = await db.query<{ model: string; split: string; metric: string; n: number; mean: number; stddev: number | null }>(
      'select model, split, metric, n, mean, stddev from metric_summary where experiment_id = $1',
      [study.experimentId],
    );
    assert.equal(json.rows.length, 2 * 3 * METRIC_NAMES.length);
    assert.equal(json.rows.length, sql.length);
    for (const s of sql) {
      const r = json.rows.find((x: { model: string; split: string; metric: string }) => x.model === s.model && x.split === s.split && x.metric === s.metric);
      assert.ok(r, `${s.model} ${s.split} ${s.metric}`);
      assert.equal(r.n, 2, 'the failed and running runs are not in the summary');
      assert.equal(r.mean, s.mean);
      assert.equal(r.std, s.stddev);
    }
  });

  test('NaN metrics (AUC of a one-class split) arrive as null', async () => {
    const summary = (await get(`/api/experiments/${oneClass.experimentId}/summary`)).json;
    const valAuc = summary.rows.find((r: { split: string; metric: string }) => r.split === 'val' && r.metric === 'roc_auc');
    assert.equal(valAuc.mean, null);
    const testAuc = summary.rows.find((r: { split: string; metric: string }) => r.split === 'test' && r.metric === 'roc_auc');
    assert.ok(testAuc.mean > 0.5);
    const run = (await get(`/api/runs/${oneClass.runIds[0]}`)).json;
    assert.equal(run.evaluations.find((e: { split: string }) => e.split === 'val').metrics.roc_auc, null);
  });

  test('/api/runs/:id, /epochs and /curves', async () => {
    const id = study.runIds[0];
    const run = (await get(`/api/runs/${id}`)).json;
    assert.equal(run.experimentName, XSS_NAME);
    assert.deepEqual(
      run.evaluations.map((e: { split: string }) => e.split),
      ['train', 'val', 'test'],
    );
    const [cm] = await db.query<{ tp: number; fp: number; tn: number; fn: number }>(
      "select tp, fp, tn, fn from evaluations where run_id = $1 and split = 'test'",
      [id],
    );
    assert.deepEqual(run.evaluations[2].confusion, cm);
    assert.equal(run.stoppedEarly, true);
    assert.ok(run.bestEpoch >= 1 && run.checkpointDir.endsWith('/best'));

    const epochs = (await get(`/api/runs/${id}/epochs`)).json;
    assert.equal(epochs.epochs.length, 14);
    assert.ok(epochs.epochs.every((e: { train: object; val: object }) => e.train && e.val));
    assert.equal(epochs.bestEpoch, run.bestEpoch);

    const curves = (await get(`/api/runs/${id}/curves`)).json;
    assert.deepEqual(
      curves.curves.map((c: { split: string; kind: string }) => `${c.split}/${c.kind}`),
      ['train/pr', 'train/roc', 'val/pr', 'val/roc', 'test/pr', 'test/roc'],
    );
    const roc = curves.curves.find((c: { split: string; kind: string }) => c.split === 'test' && c.kind === 'roc');
    assert.equal(roc.x.length, roc.y.length);
    assert.ok(roc.x.length > 10);
    assert.equal(roc.auc, run.evaluations[2].metrics.roc_auc);
  });

  test('/api/runs/:id lists the failed attempts of a run with their errors', async () => {
    const failed = (await get(`/api/runs/${study.runIds[2]}`)).json;
    assert.equal(failed.status, 'failed');
    assert.deepEqual(
      failed.failedAttempts.map((f: { attempt: number; slot: string; retried: boolean; error: string }) => [f.attempt, f.slot, f.retried, f.error]),
      [[1, 'cpu:0', false, 'Error: injected failure at epoch 5 (test hook)\n  <b>second line</b>']],
    );
    assert.equal((await get(`/api/runs/${study.runIds[0]}`)).json.failedAttempts.length, 0);
  });

  test("a run's host and Slurm job: on the experiment's runs and on the run", async () => {
    const { runs } = (await get(`/api/experiments/${study.experimentId}`)).json;
    const where = (id: number | undefined) => runs.find((r: { id: number }) => r.id === id);
    assert.deepEqual(
      [3, 5, 6].map((i) => [where(study.runIds[i]).host, where(study.runIds[i]).slurmJob]),
      [
        ['gpu-node-3', '812_0'],
        ['gpu-node-5', '812_1'],
        [null, null],
      ],
    );
    assert.equal(where(study.runIds[0]).host, hostname(), 'a run claimed outside Slurm: this machine, no job');
    assert.equal(where(study.runIds[0]).slurmJob, null);
    const run = (await get(`/api/runs/${study.runIds[5]}`)).json;
    assert.deepEqual([run.host, run.slurmJob], ['gpu-node-5', '812_1']);
  });

  test('a running run has its epochs so far and its best epoch so far', async () => {
    const epochs = (await get(`/api/runs/${study.runIds[5]}/epochs`)).json;
    assert.equal(epochs.status, 'running');
    assert.equal(epochs.epochs.length, 8);
    assert.ok(epochs.bestEpoch >= 1 && epochs.bestEpoch <= 8);
  });

  test('/api/experiments/:id/compare gives every run of the model and per-epoch bands from SQL', async () => {
    const { json } = await get(`/api/experiments/${study.experimentId}/compare?model=xception`);
    assert.deepEqual(
      json.runs.map((r: { status: string }) => r.status),
      ['completed', 'completed', 'running', 'pending'],
    );
    const val = json.bands.val.roc_auc;
    assert.equal(val.length, 20, 'the longest run has 20 epochs');
    assert.equal(val[0].n, 3, 'epoch 1: two completed runs and the running one');
    assert.equal(val[15].n, 2, 'epoch 16: the 16- and 20-epoch runs');
    assert.equal(val[16].n, 1, 'epoch 17: only the 20-epoch run');
    assert.equal(val[16].std, null);
    const values = json.runs.slice(0, 3).map((r: { epochs: { val: { roc_auc: number } }[] }) => r.epochs[0]!.val.roc_auc);
    const mean = values.reduce((a: number, b: number) => a + b, 0) / 3;
    assert.ok(Math.abs(val[0].mean - mean) < 1e-12);
    const baseline = (await get(`/api/experiments/${study.experimentId}/compare?model=baseline`)).json;
    assert.equal(baseline.bands.val.loss[0].n, 2, 'a failed run is overlaid but not in the bands');
    assert.equal(baseline.runs.length, 3);
  });

  test('/api/compare gives each experiment with its settings and its summary rows, in the order asked', async () => {
    const ids = [study.experimentId, oneClass.experimentId];
    const { status, json } = await get(`/api/compare?experiments=${ids.join(',')}`);
    assert.equal(status, 200);
    assert.deepEqual(
      json.experiments.map((x: { id: number }) => x.id),
      ids,
    );
    const { protocol, ...config } = json.experiments[0].config;
    assert.deepEqual(config, { models: ['baseline', 'xception'], runs: 7, epochs: 30 });
    assert.deepEqual([protocol.name, protocol.overrides], ['seed', { epochs: 30 }]);
    assert.equal(json.experiments[0].codeVersion, 'fixture');
    assert.deepEqual(json.experiments[1].counts, { total: 1, done: 1, failed: 0, running: 0, pending: 0, interrupted: 0 });
    for (const id of ids) {
      const own = (await get(`/api/experiments/${id}/summary`)).json.rows;
      const mine = json.rows.filter((r: { experimentId: number }) => r.experimentId === id).map(({ experimentId: _, ...r }: { experimentId: number }) => r);
      assert.deepEqual(mine, own, `experiment ${id}`);
    }
    const reversed = (await get(`/api/compare?experiments=${oneClass.experimentId},${study.experimentId},${oneClass.experimentId}`)).json;
    assert.deepEqual(
      reversed.experiments.map((x: { id: number }) => x.id),
      [oneClass.experimentId, study.experimentId],
      'repeats count once',
    );
  });
});

describe('predictions', () => {
  type Prediction = { image: string; label: 0 | 1; probability: number; fileId: number | null };

  test('/api/runs/:id/predictions: every image of a split, which give the stored confusion matrix and AUCs again', async () => {
    const runId = study.runIds[0];
    const run = (await get(`/api/runs/${runId}`)).json;
    for (const split of ['test', 'val', 'train']) {
      const { status, json } = await get(`/api/runs/${runId}/predictions${split === 'test' ? '' : `?split=${split}`}`);
      assert.equal(status, 200);
      assert.equal(json.split, split);
      const list: Prediction[] = json.predictions;
      const stored = run.evaluations.find((e: { split: string }) => e.split === split);
      assert.equal(list.length, stored.n);
      assert.ok(
        list.every((p) => p.fileId === null),
        'no dataset folder: no file ids',
      );
      const e = evaluateBinary(
        list.map((p) => p.label),
        list.map((p) => p.probability),
      );
      assert.deepEqual(e.confusion, stored.confusion, split);
      assert.equal(e.metrics.roc_auc, stored.metrics.roc_auc, split);
      assert.equal(e.metrics.pr_auc, stored.metrics.pr_auc, split);
    }
    const failed = await get(`/api/runs/${study.runIds[2]}/predictions`);
    assert.deepEqual(failed.json.predictions, [], 'a failed run has no final evaluation');
    assert.equal((await get('/api/runs/999999/predictions')).status, 404);
    assert.equal((await get(`/api/runs/${runId}/predictions?split=holdout`)).status, 400);
    assert.equal((await get(`/api/runs/${runId}/predictions?limit=3`)).status, 400);
  });

  test("/api/experiments/:id/ensemble: the metrics of the completed runs' mean probabilities, per model", async () => {
    const x = study.experimentId;
    const { status, json } = await get(`/api/experiments/${x}/ensemble?split=val`);
    assert.equal(status, 200);
    assert.deepEqual(
      json.models.map((m: { model: string; runs: number }) => [m.model, m.runs]),
      [
        ['baseline', 2],
        ['xception', 2],
      ],
    );
    const completed = { baseline: [study.runIds[0], study.runIds[1]], xception: [study.runIds[3], study.runIds[4]] };
    for (const m of json.models) {
      const lists: Prediction[][] = await Promise.all(
        completed[m.model as 'baseline'].map(async (r) => (await get(`/api/runs/${r}/predictions?split=val`)).json.predictions),
      );
      const mean = lists[0]!.map((_, i) => lists.reduce((a, list) => a + list[i]!.probability, 0) / lists.length);
      const e = evaluateBinary(
        lists[0]!.map((p) => p.label),
        mean,
      );
      assert.equal(m.n, 527);
      assert.deepEqual(m.confusion, e.confusion);
      for (const k of METRIC_NAMES) assert.ok(Math.abs(m.metrics[k] - e.metrics[k]) < 1e-12, `${m.model} ${k}`);
    }
    assert.equal((await get(`/api/experiments/${x}/ensemble`)).json.split, 'test');
    assert.equal((await get(`/api/experiments/${x}/ensemble?split=all`)).status, 400);
    assert.equal((await get('/api/experiments/999999/ensemble')).status, 404);
  });

  test('/api/experiments/:id/misclassified: the images most completed runs get wrong, as computed by hand', async () => {
    const x = study.experimentId;
    const completed = [study.runIds[0], study.runIds[1]]; // the third baseline run failed
    const perRun: Prediction[][] = await Promise.all(completed.map(async (r) => (await get(`/api/runs/${r}/predictions`)).json.predictions));
    const expected = perRun[0]!
      .map((p, i) => {
        const probs = perRun.map((list) => list[i]!.probability);
        const mean = probs.reduce((a, b) => a + b, 0) / probs.length;
        return { image: p.image, wrong: probs.filter((q) => q > 0.5 !== (p.label === 1)).length, mean, far: Math.abs(mean - p.label) };
      })
      .filter((e) => e.wrong > 0)
      .sort((a, b) => b.wrong - a.wrong || b.far - a.far);
    const { status, json } = await get(`/api/experiments/${x}/misclassified?model=baseline&limit=30`);
    assert.equal(status, 200);
    assert.equal(json.runs, 2);
    assert.equal(json.split, 'test');
    assert.deepEqual(
      json.images.map((i: { image: string; wrong: number }) => [i.image, i.wrong]),
      expected.slice(0, 30).map((e) => [e.image, e.wrong]),
    );
    json.images.forEach((i: { meanProbability: number; n: number }, k: number) => {
      assert.equal(i.n, 2);
      assert.ok(Math.abs(i.meanProbability - expected[k]!.mean) < 1e-12);
    });
    assert.equal((await get(`/api/experiments/${x}/misclassified?model=baseline`)).json.images.length, 24, 'default limit');
    const none = (await get(`/api/experiments/${x}/misclassified?model=xception-ft&split=val`)).json;
    assert.deepEqual([none.runs, none.images], [0, []]);
    assert.equal((await get(`/api/experiments/${x}/misclassified`)).status, 400, 'model is required');
    assert.equal((await get(`/api/experiments/${x}/misclassified?model=baseline&limit=0`)).status, 400);
    assert.equal((await get('/api/experiments/999999/misclassified?model=baseline')).status, 404);
  });
});

describe('errors', () => {
  for (const path of [
    '/api/compare?experiments=1,999',
    '/api/experiments/999',
    '/api/experiments/999/summary',
    '/api/experiments/999/compare?model=baseline',
    '/api/runs/999',
    '/api/runs/999/epochs',
    '/api/runs/999/curves',
    '/api/runs/abc',
    '/api/runs/1.5',
    '/api/runs/0',
    '/api/nothing-here',
  ]) {
    test(`${path} is a JSON 404`, async () => {
      const { status, json } = await get(path);
      assert.equal(status, 404);
      assert.match(json.error, /not found/);
    });
  }

  for (const path of ['/experiments/999', '/runs/999', '/runs/abc', '/nothing-here', '/experiments/999/compare?model=baseline', '/compare?experiments=999,1']) {
    test(`${path} is an HTML 404 page`, async () => {
      const { status, headers, body } = await get(path);
      assert.equal(status, 404);
      assert.match(headers.get('content-type') ?? '', /text\/html/);
      assert.match(body, /404 Not found/);
    });
  }

  test('bad query parameters are 400 with a message naming them', async () => {
    const cases: [string, RegExp][] = [
      [`/api/experiments/${study.experimentId}/compare?model=resnet`, /'model' must be one of baseline/],
      [`/api/experiments/${study.experimentId}/compare`, /'model'/],
      [`/api/experiments/${study.experimentId}/compare?model=baseline&model=xception`, /'model'/],
      [`/api/experiments/${study.experimentId}/compare?model=baseline&colour=red`, /unknown query parameter\(s\) 'colour'/],
      ['/api/experiments?limit=5', /unknown query parameter\(s\) 'limit'/],
      [`/api/runs/${study.runIds[0]}?x=1`, /unknown query parameter/],
      ['/api/compare', /'experiments'/],
      ['/api/compare?experiments=1;2', /'experiments' must be experiment ids separated by commas/],
      ['/api/compare?experiments=1,,2', /'experiments' must be experiment ids/],
      ['/api/compare?experiments=0', /'experiments' must be experiment ids/],
      [`/api/compare?experiments=${Array.from({ length: 21 }, (_, i) => i + 1).join(',')}`, /'experiments' must name at most 20 experiments/],
      ['/api/compare?experiments=1&split=test', /unknown query parameter\(s\) 'split'/],
    ];
    for (const [path, message] of cases) {
      const { status, json } = await get(path);
      assert.equal(status, 400, path);
      assert.match(json.error, message, path);
    }
    for (const q of ['experiments=1&split=holdout', 'experiments=1&metric=f1', 'experiments=a']) {
      const page = await get(`/compare?${q}`);
      assert.equal(page.status, 400, q);
      assert.match(page.body, /400 Bad request/);
    }
    assert.equal((await get(`/compare?experiments=${study.experimentId},${oneClass.experimentId}&split=val&metric=loss`)).status, 200);
    for (const q of ['model=resnet', 'model=xception&mode=pie', 'model=xception&split=test', 'model=xception&x=1']) {
      const page = await get(`/experiments/${study.experimentId}/compare?${q}`);
      assert.equal(page.status, 400, q);
      assert.match(page.body, /400 Bad request/);
    }
    // The page keeps its settings in the URL: a reload with them is fine.
    assert.equal((await get(`/experiments/${study.experimentId}/compare?model=xception&split=train&mode=overlay`)).status, 200);
    const redirect = await get(`/experiments/${study.experimentId}/compare?mode=overlay`);
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), `/experiments/${study.experimentId}/compare?mode=overlay&model=baseline`);
  });

  test('the server is read-only: other methods are 405 and change nothing', async () => {
    const count = async () =>
      (await db.query<{ n: number }>('select (select count(*) from experiments) + (select count(*) from runs) + (select count(*) from epoch_metrics) as n'))[0]!
        .n;
    const before = await count();
    for (const [method, path] of [
      ['POST', '/api/experiments'],
      ['DELETE', `/api/runs/${study.runIds[0]}`],
      ['PUT', `/api/experiments/${study.experimentId}`],
      ['PATCH', '/api/runs/1'],
      ['POST', '/'],
      ['DELETE', '/static/style.css'],
      ['OPTIONS', '/api/experiments'],
    ] as const) {
      const { status, headers } = await get(path, {
        method,
        body: method === 'OPTIONS' ? undefined : '{"name":"x"}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(status, 405, `${method} ${path}`);
      assert.equal(headers.get('allow'), 'GET, HEAD');
    }
    assert.equal(await count(), before);
    const head = await get('/api/experiments', { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('no request reads a file outside the served folders', async () => {
    const paths = [
      '/static/..%2f..%2fpackage.json',
      '/static/..%2fserver.ts',
      '/static/%2e%2e/%2e%2e/package.json',
      '/static/%2e%2e%2f%2e%2e%2fpackage.json',
      '/static/....//....//package.json',
      '/static//etc/passwd',
      '/static/%2fetc%2fpasswd',
      '/static/..%5c..%5cpackage.json',
      '/vendor/..%2f..%2fpackage.json',
      '/vendor/chart.umd.js%2f..%2f..%2fpackage.json',
      '/static/%00',
      '/static/.hidden',
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
    ];
    for (const path of paths) {
      const { status, body } = await get(path);
      assert.ok(status === 400 || status === 403 || status === 404, `${path}: ${status}`);
      assert.doesNotMatch(body, /"dependencies"|root:x:0|startServer/, path);
    }
  });

  test('dataset file ids are integers, never paths', async () => {
    // No dataset folder in this server: /api/dataset says how to get one.
    const ds = await get('/api/dataset');
    assert.equal(ds.status, 404);
    assert.match(ds.json.error, /--data/);
    for (const id of ['..%2f..%2fetc%2fpasswd', '%2fetc%2fpasswd', '-1', '1e3', '0x10', '1.0', 'train%2fbenign%2f1.jpg', '1%2f..%2f2']) {
      const { status, json } = await get(`/api/dataset/images/${id}`);
      assert.equal(status, 400, id);
      assert.match(json.error, /file id .* must be a non-negative integer/, id);
    }
    // fetch resolves a literal '..' segment itself: the request that arrives is for another route.
    assert.equal((await get('/api/dataset/images/%2e%2e')).status, 404);
  });

  test('names with markup are data: JSON for the API, escaped text in error pages', async () => {
    const { headers, body } = await get(`/api/experiments/${study.experimentId}`);
    assert.match(headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(JSON.parse(body).name, XSS_NAME);
    const shell = await get(`/experiments/${study.experimentId}`);
    assert.equal(shell.status, 200);
    assert.doesNotMatch(shell.body, /__xss/, 'the page shell holds no data');
    assert.match(shell.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const notFound = await get('/runs/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    assert.equal(notFound.status, 404);
    assert.doesNotMatch(notFound.body, /<script>alert/);
    assert.match(notFound.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });
});

describe('dataset API (tiny real subset)', () => {
  let dataServer: RunningServer | null = null;
  let subset: string | null = null;
  after(async () => {
    await dataServer?.close();
    if (subset) rmSync(subset, { recursive: true, force: true });
  });
  const dataGet = async (path: string) => {
    const res = await fetch(dataServer!.url + path);
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
  };

  test('counts per split and class, samples by file id', async (t) => {
    if (!realDataOrSkip(t)) return;
    subset = realSubset({ train: 10, test: 4 });
    dataServer = await startServer({ db, port: 0, dataDir: subset });
    const d = JSON.parse((await dataGet('/api/dataset')).body.toString());
    assert.deepEqual(d.counts.train, { benign: 8, malignant: 8, total: 16, malignantRatio: 0.5 });
    assert.deepEqual(d.counts.val, { benign: 2, malignant: 2, total: 4, malignantRatio: 0.5 });
    assert.deepEqual(d.counts.test, { benign: 4, malignant: 4, total: 8, malignantRatio: 0.5 });
    assert.equal(d.all.total, 28);
    assert.equal(d.fingerprint, (await indexDataset(subset, { warn: () => {} })).fingerprint);
    assert.equal(d.samples.benign.length, 8);
    assert.ok(d.samples.malignant.every((s: { label: string }) => s.label === 'malignant'));
    assert.ok(d.augmentSources.every((s: { split: string }) => s.split === 'train'));
    assert.doesNotMatch(JSON.stringify(d.samples), /\/melanoma-subset-/, 'samples carry ids, not paths');
  });

  test('images come as JPEG by file id; unknown ids 404, bad ids and sizes 400', async (t) => {
    if (!realDataOrSkip(t) || !dataServer) return;
    const img = await dataGet('/api/dataset/images/0?size=64');
    assert.equal(img.status, 200);
    assert.equal(img.type, 'image/jpeg');
    const meta = await sharp(img.body).metadata();
    assert.deepEqual([meta.width, meta.height, meta.format], [64, 64, 'jpeg']);
    assert.equal((await dataGet('/api/dataset/images/28')).status, 404);
    assert.equal((await dataGet('/api/dataset/images/..%2f..%2f..%2fetc%2fpasswd')).status, 400);
    assert.equal((await dataGet('/api/dataset/images/0?size=100000')).status, 400);
    assert.equal((await dataGet('/api/dataset/images/0?path=/etc/passwd')).status, 400);
    assert.equal((await dataGet('/api/dataset/augmented/27')).status, 400, 'a test image is never augmented');
  });

  test("predictions carry the file ids of their images when the server has the run's dataset, and none for another", async (t) => {
    if (!realDataOrSkip(t) || !dataServer) return;
    const index = await indexDataset(subset!, { warn: () => {} });
    const listing = [...index.splits.train, ...index.splits.val, ...index.splits.test];
    const own = await openDatabase('memory://');
    const server = await startServer({ db: own, port: 0, dataDir: subset! });
    try {
      const dataset = { fingerprint: index.fingerprint, images: { train: index.splits.train, val: index.splits.val, test: index.splits.test } };
      const onSubset = await buildExperiment(own, { name: 'on the subset', runs: [{ model: 'baseline', epochs: 4, bestEpoch: 2 }], dataset });
      const other = await buildExperiment(own, { name: 'elsewhere', runs: [{ model: 'baseline', epochs: 4, bestEpoch: 2 }] });
      const fetchJson = async (path: string) => (await fetch(server.url + path)).json();
      const predictions = (await fetchJson(`/api/runs/${onSubset.runIds[0]}/predictions?split=val`)).predictions as { image: string; fileId: number }[];
      assert.equal(predictions.length, 4);
      for (const p of predictions) assert.equal(listing[p.fileId]!.id, p.image);
      const hard = (await fetchJson(`/api/experiments/${onSubset.experimentId}/misclassified?model=baseline&split=test`)).images as {
        image: string;
        fileId: number;
      }[];
      for (const h of hard) assert.equal(listing[h.fileId]!.id, h.image);
      const elsewhere = (await fetchJson(`/api/runs/${other.runIds[0]}/predictions`)).predictions as { fileId: number | null }[];
      assert.ok(elsewhere.length > 0 && elsewhere.every((p) => p.fileId === null), 'another dataset: its paths may name other images');
    } finally {
      await server.close();
      await own.close();
    }
  });

  test('an augmented sample is exactly what the training pipeline feeds the model', async (t) => {
    if (!realDataOrSkip(t) || !dataServer) return;
    const size = 32;
    const index = await indexDataset(subset!, { warn: () => {} });
    const train = index.splits.train;
    const fileId = 3; // the listing starts with the train records
    const png = await dataGet(`/api/dataset/augmented/${fileId}?seed=7&epoch=2&size=${size}`);
    assert.equal(png.type, 'image/png');
    const shown = await sharp(png.body).raw().toBuffer();
    for await (const batch of batches(train, { imageSize: size, batchSize: 4, shuffle: true, seed: 7, epoch: 2, augment: DEFAULT_AUGMENT, cache: null })) {
      const k = batch.ids.indexOf(train[fileId]!.id);
      if (k < 0) continue;
      assert.deepEqual([...shown], [...augmentedPixels(batch).subarray(k * size * size * 3, (k + 1) * size * size * 3)]);
      return;
    }
    assert.fail('the image was not in any batch');
  });
});
