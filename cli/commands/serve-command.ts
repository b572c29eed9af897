/**
 * `melanoma serve`: the results page of a database. On a PGlite folder it holds, it also offers the folder's endpoint
 * (web/folder-endpoint.ts), so that `melanoma sql` and another `melanoma serve` work meanwhile; on a folder that a
 * running process holds (an orchestrator), it serves that process's page through its endpoint.
 */
import { parseTarget } from '../../db/client.ts';
import { findEndpoint } from '../../db/folder-endpoint.ts';
import { openDatabase } from '../../db/index.ts';
import { startEndpointProxy } from '../../web/endpoint-proxy.ts';
import { startFolderEndpoint } from '../../web/folder-endpoint.ts';
import { type RunningServer, startServer } from '../../web/server.ts';
import { resolveDataDir } from '../../study/data/dataset.ts';
import type { ServeOptions } from './serve.ts';

export async function serve(opts: ServeOptions): Promise<void> {
  let dataDir: string | null;
  try {
    dataDir = resolveDataDir(opts.data);
  } catch (err) {
    if (opts.data) throw err; // an explicit --data that is wrong is an error, the defaults are optional
    dataDir = null;
  }
  const target = parseTarget(opts.db);
  const endpoint = target.kind === 'folder' ? findEndpoint(target.dir) : null;
  if (target.kind === 'folder' && endpoint) {
    const server = await startEndpointProxy(endpoint, opts.host, opts.port);
    process.stdout.write(
      `Serving ${target.dir} at ${server.url}/ through the running ${endpoint.holder} (pid ${endpoint.pid}) that holds it: its page, live, ` +
        `with its dataset folder${opts.data ? ' (--data is not used)' : ''}.\nPress Ctrl-C to stop.\n`,
    );
    await untilStopped();
    await server.close();
    return;
  }
  const db = await openDatabase(opts.db, { create: false });
  const servers: { close(): Promise<void> }[] = [];
  try {
    const server: RunningServer = await startServer({ db, host: opts.host, port: opts.port, dataDir });
    servers.push(server);
    if (db.kind === 'pglite' && db.target !== 'memory://') servers.push(await startFolderEndpoint({ db, dataDir, holder: 'melanoma serve' }));
    process.stdout.write(
      `Serving ${db.target} at ${server.url}/${dataDir ? ` (dataset ${dataDir})` : ' (no dataset folder: the Dataset view is empty; use --data)'}\nPress Ctrl-C to stop.\n`,
    );
    await untilStopped();
  } finally {
    for (const s of servers.reverse()) await s.close();
    await db.close();
  }
}

function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
