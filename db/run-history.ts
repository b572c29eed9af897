/**
 * How long the completed runs of a model took, for the orchestrator's estimate of an experiment's time: runs of
 * the same model, image size, batch size and requested backend, across all experiments of the database.
 */
import type { ModelName } from '../study/models.ts';
import type { Database } from './client.ts';

export interface EpochHistoryQuery {
  model: ModelName;
  imageSize: number;
  batchSize: number;
  /** The backend the runs were asked for (RunSpec.backend: 'auto', 'wasm', ...). */
  backend: string;
  /** The maximum epochs and patience of the runs to come: only runs with both alike tell how many epochs to expect. */
  maxEpochs: number;
  patience: number;
}

export interface EpochHistory {
  /** Completed runs whose epochs were timed. */
  runs: number;
  /** Mean wall seconds of one epoch (training and validation) over those runs' epochs. */
  secondsPerEpoch: number;
  /** Of those, the completed runs with the same maximum epochs and patience, and the mean epochs they trained. */
  alikeRuns: number;
  meanEpochs: number | null;
  /**
   * Mean wall seconds a run spent outside its epochs (start-up, decoding, the final evaluation) over the runs done
   * in one attempt (a resumed run's duration covers only its last attempt); 0 when there are none.
   */
  setupSeconds: number;
}

/** The history of `q`'s kind of run, or null when no completed run of it has a timed epoch. */
export async function epochHistory(database: Database, q: EpochHistoryQuery): Promise<EpochHistory | null> {
  const [row] = await database.query<{ runs: number; seconds_per_epoch: number | null; alike_runs: number; mean_epochs: number | null; setup_seconds: number }>(
    `with done as (
       select r.id, (r.spec->>'epochs')::int as max_epochs, (r.spec->>'patience')::int as patience,
              count(*) as epochs, avg(e.seconds) as seconds,
              r.duration_seconds - sum(e.seconds) as outside_epochs, r.attempts = 1 as whole
         from runs r join epoch_metrics e on e.run_id = r.id and e.split = 'train'
        where r.status = 'completed' and r.model = $1 and (r.spec->>'imageSize')::int = $2
          and (r.spec->>'batchSize')::int = $3 and r.spec->>'backend' = $4
        group by r.id, r.duration_seconds, r.attempts)
     select count(*)::int as runs, (sum(seconds * epochs) / nullif(sum(epochs), 0))::float8 as seconds_per_epoch,
            count(*) filter (where max_epochs = $5 and patience = $6)::int as alike_runs,
            (avg(epochs) filter (where max_epochs = $5 and patience = $6))::float8 as mean_epochs,
            coalesce(avg(greatest(outside_epochs, 0)) filter (where whole), 0)::float8 as setup_seconds
       from done`,
    [q.model, q.imageSize, q.batchSize, q.backend, q.maxEpochs, q.patience],
  );
  if (!row || row.runs === 0 || row.seconds_per_epoch === null) return null;
  return {
    runs: row.runs,
    secondsPerEpoch: row.seconds_per_epoch,
    alikeRuns: row.alike_runs,
    meanEpochs: row.alike_runs > 0 ? row.mean_epochs : null,
    setupSeconds: row.setup_seconds,
  };
}
