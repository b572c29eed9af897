/**
 * The study as one job: plan every model x run index, check data and weights, record the plan in the database,
 * execute the runs on the slots, and print the summary read back from the database's metric_summary view.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { decodingProgress } from '../common/decoding-progress.ts';
import { thisCommand } from '../common/command-line.ts';
import { UserError } from '../common/errors.ts';
import { findExperiment, growableConfigPath, listRuns, openDatabase, redact, type Database, type RunCounts } from '../db/index.ts';
import { LiveFeed } from '../study/live.ts';
import { ARTICLE_MODELS } from '../study/models.ts';
import { experimentConfigSchema, recordedProtocol, type ExperimentConfig } from '../study/experiment-config.ts';
import {
  DEFAULT_IMAGE_SIZE,
  DEFAULT_PROTOCOL,
  LEGACY_PROTOCOL,
  overridesIn,
  resolveProtocol,
  type ProtocolName,
  type ResolvedProtocol,
} from '../study/protocol.ts';
import { buildRunSpec } from '../study/run-spec.ts';
import type { BackendName, ModelName, RunSpec } from '../study/run.ts';
import { experimentCosts } from './calibration.ts';
import { dryRun } from './dry-run.ts';
import { describeEstimate, estimateLine, ExperimentClock } from './estimate.ts';
import { liveObserver } from './live-observer.ts';
import { checkModels, planRuns } from './plan.ts';
import { checkDataset, checkFlags, ensurePretrainedWeights } from './preflight.ts';
import { plainProgress, ttyProgress, type Progress } from './progress.ts';
import { runScheduler } from './scheduler.ts';
import { createSlotRunner, type SlotRunner } from './slot-runner.ts';
import { checkGpusDistinguishable, opensWebgpu, planSlots, runnerMode, usableGpus } from './slots.ts';
import { slurmJob, withSlurmSlots } from './slurm-allocation.ts';
import { checkSlurmFlags, prepareSlurmJob, slurmJobScript, submitSlurmJob } from './slurm-submit.ts';
import { openStore, type RunStore } from './store.ts';
import { formatFailedAttempts, formatSummary } from './summary.ts';

/** The article's four models; the MobileNetV2 models stand in for Xception where its weights are missing. */
export const STUDY_MODELS: readonly ModelName[] = ARTICLE_MODELS;

export interface OrchestrateOptions {
  /** The protocol (default: a resumed experiment's, else DEFAULT_PROTOCOL). */
  protocol?: ProtocolName;
  /** Runs of every model (default: each model's in the protocol). */
  runs?: number;
  models: ModelName[];
  /** GPU indices; 'slurm': those of the Slurm job this process runs in (slurm-allocation.ts). */
  gpus?: number[] | 'slurm';
  runsPerGpu: number;
  workers?: number;
  /** Allow more --workers than cores. */
  oversubscribe?: boolean;
  backend: BackendName;
  data?: string;
  db?: string;
  experiment: string;
  /** Overrides of the protocol's settings, recorded with the experiment. */
  epochs?: number;
  imageSize?: number;
  batchSize?: number;
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
  /** Print the planned runs with their resolved settings; open no database, start no run. */
  dryRun?: boolean;
  /** Estimate the experiment's time before it starts (default true; --no-estimate: false). */
  estimate?: boolean;
  /** Show what the backends print when they probe GPUs (Dawn's adapter warnings). */
  verbose?: boolean;
  threadFile?: string;
  pollMs?: number;
  /** Seconds after which a running run whose holder has not beaten its heartbeat is taken back (default 60). */
  lease?: number;
  /** Join an experiment another orchestrator stored: claim its runs, add none, retry no failed one. */
  join?: boolean;
  /** Submit the study to Slurm as an array job of this many tasks instead of running it (slurm-submit.ts). */
  slurm?: number;
  /** sbatch options for --slurm (the arguments after `--`). */
  sbatch?: string[];
}

/** Runs the study; resolves with the process exit code (0, 1 if a run failed for good, 130/143 when interrupted). */
export async function orchestrate(given: OrchestrateOptions): Promise<number> {
  const models = checkModels(given.models);
  const slurmDb = checkSlurmFlags(given);
  const o = given.gpus === 'slurm' ? withSlurmSlots(given) : { ...given, gpus: given.gpus, slotNote: null };
  checkFlags(o, models);
  const overrides = overridesIn(o);
  // Worker threads and their child processes inherit it (workers/backend/index.ts).
  if (o.verbose) process.env.MELANOMA_VERBOSE = '1';
  if (o.dryRun && slurmDb) {
    process.stdout.write(slurmJobScript(o, models, (await checkDataset(o.data)).dir, slurmDb));
    return 0;
  }
  if (o.dryRun) return dryRun({ ...o, models, protocol: resolveProtocol(o.protocol ?? DEFAULT_PROTOCOL, overrides) });
  let gpuNote: string | null = o.slotNote; // GPUs that get no slot
  // With --slurm, each array task has slots of its own.
  const slots = slurmDb
    ? []
    : planSlots({ gpus: o.gpus, runsPerGpu: o.runsPerGpu, workers: o.workers, backend: o.backend }, () => {
        const usable = usableGpus(o.backend);
        gpuNote = usable.note;
        return usable.gpus;
      });
  if (o.gpus !== undefined) checkGpusDistinguishable(slots, o.backend); // detected GPUs are filtered by usableGpus
  const checkBar = decodingProgress(process.stderr.isTTY && !o.json);
  let data: Awaited<ReturnType<typeof checkDataset>>;
  try {
    data = await checkDataset(o.data, {
      imageSize: o.imageSize ?? DEFAULT_IMAGE_SIZE,
      onProgress: checkBar.onProgress,
    });
  } finally {
    checkBar.stop();
  }
  if (!o.threadFile) await ensurePretrainedWeights(models, o.weights ?? null, (line) => process.stderr.write(`${line}\n`));
  // Written and tried (sbatch --test-only) before anything is stored.
  const submission = slurmDb ? prepareSlurmJob(o, models, data.dir, slurmDb) : null;
  const outRoot = resolve(o.out, o.experiment);
  const featureCacheDir = o.featureCache === false ? null : resolve(o.featureCache ?? join(o.out, 'features'));
  const localFolders = (model: ModelName, runIndex: number) => ({
    dataDir: data.dir,
    outDir: join(outRoot, `${model}-run${runIndex}`),
    featureCacheDir,
    weights: o.weights ? resolve(o.weights) : null,
  });
  const specFor =
    (protocol: ResolvedProtocol) =>
    (model: ModelName, seed: number, runIndex: number): RunSpec =>
      buildRunSpec(protocol, model, seed, {
        ...localFolders(model, runIndex),
        backend: o.backend,
        gpu: null,
        initFrom: null,
        cacheImages: true,
        checkImages: false, // checkDataset decoded every image before anything was stored
        saveAugmented: null,
      });

  const err = process.stderr;
  const say = (line: string) => err.write(line + '\n');
  if (gpuNote !== null) say(`warning: ${gpuNote}`);
  const total = data.images.train + data.images.val + data.images.test;
  say(`data: ${total} images checked in ${data.checkSeconds.toFixed(1)}s`);
  const database = await openDatabase(o.db);
  let server: { url: string; close(): Promise<void> } | null = null;
  let endpoint: { close(): Promise<void> } | null = null;
  let runners: SlotRunner[] = [];
  let store: RunStore | null = null;
  let progress: Progress | null = null;
  const live = new LiveFeed();
  const stop = new AbortController();
  let stopSignal: NodeJS.Signals | null = null;
  let runsDone = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal) process.exit(sig === 'SIGINT' ? 130 : 143); // a second Ctrl-C does not wait for the cleanup
    stopSignal = sig;
    say(
      runsDone
        ? `\n${sig}: stopping the web server.`
        : `\n${sig}: stopping; runs in flight are recorded as interrupted (Ctrl-C again to quit at once).\n` +
            `To continue (each interrupted run from its last completed epoch): ${thisCommand()}`,
    );
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // `melanoma sql` and `melanoma serve` on a PGlite folder reach it through this process while it holds it.
    if (database.kind === 'pglite' && database.target !== 'memory://') endpoint = await startFolderEndpoint(database, data.dir);
    // Before the experiment is stored: a port in use leaves nothing behind.
    if (o.serve) {
      server = await startWebServer(database, o.host, o.port, data.dir, live);
      say(`results: ${server.url}`);
    }
    const { protocol, legacy } = await experimentProtocol(database, o.experiment, o.protocol);
    const inSlurmJob = slurmJob();
    const resolved = resolveProtocol(protocol, overrides);
    const plan = planRuns(models, (m) => resolved.models[m].runs.value, o.seed);
    const baseSpec = specFor(resolved);
    const shared = resolved.models.baseline;
    store = await openStore(database, {
      experiment: o.experiment,
      // What the runs' results depend on. Models and run counts are left out: a rerun may add runs or models.
      config: experimentConfigSchema.parse({
        seed: o.seed,
        epochs: o.epochs ?? null,
        imageSize: shared.imageSize.value,
        batchSize: shared.batchSize.value,
        backend: o.backend,
        weights: o.weights ?? null,
        out: outRoot,
        protocol: { name: resolved.name, models: resolved.models, overrides: resolved.overrides },
      } satisfies ExperimentConfig),
      // The resolved settings follow from the name and the overrides (each run's spec keeps its own); run counts
      // may grow. An experiment recorded before protocols gets its protocol recorded now.
      updatableConfig: (path) => growableConfigPath(path) || (legacy && path === 'protocol'),
      datasetDir: data.dir,
      datasetFingerprint: data.fingerprint,
      retries: o.retries,
      runs: plan.map((r) => ({ ...r, spec: baseSpec(r.model, r.seed, r.runIndex) })),
      staleAfterSeconds: o.lease,
      join: o.join,
      slurmJob: inSlurmJob,
    });
    const counts = models.map((m) => `${m} x ${resolved.models[m].runs.value}`).join(', ');
    say(
      `experiment '${o.experiment}' (id ${store.experimentId}), protocol ${resolved.name}${legacy ? ' (recorded before protocols)' : ''}: ${counts} = ${plan.length} runs, ` +
        `${store.alreadyCompleted} already completed; slots: ${submission ? "each Slurm task's allocation" : slots.map((s) => s.name).join(', ')}; backend ${o.backend}; ` +
        `data ${data.dir} (${data.images.train}/${data.images.val}/${data.images.test} train/val/test images); database ${database.kind} ${redact(database.target)}` +
        (inSlurmJob ? `; Slurm job ${inSlurmJob} on ${hostname()}` : ''),
    );

    const experimentId = store.experimentId;
    if (submission) {
      const job = submitSlurmJob(submission);
      runsDone = true;
      const page = `/experiments/${experimentId}`;
      process.stdout.write(
        `Slurm job ${job}: ${submission.tasks} array task(s) ${job}_0 .. ${job}_${submission.tasks - 1}, script ${submission.path}, logs ${submission.logs}\n` +
          (server
            ? `results: ${server.url}${page}\n`
            : `results: \`npx melanoma serve --db ${redact(slurmDb!.url)}\` serves them at http://127.0.0.1:8080${page}\n`),
      );
      if (server)
        await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
      return 0;
    }
    let clock: ExperimentClock | null = null;
    // A test thread (--thread-file) trains no real model: there is nothing to calibrate or to estimate.
    if (o.estimate !== false && !o.threadFile) {
      try {
        const completed = new Set((await listRuns(database, experimentId)).filter((r) => r.status === 'completed').map((r) => `${r.model}:${r.runIndex}`));
        const runs = plan.map((r) => ({
          model: r.model,
          runIndex: r.runIndex,
          state: completed.has(`${r.model}:${r.runIndex}`) ? ('done' as const) : ('pending' as const),
        }));
        const { costs, basis, slotSetupSeconds } = await experimentCosts({
          models,
          protocol: resolved,
          backend: o.backend,
          images: data.images,
          database,
          dataDir: data.dir,
          slots: slots.length,
        });
        clock = new ExperimentClock(runs, costs, slots.length, slotSetupSeconds);
        const line = estimateLine({
          runs: runs.filter((r) => r.state !== 'done').length,
          seconds: clock.secondsLeft(),
          upperBound: clock.upperBound(),
          slots,
          basis,
        });
        say(line);
        live.setEstimate(experimentId, { secondsLeft: clock.secondsLeft(), upperBound: clock.upperBound(), basis: line });
      } catch (error) {
        say(`estimate: none (${error instanceof Error ? error.message : String(error)}); the runs go on.`);
      }
    }

    progress =
      err.isTTY && !process.env.CI
        ? ttyProgress(
            err,
            slots.map((s) => s.name),
            plan.length,
          )
        : plainProgress(say);
    const shown = progress;
    let lastEstimate = Date.now();
    const observer = liveObserver({
      live,
      experimentId,
      clock,
      onEstimate(seconds, upperBound) {
        // On a terminal the runs line shows it; the plain log gets a line at most every 10 minutes.
        if (!err.isTTY && Date.now() - lastEstimate < 600_000) return;
        lastEstimate = Date.now();
        shown.estimate(`${describeEstimate(seconds, upperBound)} left`);
      },
    });
    if (clock) shown.estimate(`${describeEstimate(clock.secondsLeft(), clock.upperBound())} left`);
    const mode = runnerMode(o.backend);
    runners = slots.map((slot) => createSlotRunner(slot, { mode, ownProcess: opensWebgpu(o.backend), threadFile: o.threadFile }));
    await runScheduler({
      store,
      runners,
      progress,
      signal: stop.signal,
      pollMs: o.pollMs,
      // A run planned on another machine (an imported experiment) keeps its settings but takes this machine's folders.
      specFor: (claim, runner) => ({ ...claim.spec, ...localFolders(claim.model, claim.runIndex), gpu: runner.slot.gpu, initFrom: claim.initFrom }),
      observer,
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
      if (outcome.failedAttempts.length > 0) process.stdout.write(`\n${formatFailedAttempts(outcome.failedAttempts)}\n`);
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
    await endpoint?.close();
    await database.close();
  }
}

/**
 * The protocol of experiment `name`: the one it was recorded with when it exists (an experiment recorded before
 * protocols is LEGACY_PROTOCOL's), else `given`, else DEFAULT_PROTOCOL. A `given` protocol that differs from a
 * recorded one is left for the resume to refuse, naming both.
 */
async function experimentProtocol(database: Database, name: string, given: ProtocolName | undefined): Promise<{ protocol: ProtocolName; legacy: boolean }> {
  const stored = await findExperiment(database, name.trim());
  if (!stored) return { protocol: given ?? DEFAULT_PROTOCOL, legacy: false };
  if (stored.config.protocol === undefined) {
    if (given !== undefined && given !== LEGACY_PROTOCOL) {
      throw new UserError(
        `experiment '${name}' was recorded before protocols and continues as --protocol ${LEGACY_PROTOCOL} (what the project then did); ` +
          `for --protocol ${given}, choose another --experiment name.`,
      );
    }
    return { protocol: LEGACY_PROTOCOL, legacy: true };
  }
  return { protocol: given ?? recordedProtocol(stored.config)?.name ?? DEFAULT_PROTOCOL, legacy: false };
}

function describeCounts(c: RunCounts): string {
  const parts = (['completed', 'failed', 'interrupted', 'running', 'pending'] as const).filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
  if (c.blocked > 0) parts.push(`(${c.blocked} pending behind a failed or interrupted base run)`);
  return parts.join(', ') || 'no runs';
}

/** The results server shares this process's database handle (a PGlite folder admits one process). */
async function startWebServer(
  database: Database,
  host: string,
  port: number,
  dataDir: string,
  live: LiveFeed,
): Promise<{ url: string; close(): Promise<void> }> {
  const { startServer } = await import('../web/server.ts');
  return startServer({ db: database, host, port, dataDir, live });
}

async function startFolderEndpoint(database: Database, dataDir: string): Promise<{ close(): Promise<void> }> {
  const { startFolderEndpoint } = await import('../web/folder-endpoint.ts');
  return startFolderEndpoint({ db: database, dataDir, holder: 'orchestrator' });
}
