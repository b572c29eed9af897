/**
 * Turns a run's per-batch callbacks into `progress` events: at most one every `intervalMs` within a phase, plus
 * the first and the last of each phase, with the images per second since the phase began.
 */
import type { PhaseProgress, ProgressPhase } from '../../study/live.ts';

export type ReportProgress = (phase: ProgressPhase, done: number, total: number, epoch?: number | null) => void;

export function progressReporter(post: (p: PhaseProgress) => void, o: { intervalMs?: number; now?: () => number } = {}): ReportProgress {
  const intervalMs = o.intervalMs ?? 250;
  const now = o.now ?? (() => performance.now());
  let current: { phase: ProgressPhase; epoch: number | null; total: number; started: number; lastPosted: number } | null = null;
  return (phase, done, total, epoch = null) => {
    const t = now();
    if (!current || current.phase !== phase || current.epoch !== epoch || current.total !== total || done === 0) {
      current = { phase, epoch, total, started: t, lastPosted: -Infinity };
    }
    if (done < total && done > 0 && t - current.lastPosted < intervalMs) return;
    current.lastPosted = t;
    const seconds = (t - current.started) / 1000;
    post({ phase, epoch, done, total, imagesPerSecond: done > 0 && seconds > 0 ? done / seconds : null });
  };
}
