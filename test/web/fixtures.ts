/**
 * Fills a database the way the orchestrator does (createOrResumeExperiment, ensureRuns, claimNextRun, recordEvent
 * with each RunEvent, finishRun), with the realistic event streams of run-events.ts.
 */
import { resolveProtocol, type ResolvedProtocol } from '../../study/protocol.ts';
import { claimNextRun, createOrResumeExperiment, ensureRuns, failAttempt, finishExperiment, finishRun, recordEvent, type Database } from '../../db/index.ts';
import type { ModelName } from '../../study/run.ts';
import { runEvents, specFor, type FixtureDataset, type RunPlan } from './run-events.ts';

export type FixtureStatus = 'completed' | 'failed' | 'running' | 'pending';

export interface FixtureRun extends Omit<RunPlan, 'seed'> {
  /** Default 'completed'. A 'running' run records the epochs up to `upTo`; a 'failed' one up to `failAfter`. */
  status?: FixtureStatus;
  slot?: string;
  /** Where the run's orchestrator ran (default: this machine, outside Slurm). */
  host?: string;
  slurmJob?: string;
}

export interface FixtureExperiment {
  name: string;
  /** In run-index order per model; pending runs must come last within their model. */
  runs: FixtureRun[];
  finished?: boolean;
  /** Every run evaluated on this dataset's images (default: synthetic names, the real dataset's split sizes). */
  dataset?: FixtureDataset;
  /** Recorded in config.protocol as the orchestrator records it; absent: an experiment recorded before protocols. */
  protocol?: ResolvedProtocol;
}

export interface BuiltExperiment {
  experimentId: number;
  /** Run ids in the order of `runs`. */
  runIds: number[];
}

export async function buildExperiment(database: Database, x: FixtureExperiment): Promise<BuiltExperiment> {
  const models = [...new Set(x.runs.map((r) => r.model))];
  const experiment = await createOrResumeExperiment(database, {
    name: x.name,
    config: { models, runs: x.runs.length, epochs: 30, ...(x.protocol ? { protocol: x.protocol } : {}) },
    datasetFingerprint: x.dataset?.fingerprint ?? 'f'.repeat(64),
    datasetDir: '/data/melanoma',
    codeVersion: 'fixture',
  });
  const index = new Map<ModelName, number>();
  const planned = x.runs.map((r) => {
    const runIndex = index.get(r.model) ?? 0;
    index.set(r.model, runIndex + 1);
    const seed = 1000 + runIndex;
    return { fixture: r, plan: { ...r, seed, dataset: x.dataset } as RunPlan, runIndex, seed };
  });
  const stored = await ensureRuns(
    database,
    experiment.id,
    planned.map((p) => ({ model: p.fixture.model, runIndex: p.runIndex, seed: p.seed, spec: specFor(p.fixture.model, p.seed, p.fixture.spec) })),
  );
  for (const [i, p] of planned.entries()) {
    const status = p.fixture.status ?? 'completed';
    if (status === 'pending') continue;
    const claimed = await claimNextRun(database, experiment.id, p.fixture.slot ?? `cpu:${i % 2}`, {
      models: [p.fixture.model],
      host: p.fixture.host,
      slurmJob: p.fixture.slurmJob,
    });
    if (!claimed || claimed.id !== stored[i]!.id) throw new Error(`fixture: expected to claim run ${stored[i]!.id}, got ${claimed?.id}`);
    const plan: RunPlan = { ...p.plan, upTo: status === 'running' ? (p.plan.upTo ?? Math.ceil(p.plan.epochs / 2)) : undefined };
    if (status === 'failed') plan.failAfter ??= Math.ceil(plan.epochs / 3);
    for (const event of runEvents(plan)) await recordEvent(database, claimed.id, event);
    if (status === 'completed') await finishRun(database, claimed.id, { status: 'completed' });
    if (status === 'failed')
      await failAttempt(database, claimed.id, {
        error: `Error: injected failure at epoch ${plan.failAfter! + 1} (test hook)\n  <b>second line</b>`,
        retry: false,
      });
  }
  if (x.finished) await finishExperiment(database, experiment.id);
  return { experimentId: experiment.id, runIds: stored.map((r) => r.id) };
}

/** Name with markup, quotes and non-ASCII characters: must show as text everywhere. */
export const XSS_NAME = `Étude <script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> "quoted" 'single' — 黑色素瘤`;

/** A small study: two models, three runs each; one failed, one still running, one pending. */
export function smallStudy(name = XSS_NAME): FixtureExperiment {
  return {
    name,
    runs: [
      { model: 'baseline', epochs: 14, bestEpoch: 9 },
      { model: 'baseline', epochs: 18, bestEpoch: 12 },
      { model: 'baseline', epochs: 12, bestEpoch: 7, status: 'failed', failAfter: 4 },
      { model: 'xception', epochs: 16, bestEpoch: 10, slot: 'gpu:0', spec: { backend: 'webgpu', gpu: 0 }, host: 'gpu-node-3', slurmJob: '812_0' },
      { model: 'xception', epochs: 20, bestEpoch: 14, slot: 'gpu:0', spec: { backend: 'webgpu', gpu: 0 }, host: 'gpu-node-3', slurmJob: '812_0' },
      {
        model: 'xception',
        epochs: 30,
        bestEpoch: 20,
        slot: 'gpu:0',
        spec: { backend: 'webgpu', gpu: 0 },
        status: 'running',
        upTo: 8,
        host: 'gpu-node-5',
        slurmJob: '812_1',
      },
      { model: 'xception', epochs: 30, bestEpoch: 20, status: 'pending' },
    ],
    protocol: resolveProtocol('seed', { epochs: 30 }),
  };
}

/** One completed run whose validation split has no malignant image: its val ROC AUC and PR AUC are NaN. */
export function oneClassStudy(name = 'one-class validation'): FixtureExperiment {
  return {
    name,
    finished: true,
    runs: [{ model: 'mobilenet', epochs: 6, bestEpoch: 4, counts: { val: { benign: 40, malignant: 0 } } }],
  };
}
