/**
 * The endpoint of the process that holds a PGlite folder (the orchestrator, `melanoma serve`): a PGlite folder admits
 * one process, so while it is held, `melanoma sql` and a second `melanoma serve` reach its data through the holder.
 * The endpoint (web/folder-endpoint.ts) listens on 127.0.0.1 only and answers only requests that carry its random
 * token; its port and token are in `ENDPOINT_FILE`, in the folder, readable by its owner only (mode 0600), so other
 * users of the machine cannot use it. This module writes and finds that file, and sends a statement to the endpoint.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { UserError } from '../common/errors.ts';
import type { QueryOutput } from './client.ts';
import { liveLockOwner } from './folder-lock.ts';

export const ENDPOINT_FILE = 'melanoma.endpoint';

export interface FolderEndpoint {
  pid: number;
  /** Who holds the folder, for messages: 'orchestrator', 'melanoma serve'. */
  holder: string;
  port: number;
  token: string;
}

/** Files of ours in a PGlite folder that are not the database's: the endpoint file and its temporary twin. */
export function isEndpointFile(name: string): boolean {
  return name === ENDPOINT_FILE || name.startsWith(`${ENDPOINT_FILE}.`);
}

export function newEndpointToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes the endpoint file of folder `dir`, which this process holds, with mode 0600 from its creation on (written
 * under a temporary name, then renamed, so that a reader never sees half of it). Returns the function that removes it.
 */
export function writeEndpointFile(dir: string, endpoint: Omit<FolderEndpoint, 'pid'>): () => void {
  const file = join(dir, ENDPOINT_FILE);
  const temporary = `${file}.${process.pid}`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, JSON.stringify({ pid: process.pid, ...endpoint }) + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
  const remove = () => {
    if (readEndpointFile(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  process.once('exit', remove);
  return () => {
    process.removeListener('exit', remove);
    remove();
  };
}

/** The endpoint of the live process that holds folder `dir`; null when none holds it, or its holder offers none. */
export function findEndpoint(dir: string): FolderEndpoint | null {
  const owner = liveLockOwner(dir);
  if (!owner) return null;
  const endpoint = readEndpointFile(join(dir, ENDPOINT_FILE));
  return endpoint?.pid === owner.pid ? endpoint : null; // another pid: left by an earlier holder that was killed
}

function readEndpointFile(file: string): FolderEndpoint | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (['ENOENT', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw err;
  }
  try {
    const e = JSON.parse(text) as Partial<FolderEndpoint>;
    const valid = typeof e.pid === 'number' && typeof e.holder === 'string' && Number.isInteger(e.port) && typeof e.token === 'string';
    return valid ? (e as FolderEndpoint) : null;
  } catch {
    return null;
  }
}

/** The request web/folder-endpoint.ts answers at POST /sql (JSON); it answers 200 with the v8-serialized QueryOutput. */
export interface EndpointSqlRequest {
  sql: string;
  timeoutMs: number;
}

/**
 * Runs the statement through the endpoint. 'gone': nothing listens on its port (the holder ended after the endpoint
 * file was read), so the caller may open the folder itself. The endpoint's refusals and query errors become UserErrors.
 */
export async function queryThroughEndpoint(endpoint: FolderEndpoint, request: EndpointSqlRequest): Promise<QueryOutput | 'gone'> {
  const body: EndpointSqlRequest = { sql: request.sql, timeoutMs: request.timeoutMs };
  const data = await postToEndpoint(endpoint, '/sql', body, 'the statement');
  return data === 'gone' ? data : (deserialize(data) as QueryOutput);
}

/** The request web/folder-endpoint.ts answers at POST /snapshot (JSON): a copy of the folder in a new folder in `into`. */
export interface EndpointSnapshotRequest {
  into: string;
}

/**
 * Asks the holder for a copy of its folder in a new folder in `into` (db/folder-snapshot.ts), and returns the path
 * it answers, unchecked; 'gone' as for `queryThroughEndpoint`.
 */
export async function requestSnapshot(endpoint: FolderEndpoint, into: string): Promise<unknown> {
  const data = await postToEndpoint(endpoint, '/snapshot', { into } satisfies EndpointSnapshotRequest, 'the copy of the folder');
  if (data === 'gone') return data;
  try {
    return (JSON.parse(data.toString('utf8')) as { path?: unknown }).path;
  } catch {
    return undefined;
  }
}

/** POSTs `body` as JSON to the endpoint; its 200 answer's bytes, or 'gone'; other answers become errors. */
function postToEndpoint(endpoint: FolderEndpoint, path: string, body: unknown, what: string): Promise<Buffer | 'gone'> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: endpoint.port,
        agent: false, // a connection of its own: a kept-alive one may be closed by the server just as it is reused
        method: 'POST',
        path,
        headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const data = Buffer.concat(chunks);
          if (res.statusCode === 200) return resolve(data);
          let message = `HTTP ${res.statusCode}`;
          try {
            message = (JSON.parse(data.toString('utf8')) as { error: string }).error ?? message;
          } catch {}
          const from = `the ${endpoint.holder} (pid ${endpoint.pid}) that holds the folder`;
          if (res.statusCode === 400) reject(new UserError(message));
          else if (res.statusCode === 503) reject(new UserError(`${from} is busy: ${message}`));
          else reject(new Error(`${from} answered ${message}`));
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve('gone');
      else reject(new UserError(`the ${endpoint.holder} (pid ${endpoint.pid}) that holds the folder broke off ${what} (${err.message}); nothing was changed.`));
    });
    req.end(text);
  });
}
