/**
 * The commands that only read (`melanoma summary`, `report`, `export`) on a PGlite folder that `melanoma serve` holds:
 * each reads a copy its holder takes (db/folder-snapshot.ts), prints what it prints on an unheld copy of the folder,
 * says so in one line on stderr, and leaves no copy behind, also when it fails; a command that writes (`import`) is
 * still refused. The readers run with a temporary folder of their own (TMPDIR), where the holder puts the copies.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ENDPOINT_FILE, type FolderEndpoint } from '../../../db/folder-endpoint.ts';
import { PROJECT_ROOT } from '../../helpers/real-data.ts';
import { MELANOMA, cliPid, runCli, startCli, tempDir } from '../../orchestrator/helpers.ts';

const RESULTS = join(PROJECT_ROOT, 'results', 'seed-224.ndjson.gz');
const folder = join(tempDir('read-held'), 'db');
const unheld = join(tempDir('read-unheld'), 'db');
const readerTmp = tempDir('read-held-tmp');
let serve: ReturnType<typeof startCli>;

const melanoma = (args: string[], db: string) => runCli([...args, '--db', db], { TMPDIR: readerTmp }, MELANOMA);
/** What the readers left in their temporary folder (tsx keeps a cache of its own there). */
const copiesLeft = () => readdirSync(readerTmp).filter((name) => name.startsWith('melanoma-'));

before(async () => {
  const imported = await runCli(['import', RESULTS, '--db', folder], {}, MELANOMA);
  assert.equal(imported.code, 0, imported.stderr);
  cpSync(folder, unheld, { recursive: true });
  serve = startCli(['serve', '--db', folder, '--port', '0'], {}, MELANOMA);
  let stdout = '';
  serve.child.stdout!.on('data', (d) => (stdout += d));
  const until = Date.now() + 60_000;
  while (!/Press Ctrl-C/.test(stdout) && Date.now() < until && serve.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  assert.match(stdout, /Press Ctrl-C/, serve.stderrSoFar());
});

after(async () => {
  serve.child.kill('SIGINT');
  await serve.done;
});

const heldLine = (command: string) =>
  `melanoma ${command}: the database folder is held by the running melanoma serve (pid ${cliPid(serve)}); reading a copy of it taken now.\n`;

test('summary and report --json on the held folder print what they print on an unheld copy, and leave no copy behind', async () => {
  for (const args of [
    ['summary', '--experiment', 'seed-224'],
    ['report', '--experiment', 'seed-224', '--json'],
  ]) {
    const [held, other] = [await melanoma(args, folder), await melanoma(args, unheld)];
    assert.equal(held.code, 0, held.stderr);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(held.stderr, heldLine(args[0]!), args.join(' '));
    assert.ok(held.stdout.length > 1000, `${args.join(' ')} printed the experiment`);
    assert.equal(held.stdout, other.stdout, args.join(' '));
    assert.deepEqual(copiesLeft(), [], `after ${args.join(' ')}`);
  }
});

test('export of the held folder writes the bytes an unheld copy gives', async () => {
  const out = tempDir('read-held-out');
  const [held, other] = [
    await melanoma(['export', '--experiment', 'seed-224', '--out', join(out, 'held.ndjson.gz')], folder),
    await melanoma(['export', '--experiment', 'seed-224', '--out', join(out, 'unheld.ndjson.gz')], unheld),
  ];
  assert.equal(held.code, 0, held.stderr);
  assert.equal(other.code, 0, other.stderr);
  assert.equal(held.stderr, heldLine('export'));
  assert.match(held.stdout, /^experiment 'seed-224': 31 runs \(.*\), \d+ predictions -> /);
  assert.ok(readFileSync(join(out, 'held.ndjson.gz')).equals(readFileSync(join(out, 'unheld.ndjson.gz'))));
  assert.deepEqual(copiesLeft(), []);
});

test('a command that fails on the copy leaves no copy behind, and names the folder', async () => {
  const r = await melanoma(['summary', '--experiment', 'nope'], folder);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `${heldLine('summary')}melanoma: no experiment named 'nope' in ${folder}.\n`);
  assert.deepEqual(copiesLeft(), []);
});

test('a command that writes is still refused while the folder is held', async () => {
  const r = await melanoma(['import', RESULTS], folder);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^melanoma: the database folder ${folder} is in use by process ${cliPid(serve)} `));
});

test('the endpoint copies only for a request with its token, into an existing folder', async () => {
  const endpoint = JSON.parse(readFileSync(join(folder, ENDPOINT_FILE), 'utf8')) as FolderEndpoint;
  const post = (into: string, authorization?: string) =>
    fetch(`http://127.0.0.1:${endpoint.port}/snapshot`, {
      method: 'POST',
      body: JSON.stringify({ into }),
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    });
  assert.equal((await post(readerTmp)).status, 401);
  const relative = await post('tmp', `Bearer ${endpoint.token}`);
  assert.equal(relative.status, 400);
  assert.match((await relative.json()).error, /existing folder given by its absolute path/);
  assert.deepEqual(copiesLeft(), []);
});
