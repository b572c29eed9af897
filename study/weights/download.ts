/**
 * The official Keras Applications weight files the study can use, the folder they are cached in, and a resumable,
 * verified HTTP download: bytes go to `<file>.part` (continued with an HTTP Range request when it exists), the
 * finished file is checked (md5, or that it opens as a Keras HDF5 weight file where no hash is published) and only
 * then renamed to its final name. `ensurePretrained` does this on a model's first use, as Keras does with
 * weights='imagenet'.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteProgress } from '../../common/download-progress.ts';
import { UserError } from '../../common/errors.ts';
import {
  defaultWeightDirs,
  locatePretrained,
  PRETRAINED,
  PRETRAINED_NAMES,
  pretrainedUrl,
  weightsCacheDir,
  type PretrainedName,
  type WeightsLocation,
} from './pretrained.ts';
import { readH5Weights } from './keras-h5.ts';

/** Bytes received; resumedFrom: bytes already in the .part file when this download started. */
export type DownloadProgress = ByteProgress;

export interface DownloadOptions {
  url: string;
  /** Final path of the file; the download goes to `${dest}.part` first. */
  dest: string;
  md5: string | null;
  /** Extra check of the finished file; throwing rejects it (the .part file is deleted). */
  check?: (path: string) => Promise<void>;
  onProgress?: (p: DownloadProgress) => void;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  md5: string;
  resumedFrom: number;
  /** The file was already there and passed its check; nothing was downloaded. */
  alreadyCached: boolean;
}

export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, md5 } = opts;
  if (existsSync(dest)) {
    const actual = await md5File(dest);
    if (md5 === null || actual === md5) {
      return { path: dest, bytes: statSync(dest).size, md5: actual, resumedFrom: 0, alreadyCached: true };
    }
    // A damaged copy: download again; it is replaced only once the new file has passed its check.
  }
  const part = `${dest}.part`;
  mkdirSync(dirname(dest), { recursive: true });
  let resumedFrom = existsSync(part) ? statSync(part).size : 0;

  let res = await get(url, resumedFrom);
  if (res.status === 416) {
    // The server has nothing past what the .part file holds (finished, or from another file): start over.
    await res.body?.cancel();
    unlinkSync(part);
    resumedFrom = 0;
    res = await get(url, 0);
  }
  if (res.status === 200)
    resumedFrom = 0; // the server ignored the Range request and sends everything
  else if (res.status === 206) {
    const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (start === null || Number(start[1]) !== resumedFrom) {
      await res.body?.cancel();
      throw new UserError(`${url}: the server resumed at the wrong offset (${res.headers.get('content-range')}); delete ${part} and try again.`);
    }
  } else {
    await res.body?.cancel();
    throw new UserError(`cannot download ${url}: HTTP ${res.status} ${res.statusText}.`);
  }
  const total = totalSize(res, resumedFrom);
  if (res.body === null) throw new UserError(`cannot download ${url}: HTTP ${res.status} with no body.`);
  let received = resumedFrom;
  opts.onProgress?.({ resumedFrom, received, total });
  // Each chunk is on disk before the next is read, so a broken connection leaves everything received to resume from.
  const file = await open(part, resumedFrom > 0 ? 'a' : 'w');
  try {
    for await (const chunk of Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
      await file.write(chunk as Uint8Array);
      received += (chunk as Uint8Array).length;
      opts.onProgress?.({ resumedFrom, received, total });
    }
  } catch (err) {
    throw new UserError(`download of ${url} broke off after ${received} bytes (${describe(err)}); run the command again to resume.`);
  } finally {
    await file.close();
  }
  if (total !== null && received !== total) {
    throw new UserError(`download of ${url} stopped at ${received} of ${total} bytes; run the command again to resume.`);
  }

  const actual = await md5File(part);
  if (md5 !== null && actual !== md5) {
    unlinkSync(part);
    throw new UserError(`${url}: md5 of the downloaded file is ${actual}, expected ${md5}; the partial file was deleted, try again.`);
  }
  if (opts.check) {
    try {
      await opts.check(part);
    } catch (err) {
      unlinkSync(part);
      throw new UserError(`${url}: the downloaded file failed its check (${describe(err)}); the partial file was deleted.`);
    }
  }
  renameSync(part, dest);
  return { path: dest, bytes: received, md5: actual, resumedFrom, alreadyCached: false };
}

async function get(url: string, from: number): Promise<Response> {
  try {
    return await fetch(url, { headers: from > 0 ? { Range: `bytes=${from}-` } : {} });
  } catch (err) {
    throw new UserError(`cannot download ${url}: ${describe(err)}.`);
  }
}

function totalSize(res: Response, resumedFrom: number): number | null {
  const range = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = res.headers.get('content-length');
  return length === null ? null : resumedFrom + Number(length);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}

/** A Keras weight file opens as HDF5 and lists its layers. */
export async function checkKerasH5(path: string): Promise<void> {
  const h5 = await readH5Weights(path);
  if (h5.tensors.length === 0) throw new UserError(`${path} holds no weight tensors.`);
}

export interface PretrainedDownloadOptions {
  dir?: string;
  url?: string;
  /** Overrides the published md5 (null: check that the file opens as a Keras HDF5 weight file instead). */
  md5?: string | null;
  onProgress?: (p: DownloadProgress) => void;
}

export async function downloadPretrained(name: PretrainedName, opts: PretrainedDownloadOptions = {}): Promise<DownloadResult> {
  const entry = PRETRAINED[name];
  const md5 = opts.md5 === undefined ? entry.md5 : opts.md5;
  return downloadFile({
    url: opts.url ?? pretrainedUrl(name),
    dest: join(opts.dir ?? weightsCacheDir(), entry.file),
    md5,
    check: md5 === null ? checkKerasH5 : undefined,
    onProgress: opts.onProgress,
  });
}

export interface EnsureOptions {
  /** --weights: a file or folder used as given, never downloaded into. */
  weights?: string | null;
  /** Where $MELANOMA_WEIGHTS and $MELANOMA_WEIGHTS_URL are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** What the user can do instead when the download fails, e.g. 'or run the study with MobileNetV2 instead: ...'. */
  alternative: string;
  /** Overrides the published md5 (tests serve small files). */
  md5?: string | null;
  /** Called once before a download starts. */
  onDownload?: (url: string, dest: string) => void;
  onProgress?: (p: DownloadProgress) => void;
}

export interface EnsuredWeights {
  location: WeightsLocation;
  /** The download that fetched them, or null when they were already there. */
  download: DownloadResult | null;
}

/**
 * A model's ImageNet weights, downloaded into the cache on first use as Keras does with weights='imagenet'
 * (verified, resumable). --weights is taken as given. When the download fails the error is one line naming the
 * file, the cache folder to put it in, and `alternative`.
 */
export async function ensurePretrained(name: PretrainedName, o: EnsureOptions): Promise<EnsuredWeights> {
  const env = o.env ?? process.env;
  if (o.weights != null) {
    try {
      return { location: locatePretrained(name, o.weights, env), download: null };
    } catch (err) {
      throw new UserError(`${describe(err).replace(/\.$/, '')}, ${o.alternative}.`);
    }
  }
  try {
    return { location: locatePretrained(name, null, env), download: null };
  } catch {
    // Not in any weights folder: download it below.
  }
  const dir = weightsCacheDir(env);
  const url = pretrainedUrl(name, env);
  const file = PRETRAINED[name].file;
  o.onDownload?.(url, join(dir, file));
  try {
    const download = await downloadPretrained(name, { dir, url, md5: o.md5, onProgress: o.onProgress });
    return { location: { format: 'h5', path: download.path }, download };
  } catch (err) {
    const reason = describe(err)
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\.$/, '');
    throw new UserError(
      `the ${name} model needs its ImageNet weights ${file}, in none of ${defaultWeightDirs(env).join(', ')}, and the download failed (${reason}); ` +
        `put ${file} in ${dir} (\`melanoma weights download ${name}\` fetches it on a machine with internet access) or pass --weights FILE_OR_FOLDER, ${o.alternative}.`,
    );
  }
}

export interface CachedFile {
  name: string;
  path: string;
  bytes: number;
  /** Which pretrained model it is, if it is one of the known files. */
  model: PretrainedName | null;
  partial: boolean;
}

/** What a weights folder holds: known files first, then anything else (e.g. a TensorFlow.js export). */
export function listCachedWeights(dir: string): CachedFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const partial = name.endsWith('.part');
      const base = partial ? name.slice(0, -'.part'.length) : name;
      const model = PRETRAINED_NAMES.find((n) => PRETRAINED[n].file === base) ?? null;
      const bytes = statSync(path).isDirectory() ? dirSize(path) : statSync(path).size;
      return { name, path, bytes, model, partial };
    })
    .sort((a, b) => Number(b.model !== null) - Number(a.model !== null));
}

function dirSize(dir: string): number {
  return readdirSync(dir).reduce((n, name) => {
    const s = statSync(join(dir, name));
    return n + (s.isDirectory() ? dirSize(join(dir, name)) : s.size);
  }, 0);
}
