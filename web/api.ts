/** The JSON API (documented in web/README.md): the numbers behind every view, read-only. */
import { Router, type Request } from 'express';
import { firstUnknownExperiment, type Database } from '../db/index.ts';
import type { LiveFeed } from '../study/live.ts';
import { DEFAULT_IMAGE_SIZE } from '../study/protocol.ts';
import type { ExperimentAnswer, MisclassifiedAnswer, PredictionsAnswer, RunAnswer } from './api-types.ts';
import { experimentCalibration, runCalibration } from './calibration.ts';
import { DEFAULT_AUGMENT_SEED, type DatasetImages } from './dataset-images.ts';
import { HttpError, badRequest, notFound } from './http-errors.ts';
import {
  augmentedQuery,
  compareQuery,
  experimentsCompareQuery,
  fileIdParam,
  idParam,
  imageQuery,
  misclassifiedQuery,
  noQuery,
  parse,
  splitQuery,
  thresholdQuery,
} from './params.ts';
import { METRIC_INFO } from './metrics-module.ts';
import * as q from './queries.ts';
import { ReadCache } from './read-cache.ts';
import { reproductionReport } from './reproduction.ts';

/**
 * `live`: the in-memory feed of the orchestrator serving this page (`orchestrate --serve`): a running run's progress
 * inside its epoch and the experiment's time left. Absent (`melanoma serve`), those fields are null.
 */
export function apiRouter(o: { db: Database; images: DatasetImages | null; live?: LiveFeed | null }): Router {
  const { db } = o;
  const api = Router();
  const cache = new ReadCache(db.writes);
  /** Whether an answer shows no running clock (a running experiment's or run's duration so far). */
  const settled = (x: { status: string } | null) => x?.status !== 'running';

  const id = (req: Request, what: string): number => {
    const raw = String(req.params.id);
    const r = idParam.safeParse(raw);
    if (!r.success) throw notFound(`${what} '${raw}'`);
    return r.data;
  };
  const found = <T>(value: T | null, what: string): T => {
    if (value === null) throw notFound(what);
    return value;
  };
  const images = (): DatasetImages => {
    if (!o.images) throw new HttpError(404, 'no dataset folder: start the server with --data DIR (or set $MELANOMA_DATA) to see the dataset.');
    return o.images;
  };
  const fileId = (req: Request): number => {
    const raw = String(req.params.fileId);
    const r = fileIdParam.safeParse(raw);
    if (!r.success) throw badRequest(`bad request: file id '${raw}' must be a non-negative integer (an index into the dataset listing).`);
    return r.data;
  };

  /** Adds each image's dataset file id (for its thumbnail): null without a dataset folder, or for another dataset. */
  const withFileIds = async <T extends { image: string }>(fingerprint: string | null, rows: T[]): Promise<(T & { fileId: number | null })[]> => {
    const ids =
      o.images && fingerprint !== null
        ? await o.images
            .fileIds(
              fingerprint,
              rows.map((r) => r.image),
            )
            .catch(() => null)
        : null;
    return rows.map((r, i) => ({ ...r, fileId: ids?.[i] ?? null }));
  };

  api.get('/metrics', (req, res) => {
    parse(noQuery, req.query, 'query');
    res.json(METRIC_INFO);
  });
  api.get('/experiments', async (req, res) => {
    parse(noQuery, req.query, 'query');
    res.json(await cache.get('experiments', { keep: (list) => list.every(settled) }, () => q.listExperiments(db)));
  });
  api.get('/compare', async (req, res) => {
    const { experiments } = parse(experimentsCompareQuery, req.query, 'query');
    const unknown = await firstUnknownExperiment(db, experiments);
    if (unknown !== undefined) throw notFound(`experiment ${unknown}`);
    const view = await cache.get(`compare:${experiments.join(',')}`, { keep: (v) => !v || v.experiments.every(settled) }, () =>
      q.compareExperiments(db, experiments),
    );
    res.json(found(view, `experiment in ${experiments.join(', ')}`));
  });
  api.get('/experiments/:id', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const x = id(req, 'experiment');
    const experiment = found(await cache.get(`experiment:${x}`, { keep: settled }, () => q.getExperiment(db, x)), `experiment ${x}`);
    res.json({ ...experiment, estimate: o.live?.estimate(x) ?? null } satisfies ExperimentAnswer);
  });
  api.get('/experiments/:id/summary', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const x = id(req, 'experiment');
    res.json(found(await cache.get(`summary:${x}`, {}, () => q.experimentSummary(db, x)), `experiment ${x}`));
  });
  api.get('/experiments/:id/compare', async (req, res) => {
    const x = id(req, 'experiment');
    const { model } = parse(compareQuery, req.query, 'query');
    res.json(found(await cache.get(`compare-runs:${x}:${model}`, {}, () => q.compareRuns(db, x, model)), `experiment ${x}`));
  });
  api.get('/experiments/:id/ensemble', async (req, res) => {
    const x = id(req, 'experiment');
    const { split } = parse(splitQuery, req.query, 'query');
    const s = split ?? 'test';
    res.json(found(await cache.get(`ensemble:${x}:${s}`, {}, () => q.ensemble(db, x, s)), `experiment ${x}`));
  });
  api.get('/experiments/:id/bands', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const x = id(req, 'experiment');
    res.json(found(await q.experimentBands(db, x), `experiment ${x}`));
  });
  api.get('/experiments/:id/operating-points', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const x = id(req, 'experiment');
    res.json(found(await q.experimentOperatingPoints(db, x), `experiment ${x}`));
  });
  api.get('/experiments/:id/threshold', async (req, res) => {
    const x = id(req, 'experiment');
    const p = parse(thresholdQuery, req.query, 'query');
    res.json(found(await q.experimentAtThreshold(db, x, p.split ?? 'test', p.threshold), `experiment ${x}`));
  });
  api.get('/experiments/:id/calibration', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const x = id(req, 'experiment');
    res.json(found(await cache.get(`calibration:${x}`, {}, () => experimentCalibration(db, x)), `experiment ${x}`));
  });
  api.get('/experiments/:id/reproduction', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const x = id(req, 'experiment');
    res.json(found(await reproductionReport(db, x), `experiment ${x}`));
  });
  api.get('/experiments/:id/misclassified', async (req, res) => {
    const x = id(req, 'experiment');
    const p = parse(misclassifiedQuery, req.query, 'query');
    const [s, limit] = [p.split ?? 'test', p.limit ?? 24];
    const view = found(await cache.get(`misclassified:${x}:${p.model}:${s}:${limit}`, {}, () => q.misclassified(db, x, p.model, s, limit)), `experiment ${x}`);
    res.json({ ...view, images: await withFileIds(view.datasetFingerprint, view.images) } satisfies MisclassifiedAnswer);
  });
  api.get('/runs/:id', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const r = id(req, 'run');
    // A running run is never cached (settled), so its heartbeat is current; `live` comes from memory.
    const run = found(await cache.get(`run:${r}`, { runId: r, keep: settled }, () => q.getRun(db, r)), `run ${r}`);
    res.json({ ...run, live: run.status === 'running' ? (o.live?.run(r) ?? null) : null } satisfies RunAnswer);
  });
  api.get('/runs/:id/epochs', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const r = id(req, 'run');
    res.json(found(await cache.get(`epochs:${r}`, { runId: r }, () => q.runEpochs(db, r)), `run ${r}`));
  });
  api.get('/runs/:id/curves', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const r = id(req, 'run');
    res.json(found(await cache.get(`curves:${r}`, { runId: r }, () => q.runCurves(db, r)), `run ${r}`));
  });

  api.get('/runs/:id/predictions', async (req, res) => {
    const { split } = parse(splitQuery, req.query, 'query');
    const r = id(req, 'run');
    const s = split ?? 'test';
    const view = found(await cache.get(`predictions:${r}:${s}`, { runId: r }, () => q.runPredictions(db, r, s)), `run ${r}`);
    res.json({ ...view, predictions: await withFileIds(view.datasetFingerprint, view.predictions) } satisfies PredictionsAnswer);
  });
  api.get('/runs/:id/calibration', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const r = id(req, 'run');
    res.json(found(await cache.get(`run-calibration:${r}`, { runId: r }, () => runCalibration(db, r)), `run ${r}`));
  });
  api.get('/runs/:id/operating-points', async (req, res) => {
    parse(noQuery, req.query, 'query');
    const r = id(req, 'run');
    res.json(found(await q.runOperatingPoints(db, r), `run ${r}`));
  });

  api.get('/dataset', async (req, res) => {
    parse(noQuery, req.query, 'query');
    res.json(await images().summary());
  });
  api.get('/dataset/duplicates', async (req, res) => {
    parse(noQuery, req.query, 'query');
    res.json(await images().duplicates());
  });
  api.get('/dataset/images/:fileId', async (req, res) => {
    const { size } = parse(imageQuery, req.query, 'query');
    const f = fileId(req);
    const jpeg = found(await images().jpeg(f, size ?? DEFAULT_IMAGE_SIZE), `dataset file ${f}`);
    res.type('jpeg').set('Cache-Control', 'max-age=3600').send(jpeg);
  });
  api.get('/dataset/augmented/:fileId', async (req, res) => {
    const p = parse(augmentedQuery, req.query, 'query');
    const f = fileId(req);
    const png = await images().augmentedPng(f, { seed: p.seed ?? DEFAULT_AUGMENT_SEED, epoch: p.epoch ?? 1, size: p.size ?? DEFAULT_IMAGE_SIZE });
    if (png === 'not-train') throw badRequest(`bad request: dataset file ${f} is not a training image (only the training subset is augmented).`);
    const body = found(png, `dataset file ${f}`); // before the content type: an error answers JSON
    res.type('png').set('Cache-Control', 'max-age=3600').send(body);
  });

  api.use((req, _res, next) => next(notFound(`API endpoint ${req.path}`)));
  return api;
}
