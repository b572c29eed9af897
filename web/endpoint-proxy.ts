/**
 * `melanoma serve` on a PGlite folder that another process holds: the results page of that process's folder
 * endpoint (web/folder-endpoint.ts), passed on request by request with the endpoint's token added, on the host and
 * port `melanoma serve` was given. The page is the holder's, live: what it shows is what the holder's database holds.
 */
import { type IncomingMessage, type ServerResponse, request as httpRequest } from 'node:http';
import type { FolderEndpoint } from '../db/folder-endpoint.ts';
import { listen, type RunningServer } from './server.ts';

/** Headers that belong to one connection, not to the request (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export function startEndpointProxy(endpoint: FolderEndpoint, host: string, port: number): Promise<RunningServer> {
  return listen((req, res) => passOn(endpoint, req, res), host, port);
}

const endToEnd = (headers: IncomingMessage['headers']) => Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

function passOn(endpoint: FolderEndpoint, req: IncomingMessage, res: ServerResponse): void {
  const headers = endToEnd(req.headers);
  const upstream = httpRequest(
    {
      host: '127.0.0.1',
      port: endpoint.port,
      agent: false, // a connection per request: a kept-alive one may be closed by the endpoint just as it is reused
      method: req.method,
      path: req.url,
      headers: { ...headers, host: `127.0.0.1:${endpoint.port}`, authorization: `Bearer ${endpoint.token}` },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `The ${endpoint.holder} (pid ${endpoint.pid}) whose page this is does not answer (${err.message}): it has probably finished; restart melanoma serve to open the folder itself.\n`,
    );
  });
  req.pipe(upstream);
}
