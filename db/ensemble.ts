/** The predictions behind the ensemble of a model's repeated runs: each image's probability averaged over the runs. */
import { sql } from 'drizzle-orm';
import { MODEL_NAMES, type ModelName, type Split } from '../study/run.ts';
import type { Database } from './client.ts';
import { predictions, runs } from './schema.ts';
import { positionIn, selectRows } from './sql-helpers.ts';

export interface EnsembleInput {
  model: ModelName;
  /** Completed runs of the model with predictions of the split. */
  runs: number;
  /** Per image (by path) that every one of those runs has: its label and its mean probability. */
  labels: (0 | 1)[];
  probabilities: number[];
}

/**
 * Per model (the study's order) of an experiment: its completed runs' predictions of `split`, averaged per image in
 * SQL (one row per model and image instead of one per run and image, 3,297 per run). Images some run lacks are left
 * out.
 */
export async function ensembleInputs(database: Database, experimentId: number, split: Split): Promise<EnsembleInput[]> {
  const rows = await selectRows<{ model: ModelName; runs: number; label: number; probability: number }>(
    database.db,
    sql`
    with p as (
      select r.model, p.run_id, p.image, p.label, p.probability::double precision as probability
      from ${predictions} p join ${runs} r on r.id = p.run_id
      where r.experiment_id = ${experimentId} and r.status = 'completed' and p.split = ${split}
    ), per_model as (select model, count(distinct run_id)::integer as runs from p group by model)
    select p.model, m.runs, min(p.label)::integer as label, avg(p.probability) as probability
    from p join per_model m on m.model = p.model
    group by p.model, m.runs, p.image
    having count(*) = m.runs
    order by ${positionIn(MODEL_NAMES, sql`p.model`)}, p.image`,
  );
  const out: EnsembleInput[] = [];
  for (const r of rows) {
    let m = out.at(-1);
    if (!m || m.model !== r.model) {
      m = { model: r.model, runs: Number(r.runs), labels: [], probabilities: [] };
      out.push(m);
    }
    m.labels.push(Number(r.label) === 1 ? 1 : 0);
    m.probabilities.push(Number(r.probability));
  }
  return out;
}
