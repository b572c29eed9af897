/**
 * The page's predictions of new images and its saliency maps (web/README.md): the upload's bytes stay in memory,
 * go to the prediction thread (web/predictor.ts) and are never written anywhere. Only this machine is answered,
 * whatever address the server listens on: these requests run the models on the server's processor.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { UserError } from '../common/errors.ts';
import { predictingRun, predictionSetup, type Database } from '../db/index.ts';
import { checkLesionImage } from '../study/data/lesion-image.ts';
import { predictionBackend, predictionDocument } from '../study/prediction.ts';
import type { DatasetImages } from './dataset-images.ts';
import { HttpError, badRequest, notFound } from './http-errors.ts';
import { fileIdParam, idParam, noQuery, parse, predictQuery } from './params.ts';
import type { Predictor } from './predictor.ts';
import { experimentExists, runExists } from '../db/index.ts';

export const MAX_UPLOAD_BYTES = 10 * 2 ** 20;
/** The content types an upload may have. */
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/tiff'] as const;
/** The POST requests the page accepts; the rest of the server answers GET and HEAD only. */
export const POST_PATHS = [/^\/api\/experiments\/[^/]+\/predict$/, /^\/api\/runs\/[^/]+\/saliency$/];
const UPLOAD_NAME = 'the uploaded image';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.test(address);
}

export function predictRouter(o: { db: Database; images: DatasetImages | null; predictor: Predictor | null }): Router {
  const { db } = o;
  const api = Router();

  const guard = (req: Request, _res: Response, next: NextFunction) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      return next(new HttpError(403, 'predictions and saliency maps are served to this machine only: they run the models on the server.'));
    }
    if (!o.predictor)
      return next(
        new HttpError(404, 'this server does not run the models (a page relayed from the process that holds the database): open the page that process serves.'),
      );
    next();
  };
  const predictor = () => o.predictor!;

  const upload = express.raw({ type: () => true, limit: MAX_UPLOAD_BYTES });
  const imageBody = (req: Request, res: Response, next: NextFunction) => {
    const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase(); // split gives at least one part
    if (!(UPLOAD_TYPES as readonly string[]).includes(type)) {
      return next(new HttpError(415, `the upload must be an image sent as ${UPLOAD_TYPES.join(', ')}, not '${type || 'no content type'}'.`));
    }
    upload(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large')
        return next(new HttpError(413, `the image is over the ${MAX_UPLOAD_BYTES / 2 ** 20} MB an upload may have.`));
      if (err) return next(err);
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) return next(badRequest('bad request: no image in the request body.'));
      next();
    });
  };
  const id = async (req: Request, what: 'experiment' | 'run'): Promise<number> => {
    const r = idParam.safeParse(String(req.params.id));
    if (!r.success || !(await (what === 'run' ? runExists : experimentExists)(db, r.data))) throw notFound(`${what} '${req.params.id}'`);
    return r.data;
  };
  const bytes = (req: Request) => new Uint8Array(req.body as Buffer);

  api.post('/experiments/:id/predict', guard, imageBody, async (req, res) => {
    const q = parse(predictQuery, req.query, 'query');
    const experiment = await id(req, 'experiment');
    const setup = await predictionSetup(db, { experiment, model: q.model });
    const image = bytes(req);
    await checkLesionImage(image, UPLOAD_NAME, Math.max(...setup.runs.map((r) => r.imageSize)));
    const tta = q.tta ?? 1;
    const backend = predictionBackend(setup.runs);
    const rows = await predictor().predict({
      kind: 'predict',
      backend,
      runs: setup.runs,
      images: [{ name: UPLOAD_NAME, source: image }],
      tta,
      augment: setup.augment,
    });
    const doc = predictionDocument(
      { experiment: setup.experiment, model: setup.model, chosenBy: setup.chosenBy, backend, tta, runs: setup.runs, rules: setup.rules },
      [{ image: UPLOAD_NAME, probabilities: rows[0]! }], // one image, one row
    );
    res.set('Cache-Control', 'no-store').json(doc);
  });

  const sendSaliency = async (res: Response, run: Awaited<ReturnType<typeof predictingRun>>, image: { name: string; source: string | Uint8Array }) => {
    const s = await predictor().saliency({ kind: 'saliency', backend: predictionBackend([run]), run, image });
    res.type('png').set({ 'X-Saliency-Layer': s.layer, 'X-Saliency-Grid': `${s.height}x${s.width}`, 'X-Probability': String(s.probability) });
    res.send(Buffer.from(s.png));
  };

  api.post('/runs/:id/saliency', guard, imageBody, async (req, res) => {
    parse(noQuery, req.query, 'query');
    const run = await predictingRun(db, await id(req, 'run'));
    const image = bytes(req);
    await checkLesionImage(image, UPLOAD_NAME, run.imageSize);
    res.set('Cache-Control', 'no-store');
    await sendSaliency(res, run, { name: UPLOAD_NAME, source: image });
  });

  api.get('/runs/:id/saliency/:fileId', guard, async (req, res) => {
    parse(noQuery, req.query, 'query');
    const run = await predictingRun(db, await id(req, 'run'));
    const f = fileIdParam.safeParse(String(req.params.fileId));
    if (!f.success) throw badRequest(`bad request: file id '${req.params.fileId}' must be a non-negative integer (an index into the dataset listing).`);
    if (!o.images) throw new HttpError(404, 'no dataset folder: start the server with --data DIR to see where a run looks in its images.');
    const path = await o.images.servablePath(run.datasetFingerprint, f.data);
    if (path === null) throw notFound(`dataset file ${f.data} of the run's dataset`);
    res.set('Cache-Control', 'max-age=3600');
    await sendSaliency(res, run, { name: `dataset file ${f.data}`, source: path });
  });

  // A UserError from the database reads (no completed run of the model, a checkpoint not on this machine) is the request's.
  api.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => next(err instanceof UserError ? badRequest(err.message) : err));
  return api;
}
