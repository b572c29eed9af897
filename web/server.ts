/**
 * The results web page: an Express 5 app, read-only over the database, with a JSON API behind every view
 * (web/README.md) and the views themselves (plain HTML + ES modules in web/public, Chart.js from node_modules).
 */
import { createRequire } from 'node:module';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Database } from '../db/index.ts';
import type { LiveFeed } from '../study/live.ts';
import { UserError } from '../common/errors.ts';
import { apiRouter } from './api.ts';
import { DatasetImages } from './dataset-images.ts';
import { HttpError, notFound } from './http-errors.ts';
import { METRICS_MODULE } from './metrics-module.ts';
import { errorPage, viewPage } from './pages.ts';
import { comparePageQuery, experimentsComparePageQuery, idParam, parse, predictPageQuery } from './params.ts';
import { POST_PATHS, predictRouter } from './predict-api.ts';
import { threadPredictor, type Predictor } from './predictor.ts';
import { experimentExists, firstModel, firstUnknownExperiment, runExists } from '../db/index.ts';

export interface ServerOptions {
  db: Database;
  /** Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Dataset folder for the Dataset view; null or absent leaves that view empty with a message. */
  dataDir?: string | null;
  /** The orchestrator's in-memory progress of its running runs (orchestrate --serve). */
  live?: LiveFeed | null;
  /** Where the upload form's predictions and the saliency maps run: default, a worker thread; null, none. */
  predictor?: Predictor | null;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const PUBLIC_DIR = join(import.meta.dirname, 'public');
const CHART_JS = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');
const READ_METHODS = new Set(['GET', 'HEAD']);

export function createApp(o: { db: Database; dataDir?: string | null; live?: LiveFeed | null; predictor?: Predictor | null }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const images = o.dataDir ? new DatasetImages(o.dataDir) : null;

  app.use((req, res, next) => {
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    });
    if (READ_METHODS.has(req.method)) return next();
    if (req.method === 'POST' && POST_PATHS.some((p) => p.test(req.path))) return next();
    res.set('Allow', 'GET, HEAD');
    next(new HttpError(405, `method ${req.method} is not allowed: this server is read-only (GET, HEAD; POST only to predict an uploaded image).`));
  });

  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/static/favicon.svg'));
  app.get('/vendor/chart.umd.js', (_req, res) => res.sendFile(CHART_JS, { maxAge: '1h' }));
  app.get('/static/metrics.js', (_req, res) => res.type('js').set('Cache-Control', 'no-cache').send(METRICS_MODULE));
  app.use('/static', express.static(PUBLIC_DIR, { index: false, dotfiles: 'ignore', redirect: false, maxAge: 0 }));
  app.use('/api', predictRouter({ db: o.db, images, predictor: o.predictor ?? null }));
  app.use('/api', apiRouter({ db: o.db, images, live: o.live }));

  const html = (view: Parameters<typeof viewPage>[0]) => (_req: Request, res: Response) => {
    res.type('html').set('Cache-Control', 'no-store').send(viewPage(view));
  };
  const pathId = (what: string, value: string): number => {
    const r = idParam.safeParse(value);
    if (!r.success) throw notFound(`${what} '${value}'`);
    return r.data;
  };
  const experiment = async (req: Request) => {
    const id = pathId('experiment', String(req.params.id));
    if (!(await experimentExists(o.db, id))) throw notFound(`experiment ${id}`);
    return id;
  };

  app.get('/', html('experiments'));
  app.get('/dataset', html('dataset'));
  app.get('/predict', async (req, res) => {
    const { experiment: chosen } = parse(predictPageQuery, req.query, 'query');
    if (chosen !== undefined && !(await experimentExists(o.db, chosen))) throw notFound(`experiment ${chosen}`);
    html('predict')(req, res);
  });
  app.get('/compare', async (req, res) => {
    const { experiments } = parse(experimentsComparePageQuery, req.query, 'query');
    const unknown = await firstUnknownExperiment(o.db, experiments);
    if (unknown !== undefined) throw notFound(`experiment ${unknown}`);
    html('experiments-compare')(req, res);
  });
  app.get('/experiments/:id', async (req, res) => {
    await experiment(req);
    html('experiment')(req, res);
  });
  app.get('/experiments/:id/compare', async (req, res) => {
    const id = await experiment(req);
    const q = parse(comparePageQuery, req.query, 'query');
    if (!q.model) {
      // No model chosen: the experiment's first one.
      const first = await firstModel(o.db, id);
      if (!first) throw new HttpError(404, `experiment ${id} has no runs to compare.`);
      return res.redirect(302, `/experiments/${id}/compare?${new URLSearchParams({ ...q, model: first })}`);
    }
    html('compare')(req, res);
  });
  app.get('/runs/:id', async (req, res) => {
    const id = pathId('run', String(req.params.id));
    if (!(await runExists(o.db, id))) throw notFound(`run ${id}`);
    html('run')(req, res);
  });

  app.use((req, _res, next) => next(notFound(`${req.path}`)));

  // JSON for /api, an HTML page for the rest; a user error (e.g. an unreadable image) keeps its message, anything
  // else is logged and answered with a generic 500.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let message = 'internal error (see the server log).';
    if (err instanceof HttpError) [status, message] = [err.status, err.message];
    else if (err instanceof UserError) message = err.message;
    else if (typeof (err as { status?: unknown })?.status === 'number' && (err as { status: number }).status < 500) {
      status = (err as { status: number }).status; // body-parser / static errors (e.g. a malformed URI)
      message = (err as Error).message;
    } else process.stderr.write(`web: ${req.method} ${req.originalUrl}: ${err instanceof Error ? err.stack : String(err)}\n`);
    if (res.headersSent) return res.end();
    res.status(status).set('Cache-Control', 'no-store');
    if (req.path.startsWith('/api/') || req.path === '/api') res.json({ error: message, status });
    else res.type('html').send(errorPage(status, message));
  });
  return app;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const predictor = o.predictor === undefined ? threadPredictor() : o.predictor;
  const server = await listen(createApp({ ...o, predictor }), o.host ?? '127.0.0.1', o.port ?? 8080).catch(async (err) => {
    await predictor?.close();
    throw err;
  });
  return {
    ...server,
    close: async () => {
      await server.close();
      await predictor?.close();
    },
  };
}

/** Serves `handler` on host:port (0: a free port); a port in use or an unknown address is a UserError. */
export async function listen(handler: RequestListener, host: string, port: number): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(handler);
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new UserError(`cannot serve on ${host}:${port}: the port is in use (pick another with --port).`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new UserError(`cannot serve on ${host}: no such address on this machine.`);
    throw err;
  });
  const { port: bound } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
