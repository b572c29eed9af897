import { writeFileSync } from 'node:fs';
import { METRIC_NAMES, type EpochRecord } from '../../study/run.ts';

/**
 * Keras CSVLogger-style history: one row per epoch, train metrics then `val_` metrics. Wall-clock times are left
 * out (they are in result.json) so that two runs with the same seed write identical files.
 */
export function historyCsv(history: EpochRecord[]): string {
  const header = ['epoch', 'learning_rate', ...METRIC_NAMES, ...METRIC_NAMES.map((m) => `val_${m}`)];
  const rows = history.map((r) => [r.epoch, r.learningRate, ...METRIC_NAMES.map((m) => r.train[m]), ...METRIC_NAMES.map((m) => r.val[m])]);
  return [header, ...rows].map((row) => row.join(',')).join('\n') + '\n';
}

export function writeHistoryCsv(path: string, history: EpochRecord[]): void {
  writeFileSync(path, historyCsv(history));
}
