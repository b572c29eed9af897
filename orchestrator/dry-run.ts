/**
 * `orchestrate --dry-run`: the planned runs, each with its resolved settings and their sources, and notes on what
 * a real start would lack (dataset, weights, GPU). Opens no database, loads no weights, starts no thread.
 */
import { describeSource, formatValue, PROTOCOLS, settingRows, type ModelProtocol, type ResolvedProtocol } from '../study/protocol.ts';
import type { BackendName, ModelName } from '../study/run.ts';
import { experimentCosts } from './calibration.ts';
import { estimateLine, estimateSeconds } from './estimate.ts';
import { planRuns, type PlannedRun } from './plan.ts';
import { checkDataset, checkPretrainedWeights } from './preflight.ts';
import { planSlots, usableGpus } from './slots.ts';

export interface DryRunOptions {
  protocol: ResolvedProtocol;
  models: ModelName[];
  experiment: string;
  seed: number;
  backend: BackendName;
  gpus?: number[];
  runsPerGpu: number;
  workers?: number;
  data?: string;
  weights?: string;
  json?: boolean;
  /** Estimate the experiment's time from a short calibration (default true). */
  estimate?: boolean;
}

export interface DryRunPlan {
  experiment: string;
  protocol: { name: string; description: string; overrides: ResolvedProtocol['overrides'] };
  runs: (PlannedRun & { settings: ModelProtocol })[];
  slots: string[];
  data: { dir: string; images: Record<'train' | 'val' | 'test', number> } | null;
  /** The experiment's estimated time on these slots, from a calibration (a dry run opens no database). */
  estimate: { seconds: number; upperBound: boolean; line: string } | null;
  /** What a real start would miss or do differently; nothing here stops a dry run. */
  notes: string[];
}

export async function planDryRun(o: DryRunOptions): Promise<DryRunPlan> {
  const notes: string[] = [];
  const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
  const plan = planRuns(o.models, (m) => o.protocol.models[m].runs.value, o.seed);
  let data: DryRunPlan['data'] = null;
  try {
    const found = await checkDataset(o.data);
    data = { dir: found.dir, images: found.images };
  } catch (err) {
    notes.push(`dataset: ${message(err)}`);
  }
  try {
    checkPretrainedWeights(o.models, o.weights ?? null);
  } catch (err) {
    notes.push(`weights: ${message(err)}`);
  }
  let slots: string[] = [];
  let slotPlans: { gpu: number | null }[] = [];
  try {
    const usable = usableGpus(o.backend);
    if (usable.note) notes.push(`GPU: ${usable.note}`);
    const planned = planSlots({ gpus: o.gpus, runsPerGpu: o.runsPerGpu, workers: o.workers, backend: o.backend }, () => usable.gpus);
    slots = planned.map((s) => s.name);
    slotPlans = planned;
    if (planned.every((s) => s.gpu === null) && !['wasm', 'cpu'].includes(o.backend)) {
      notes.push(`GPU: none in use; the runs would take ${planned.length} CPU slot(s) with --backend ${o.backend}.`);
    }
  } catch (err) {
    notes.push(`slots: ${message(err)}`);
  }
  for (const m of o.models) {
    const standsIn = o.protocol.models[m].standsInFor;
    if (standsIn) notes.push(`${m} stands in for ${standsIn}, with ${standsIn}'s settings.`);
  }
  notes.push(`no database opened: an existing experiment '${o.experiment}' would resume with the protocol it was recorded with.`);
  let estimate: DryRunPlan['estimate'] = null;
  if (o.estimate !== false && data && slotPlans.length > 0) {
    try {
      const { costs, basis, slotSetupSeconds } = await experimentCosts({
        models: o.models,
        protocol: o.protocol,
        backend: o.backend,
        images: data.images,
        database: null,
        dataDir: data.dir,
        slots: slotPlans.length,
      });
      const runs = plan.map((r) => ({ model: r.model, runIndex: r.runIndex, state: 'pending' as const }));
      const seconds = estimateSeconds(runs, costs, slotPlans.length, slotSetupSeconds);
      const upperBound = Object.values(costs).some((c) => c.upperBound);
      estimate = { seconds, upperBound, line: estimateLine({ runs: runs.length, seconds, upperBound, slots: slotPlans, basis }) };
    } catch (err) {
      notes.push(`estimate: ${message(err)}`);
    }
  }
  return {
    estimate,
    experiment: o.experiment,
    protocol: { name: o.protocol.name, description: PROTOCOLS[o.protocol.name].description, overrides: o.protocol.overrides },
    runs: plan.map((r) => ({ ...r, settings: o.protocol.models[r.model] })),
    slots,
    data,
    notes,
  };
}

export async function dryRun(o: DryRunOptions): Promise<number> {
  const plan = await planDryRun(o);
  if (o.json) {
    process.stdout.write(JSON.stringify(plan, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  out.push(`dry run: experiment '${plan.experiment}', protocol ${plan.protocol.name} (${plan.protocol.description}); nothing is stored.`);
  const counts = o.models.map((m) => `${m} x ${o.protocol.models[m].runs.value}`).join(', ');
  out.push(
    `runs: ${counts} = ${plan.runs.length}; seeds ${o.seed}..${o.seed + Math.max(0, ...plan.runs.map((r) => r.runIndex))}; slots: ${plan.slots.join(', ') || 'none'}`,
  );
  if (plan.data) out.push(`data: ${plan.data.dir} (${plan.data.images.train}/${plan.data.images.val}/${plan.data.images.test} train/val/test images)`);
  if (plan.estimate) out.push(plan.estimate.line);
  out.push('');
  for (const row of settingRows(o.protocol.models, o.models)) {
    out.push(`${row.model.padEnd(13)} ${row.setting.padEnd(18)} ${formatValue(row.value).padEnd(34)} ${describeSource(row.source)}`);
  }
  out.push('', ...plan.notes.map((n) => `note: ${n}`));
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
