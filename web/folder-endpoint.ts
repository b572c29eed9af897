/**
 * The endpoint through which other processes of this user reach the PGlite folder this process holds
 * (db/folder-endpoint.ts: why, and the file that tells them its port and token). On 127.0.0.1, on a free port; every
 * request must carry the token (`Authorization: Bearer <token>`), else it is answered 401.
 *
 * POST /sql runs one read-only statement as `melanoma sql` does (db/read-only.ts, `runReadOnlyInHeldFolder`);
 * POST /snapshot copies the folder for a command that reads it (db/folder-snapshot.ts) and answers the copy's path;
 * everything else is the results page (web/server.ts), which `melanoma serve` on the held folder passes on
 * (web/endpoint-proxy.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { serialize } from 'node:v8';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { UserError } from '../common/errors.ts';
import type { Database } from '../db/index.ts';
import { newEndpointToken, writeEndpointFile } from '../db/folder-endpoint.ts';
import { takeSnapshot } from '../db/folder-snapshot.ts';
import { runReadOnlyInHeldFolder } from '../db/read-only.ts';
import { createApp, listen } from './server.ts';

/** Statements running at once; each holds a copy of the folder and a PGlite in a worker. */
const MAX_STATEMENTS = 2;
const MAX_TIMEOUT_MS = 24 * 3600 * 1000;

const sqlRequest = z.strictObject({ sql: z.string().min(1).max(1_000_000), timeoutMs: z.number().min(1).max(MAX_TIMEOUT_MS) });
const snapshotRequest = z.strictObject({ into: z.string().min(1).max(4096) });

export interface FolderEndpointServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the endpoint of `db` (a PGlite folder this process holds) and writes its endpoint file. */
export async function startFolderEndpoint(o: { db: Database; dataDir: string | null; holder: string }): Promise<FolderEndpointServer> {
  if (o.db.kind !== 'pglite' || o.db.target === 'memory://') throw new Error(`a folder endpoint serves a PGlite folder, not ${o.db.target}`);
  const dir = o.db.target;
  const token = newEndpointToken();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requireToken(token));
  let running = 0;
  app.post('/sql', express.json({ limit: '2mb' }), async (req, res) => {
    const parsed = sqlRequest.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: `bad request: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, '; ')}` });
    if (running >= MAX_STATEMENTS) {
      return void res.status(503).json({ error: `it already runs ${running} statements; try again when one has finished.` });
    }
    running++;
    const abandoned = new AbortController();
    res.on('close', () => res.writableFinished || abandoned.abort());
    try {
      const output = await runReadOnlyInHeldFolder(dir, parsed.data, abandoned.signal);
      res.status(200).type('application/octet-stream').send(serialize(output));
    } catch (err) {
      if (abandoned.signal.aborted) return;
      if (err instanceof UserError) return void res.status(400).json({ error: err.message });
      process.stderr.write(`folder endpoint: POST /sql: ${err instanceof Error ? err.stack : String(err)}\n`);
      res.status(500).json({ error: 'internal error (see the log of the process that holds the folder).' });
    } finally {
      running--;
    }
  });
  app.post('/snapshot', express.json({ limit: '16kb' }), (req, res) => {
    const parsed = snapshotRequest.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: `bad request: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, '; ')}` });
    let folder: string;
    try {
      folder = takeSnapshot(dir, parsed.data.into);
    } catch (err) {
      if (err instanceof UserError) return void res.status(400).json({ error: err.message });
      throw err;
    }
    // A reader that went away before the answer reached it cannot delete the copy.
    res.on('close', () => res.writableFinished || rmSync(folder, { recursive: true, force: true }));
    res.status(200).json({ path: folder });
  });
  app.use(createApp({ db: o.db, dataDir: o.dataDir }));
  const server = await listen(app, '127.0.0.1', 0);
  let removeFile: () => void;
  try {
    removeFile = writeEndpointFile(dir, { holder: o.holder, port: server.port, token });
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    url: server.url,
    async close() {
      removeFile();
      await server.close();
    },
  };
}

/** 401 unless the request carries `token` (compared in constant time). */
function requireToken(token: string) {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = digest(`Bearer ${token}`);
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('authorization');
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return next();
    res.status(401).set('Cache-Control', 'no-store').json({ error: 'this endpoint answers only requests that carry its token.', status: 401 });
  };
}
