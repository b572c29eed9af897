/**
 * What the main thread does with a run's life besides storing it: the in-memory feed the page reads (each running
 * run's progress inside its epoch) and the experiment's clock (its time left, updated as epochs finish).
 */
import type { LiveFeed } from '../study/live.ts';
import type { ExperimentClock } from './estimate.ts';
import type { RunObserver } from './scheduler.ts';

export function liveObserver(o: {
  live: LiveFeed;
  experimentId: number;
  clock: ExperimentClock | null;
  onEstimate?: (secondsLeft: number, upperBound: boolean) => void;
}): RunObserver {
  const estimate = () => {
    if (!o.clock) return;
    const seconds = o.clock.secondsLeft();
    o.live.setEstimate(o.experimentId, {
      secondsLeft: seconds,
      upperBound: o.clock.upperBound(),
      basis: "the calibration or history, with this experiment's measured epochs where it has some",
    });
    o.onEstimate?.(seconds, o.clock.upperBound());
  };
  return {
    runStarted: (run) => o.clock?.runStarted(run.model, run.runIndex),
    progress: (run, p) => o.live.setRun(run.runId, p),
    epoch(run, record) {
      o.clock?.epochEnded(run.model, run.runIndex, record.epoch, record.seconds);
      estimate();
    },
    runEnded(run, final) {
      o.live.clearRun(run.runId);
      o.clock?.runEnded(run.model, run.runIndex, final);
      estimate();
    },
  };
}
