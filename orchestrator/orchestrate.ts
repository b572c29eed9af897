/**
 * The study as one job: plan every model x run index, check data and weights, record the plan in the database,
 * execute the runs on the slots, and print the summary read back from the database's metric_summary view.
 */
import { join, resolve } from 'node:path';
import { openDatabase, type Database, type RunCounts } from '../db/index.ts';
import { MODEL_DEFAULTS, STUDY_DEFAULTS, type BackendName, type ModelName, type RunSpec } from '../workers/protocol.ts';
import { checkModels, planRuns } from './plan.ts';
import { checkDataset, checkFlags, checkPretrainedWeights } from './preflight.ts';
import { plainProgress, ttyProgress, type Progress } from './progress.ts';
import { runScheduler } from './scheduler.ts';
import { createSlotRunner, type SlotRunner } from './slot-runner.ts';
import { checkGpusDistinguishable, planSlots, runnerMode, usableGpus } from './slots.ts';
import { openStore, type RunStore } from './store.ts';
import { formatSummary } from './summary.ts';

/** The study's four models; MobileNetV2 (`mobilenet`, `mobilenet-ft`) stands in for Xception where its weights are missing. */
export const STUDY_MODELS: readonly ModelName[] = ['baseline', 'augmented', 'xception', 'xception-ft'];

export interface OrchestrateOptions {
  runs: number;
  models: ModelName[];
  gpus?: number[];
  runsPerGpu: number;
  workers?: number;
  /** Allow more --workers than cores. */
  oversubscribe?: boolean;
  backend: BackendName;
  data?: string;
  db?: string;
  experiment: string;
  epochs?: number;
  imageSize: number;
  batchSize: number;
  seed: number;
  retries: number;
  out: string;
  /** Folder of frozen-trunk activations the runs share; false: none (default OUT/features). */
  featureCache?: string | false;
  weights?: string;
  serve?: boolean;
  host: string;
  port: number;
  json?: boolean;
  threadFile?: string;
  pollMs?: number;
}

/** Runs the study; resolves with the process exit code (0, 1 if a run failed for good, 130/143 when interrupted). */
export async function orchestrate(o: OrchestrateOptions): Promise<number> {
  const models = checkModels(o.models);
  checkFlags(o, models);
  let gpuNote: string | null = null; // detected GPUs that get no slot
  const slots = planSlots({ gpus: o.gpus, runsPerGpu: o.runsPerGpu, workers: o.workers, backend: o.backend }, () => {
    const usable = usableGpus(o.backend);
    gpuNote = usable.note;
    return usable.gpus;
  });
  if (o.gpus !== undefined) checkGpusDistinguishable(slots, o.backend); // detected GPUs are filtered by usableGpus
  const data = await checkDataset(o.data);
  if (!o.threadFile) await checkPretrainedWeights(models, o.weights ?? null);
  const plan = planRuns(models, o.runs, o.seed);
  const outRoot = resolve(o.out, o.experiment);
  const featureCacheDir = o.featureCache === false ? null : resolve(o.featureCache ?? join(o.out, 'features'));
  const localFolders = (model: ModelName, runIndex: number) => ({
    dataDir: data.dir,
    outDir: join(outRoot, `${model}-run${runIndex}`),
    featureCacheDir,
    weights: o.weights ? resolve(o.weights) : null,
  });
  const baseSpec = (model: ModelName, seed: number, runIndex: number): RunSpec => ({
    model,
    ...localFolders(model, runIndex),
    seed,
    epochs: o.epochs ?? MODEL_DEFAULTS[model].epochs,
    imageSize: o.imageSize,
    batchSize: o.batchSize,
    learningRate: MODEL_DEFAULTS[model].learningRate,
    patience: STUDY_DEFAULTS.patience,
    backend: o.backend,
    gpu: null,
    initFrom: null,
    cacheImages: true,
    saveAugmented: null,
  });

  const err = process.stderr;
  const say = (line: string) => err.write(line + '\n');
  if (gpuNote !== null) say(`warning: ${gpuNote}`);
  const database = await openDatabase(o.db);
  let server: { url: string; close(): Promise<void> } | null = null;
  let runners: SlotRunner[] = [];
  let store: RunStore | null = null;
  let progress: Progress | null = null;
  const stop = new AbortController();
  let stopSignal: NodeJS.Signals | null = null;
  let runsDone = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal) process.exit(sig === 'SIGINT' ? 130 : 143); // a second Ctrl-C does not wait for the cleanup
    stopSignal = sig;
    say(runsDone ? `\n${sig}: stopping the web server.` : `\n${sig}: stopping; runs in flight are recorded as interrupted (Ctrl-C again to quit at once).`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Before the experiment is stored: a port in use leaves nothing behind.
    if (o.serve) {
      server = await startWebServer(database, o.host, o.port, data.dir);
      say(`results: ${server.url}`);
    }
    store = await openStore(database, {
      experiment: o.experiment,
      // What the runs' results depend on. Models and run count are left out: a rerun may add runs or models.
      config: { seed: o.seed, epochs: o.epochs ?? null, imageSize: o.imageSize, batchSize: o.batchSize, backend: o.backend, weights: o.weights ?? null, out: outRoot },
      datasetDir: data.dir,
      datasetFingerprint: data.fingerprint,
      retries: o.retries,
      runs: plan.map((r) => ({ ...r, spec: baseSpec(r.model, r.seed, r.runIndex) })),
    });
    say(
      `experiment '${o.experiment}' (id ${store.experimentId}): ${models.join(', ')} x ${o.runs} runs = ${plan.length} runs, ` +
        `${store.alreadyCompleted} already completed; slots: ${slots.map((s) => s.name).join(', ')}; backend ${o.backend}; ` +
        `data ${data.dir} (${data.images.train}/${data.images.val}/${data.images.test} train/val/test images); database ${database.kind} ${database.target}`,
    );

    progress = err.isTTY && !process.env.CI ? ttyProgress(err, slots.map((s) => s.name), plan.length) : plainProgress(say);
    const mode = runnerMode(o.backend);
    runners = slots.map((slot) => createSlotRunner(slot, { mode, threadFile: o.threadFile }));
    await runScheduler({
      store,
      runners,
      progress,
      signal: stop.signal,
      pollMs: o.pollMs,
      // A run planned on another machine (an imported experiment) keeps its settings but takes this machine's folders.
      specFor: (claim, runner) => ({ ...claim.spec, ...localFolders(claim.model, claim.runIndex), gpu: runner.slot.gpu, initFrom: claim.initFrom }),
    });
    runsDone = true;
    progress.stop();
    progress = null;
    await Promise.all(runners.map((r) => r.close()));
    runners = [];

    const outcome = await store.outcome();
    if (o.json) {
      process.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
    } else {
      process.stdout.write(`\nExperiment '${o.experiment}': ${describeCounts(outcome.counts)}\n${formatSummary(outcome.summary)}\n`);
      for (const run of outcome.runs.filter((r) => r.status === 'failed')) {
        process.stdout.write(`failed: ${run.model} run ${run.runIndex} after ${run.attempts} attempt(s): ${run.error}\n`);
      }
    }
    if (stopSignal) return stopSignal === 'SIGINT' ? 130 : 143;
    // Runs still pending here wait behind a failed base run: the study is incomplete, like with a failed run.
    const code = outcome.counts.failed > 0 || outcome.counts.pending > 0 ? 1 : 0;
    if (server) {
      say(`results: ${server.url} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
    }
    return code;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(runners.map((r) => r.close()));
    store?.close();
    await server?.close();
    await database.close();
  }
}

function describeCounts(c: RunCounts): string {
  const parts = (['completed', 'failed', 'interrupted', 'running', 'pending'] as const).filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
  if (c.blocked > 0) parts.push(`(${c.blocked} pending behind a failed or interrupted base run)`);
  return parts.join(', ') || 'no runs';
}

/** The results server shares this process's database handle (a PGlite folder admits one process). */
async function startWebServer(database: Database, host: string, port: number, dataDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const { startServer } = await import('../web/server.ts');
  return startServer({ db: database, host, port, dataDir });
}
