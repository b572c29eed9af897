/**
 * `melanoma sql` and `melanoma serve` on a PGlite folder that a running orchestrator holds (the fake thread, its runs
 * paused in their first epoch): they go through the orchestrator's folder endpoint (web/folder-endpoint.ts), which
 * runs each statement as `melanoma sql` does on a folder (and `melanoma summary` reads a copy it takes: more in
 * read-held.slow.test.ts); the hostile cases get the PGlite answers there too; the
 * endpoint refuses a request without its token; once the orchestrator has finished, `melanoma sql` opens the folder
 * itself again.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ENDPOINT_FILE, type FolderEndpoint } from '../../../db/folder-endpoint.ts';
import { type ReadOnlyOutput, runReadOnly } from '../../../db/read-only.ts';
import { HOSTILE_SQL, assertAnswer, type Answer } from '../../fixtures/hostile/sql-cases.ts';
import { MELANOMA, cliPid, orchestrateArgv, runCli, startCli, tempDir, tinyDataset, waitForStderr } from '../../orchestrator/helpers.ts';

const TIMEOUT_MS = 5000;
const folder = join(tempDir('live-sql'), 'db');
const watched = tempDir('live-sql-files');
let orchestrator: ReturnType<typeof startCli>;
let endpoint: FolderEndpoint;

before(async () => {
  const data = await tinyDataset();
  // Each epoch of the fake thread waits 10 minutes: the orchestrator holds the folder until it is stopped.
  orchestrator = startCli(orchestrateArgv({ data, db: folder, runs: 1, models: ['baseline'], epochs: 2, workers: 1, experiment: 'live', estimate: false }), {
    FAKE_THREAD_DELAY_MS: '600000',
  });
  await waitForStderr(orchestrator, (s) => /baseline run 0 .*started/.test(s), 180_000);
  endpoint = JSON.parse(readFileSync(join(folder, ENDPOINT_FILE), 'utf8'));
});

after(async () => {
  if (orchestrator.child.exitCode === null) orchestrator.child.kill('SIGKILL');
  await orchestrator.done;
});

async function answerThroughOrchestrator(sql: string, timeoutMs = TIMEOUT_MS): Promise<Answer> {
  let out: ReadOnlyOutput;
  try {
    out = await runReadOnly({ target: folder, sql, timeoutMs });
  } catch (err) {
    const message = (err as Error).message;
    assert.ok(!message.includes('\n'), `the error is one line: ${message}`);
    return { error: message };
  }
  assert.deepEqual(out.heldBy, { pid: orchestrator.child.pid, holder: 'orchestrator' }, 'the statement ran through the orchestrator');
  return { rows: out.rows.length };
}

const STATE_SQL = `select (select count(*) from experiments)::int as experiments, (select string_agg(status, ',' order by id) from runs) as runs,
  (select count(*) from epoch_metrics)::int as epoch_rows, (select count(*) from pg_roles)::int as roles,
  (select count(*) from pg_largeobject_metadata)::int as large_objects`;
const state = async () => {
  const out = await runReadOnly({ target: folder, sql: STATE_SQL, timeoutMs: TIMEOUT_MS });
  return Object.fromEntries(out.columns.map((c, i) => [c, out.rows[0]![i]]));
};

test('the endpoint file names the orchestrator and is readable by its owner only', () => {
  assert.equal(endpoint.pid, orchestrator.child.pid);
  assert.equal(endpoint.holder, 'orchestrator');
  assert.equal(statSync(join(folder, ENDPOINT_FILE)).mode & 0o777, 0o600);
  assert.ok(endpoint.token.length >= 40, 'a long random token');
});

test('the endpoint cannot be reached through an address of the machine other than 127.0.0.1', async () => {
  const others = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4');
  for (const address of others) {
    await assert.rejects(fetch(`http://${address!.address}:${endpoint.port}/api/experiments`), `not on ${address!.address}`);
  }
  const loopback = await fetch(`http://127.0.0.1:${endpoint.port}/api/experiments`, { headers: { authorization: `Bearer ${endpoint.token}` } });
  assert.equal(loopback.status, 200);
});

test('melanoma sql answers while the orchestrator holds the folder, and says on stderr that it went through it', async () => {
  const r = await runCli(['sql', '--db', folder, '--json', 'select e.name, r.status from runs r join experiments e on e.id = r.experiment_id'], {}, MELANOMA);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [{ name: 'live', status: 'running' }]);
  assert.equal(
    r.stderr,
    `melanoma sql: the database folder is held by the running orchestrator (pid ${orchestrator.child.pid}); the statement ran through it, on a copy of the folder taken now.\n`,
  );
});

test('melanoma summary reads a copy of the folder the orchestrator takes, and says so', async () => {
  const r = await runCli(['summary', '--db', folder, '--json'], {}, MELANOMA);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).experiment.name, 'live');
  assert.equal(
    r.stderr,
    `melanoma summary: the database folder is held by the running orchestrator (pid ${orchestrator.child.pid}); reading a copy of it taken now.\n`,
  );
});

test('every hostile statement gets its PGlite answer through the orchestrator, and nothing changes', async () => {
  const before = await state();
  assert.deepEqual(before, { experiments: 1, runs: 'running', epoch_rows: 0, roles: before.roles, large_objects: 0 });
  // Two at a time, as many as the endpoint runs at once.
  const cases = [...HOSTILE_SQL.entries()];
  const check = async ([i, c]: (typeof cases)[number]) => {
    const file = join(watched, `live-${i}`);
    const got = await answerThroughOrchestrator(c.sql.replaceAll('{file}', file));
    assert.doesNotThrow(() => assertAnswer(got, c.pglite), `${c.name}: ${JSON.stringify(got)}`);
    assert.equal(existsSync(file), false, `${c.name}: no file at ${file}`);
  };
  for (let k = 0; k < cases.length; k += 2) await Promise.all(cases.slice(k, k + 2).map(check));
  assert.deepEqual(await state(), before, 'no row, role or large object changed');
  assert.equal(orchestrator.child.exitCode, null, 'the orchestrator still runs');
});

test('a statement past its time limit is stopped, and the orchestrator answers meanwhile', async () => {
  const started = Date.now();
  const sleeping = answerThroughOrchestrator('select pg_sleep(60)', 3000);
  await new Promise((r) => setTimeout(r, 1500));
  const page = await fetch(`http://127.0.0.1:${endpoint.port}/api/experiments`, { headers: { authorization: `Bearer ${endpoint.token}` } });
  assert.equal(page.status, 200);
  assertAnswer(await sleeping, { error: 'cancelled after the 3 s statement timeout' });
  assert.ok(Date.now() - started < 30_000, `stopped after ${Date.now() - started} ms`);
});

test('the endpoint refuses a request without its token, or with another one', async () => {
  const url = `http://127.0.0.1:${endpoint.port}`;
  const sql = {
    method: 'POST',
    body: JSON.stringify({ sql: 'select name from experiments', timeoutMs: 5000 }),
    headers: { 'content-type': 'application/json' },
  };
  for (const authorization of [undefined, `Bearer ${'x'.repeat(endpoint.token.length)}`, endpoint.token]) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const post = await fetch(`${url}/sql`, { ...sql, headers: { ...sql.headers, ...headers } });
    assert.equal(post.status, 401, `POST /sql with ${authorization ?? 'no token'}`);
    assert.match((await post.json()).error, /only requests that carry its token/);
    assert.equal((await fetch(`${url}/api/experiments`, { headers })).status, 401, `GET /api/experiments with ${authorization ?? 'no token'}`);
  }
  const allowed = await fetch(`${url}/sql`, { ...sql, headers: { ...sql.headers, authorization: `Bearer ${endpoint.token}` } });
  assert.equal(allowed.status, 200);
});

test("melanoma serve on the held folder serves the orchestrator's page, live, on its own port", async () => {
  const serve = startCli(['serve', '--db', folder, '--port', '0'], {}, MELANOMA);
  try {
    let stdout = '';
    serve.child.stdout!.on('data', (d) => (stdout += d));
    const until = Date.now() + 60_000;
    while (!/at (http:\S+)\//.test(stdout) && Date.now() < until && serve.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.match(
      stdout,
      new RegExp(`^Serving ${folder} at http://127\\.0\\.0\\.1:\\d+/ through the running orchestrator \\(pid ${orchestrator.child.pid}\\) that holds it`),
    );
    const url = /at (http:\S+)\//.exec(stdout)![1];
    const experiments = (await (await fetch(`${url}/api/experiments`)).json()) as { name: string }[];
    assert.deepEqual(
      experiments.map((e) => e.name),
      ['live'],
    );
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  } finally {
    serve.child.kill('SIGINT');
    await serve.done;
  }
});

test('once the orchestrator has finished, melanoma sql opens the folder itself; an endpoint file left behind is ignored', async () => {
  orchestrator.child.kill('SIGINT');
  assert.equal((await orchestrator.done).code, 130);
  assert.equal(existsSync(join(folder, ENDPOINT_FILE)), false, 'the orchestrator removed its endpoint file');
  // As a killed orchestrator leaves it: its pid no longer holds the folder.
  writeFileSync(join(folder, ENDPOINT_FILE), JSON.stringify({ ...endpoint, port: 1 }), { mode: 0o600 });
  const r = await runCli(['sql', '--db', folder, '--json', 'select status from runs'], {}, MELANOMA);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [{ status: 'interrupted' }]);
  assert.equal(r.stderr, '');
});

test('melanoma serve holding the folder answers melanoma sql the same way', async () => {
  const serve = startCli(['serve', '--db', folder, '--port', '0'], {}, MELANOMA);
  try {
    let stdout = '';
    serve.child.stdout!.on('data', (d) => (stdout += d));
    const until = Date.now() + 60_000;
    while (!/Press Ctrl-C/.test(stdout) && Date.now() < until && serve.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const out = await runReadOnly({ target: folder, sql: 'select status from runs', timeoutMs: TIMEOUT_MS });
    assert.deepEqual(out.heldBy, { pid: cliPid(serve), holder: 'melanoma serve' });
    assert.deepEqual(out.rows, [['interrupted']]);
  } finally {
    serve.child.kill('SIGINT');
    await serve.done;
  }
  assert.equal(existsSync(join(folder, ENDPOINT_FILE)), false, 'melanoma serve removed its endpoint file');
});
