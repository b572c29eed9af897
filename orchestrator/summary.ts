/** The study's summary table: per model and split, mean ± sample std of every metric over completed runs. */
import { columnWidths, padCells } from '../common/text-table.ts';
import { METRIC_NAMES, type MetricName, type Split } from '../study/run.ts';

export interface SummaryRow {
  model: string;
  split: Split;
  /** Completed runs the row aggregates. */
  n: number;
  mean: Record<MetricName, number | null>;
  /** Sample standard deviation (n - 1); null with fewer than two runs. */
  std: Record<MetricName, number | null>;
}

const cell = (mean: number | null, std: number | null) => (mean === null ? '-' : std === null ? mean.toFixed(4) : `${mean.toFixed(4)} ± ${std.toFixed(4)}`);

export function formatSummary(rows: SummaryRow[]): string {
  if (rows.length === 0) return 'No completed runs yet.';
  const header = ['model', 'split', 'n', ...METRIC_NAMES];
  const body = rows.map((r) => [r.model, r.split, String(r.n), ...METRIC_NAMES.map((m) => cell(r.mean[m], r.std[m]))]);
  const widths = columnWidths(header, body);
  const line = (cells: string[]) => padCells(cells, widths, (i) => i >= 2).trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface FailedAttempt {
  model: string;
  runIndex: number;
  attempt: number;
  slot: string | null;
  retried: boolean;
  error: string;
}

/** Every failed attempt, one row each; an error of several lines goes on under its row, indented. */
export function formatFailedAttempts(rows: FailedAttempt[]): string {
  const header = ['model', 'run', 'attempt', 'slot', 'retried', 'error'];
  const body = rows.map((r) => [r.model, String(r.runIndex), String(r.attempt), r.slot ?? '-', r.retried ? 'yes' : 'no', r.error]);
  const widths = columnWidths(header.slice(0, -1), body);
  const indent = widths.reduce((a, w) => a + w + 2, 0);
  const line = (cells: string[]) => {
    const [first, ...more] = cells.at(-1)!.split('\n');
    const head = padCells(cells.slice(0, -1), widths, (i) => i === 1 || i === 2);
    return [`${head}  ${first}`.trimEnd(), ...more.map((m) => ' '.repeat(indent) + m)].join('\n');
  };
  return [`Failed attempts: ${rows.length}`, line(header), [...widths, 5].map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
