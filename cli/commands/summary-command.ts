/**
 * `melanoma summary`: one experiment's study table (metric_summary, the test split), its operating points
 * (study/operating-points.ts) and the calibration of its probabilities (study/probability-calibration.ts), both over
 * the completed runs' stored predictions, as text tables or one JSON document.
 */
import { UserError } from '../../common/errors.ts';
import {
  completedRunScores,
  experimentCalibrationInput,
  experimentSummary,
  findExperiment,
  listExperiments,
  openDatabaseToRead,
  type Database,
} from '../../db/index.ts';
import { columnWidths, padCells } from '../../common/text-table.ts';
import { toSummaryRows } from '../../orchestrator/store.ts';
import { formatSummary, type SummaryRow } from '../../orchestrator/summary.ts';
import { operatingPointLabel, operatingPointsReport, type MeanStd, type OperatingPointsReport } from '../../study/operating-points.ts';
import { calibrationReport, type CalibrationReport } from '../../study/probability-calibration.ts';

export interface SummaryFlags {
  experiment?: string;
  db?: string;
  json?: boolean;
}

export interface SummaryDocument {
  experiment: { id: number; name: string };
  /** Per model, the test split: completed runs, mean and sample std of every metric. */
  summary: SummaryRow[];
  operatingPoints: OperatingPointsReport;
  calibration: CalibrationReport;
}

export async function summaryCommand(f: SummaryFlags): Promise<void> {
  const database = await openDatabaseToRead(f.db, 'melanoma summary');
  try {
    const doc = await summaryDocument(database, f.experiment);
    process.stdout.write(f.json ? `${JSON.stringify(doc, null, 2)}\n` : `${formatDocument(doc)}\n`);
  } finally {
    await database.close();
  }
}

export async function summaryDocument(database: Database, name: string | undefined): Promise<SummaryDocument> {
  const experiment = name === undefined ? ((await listExperiments(database))[0] ?? null) : await findExperiment(database, name);
  if (!experiment)
    throw new UserError(name === undefined ? `no experiment in ${database.target} yet.` : `no experiment named '${name}' in ${database.target}.`);
  const [summary, scores, calibration] = await Promise.all([
    experimentSummary(database, experiment.id),
    completedRunScores(database, experiment.id, ['val', 'test']),
    experimentCalibrationInput(database, experiment.id),
  ]);
  return {
    experiment: { id: experiment.id, name: experiment.name },
    summary: toSummaryRows(summary).filter((r) => r.split === 'test'),
    operatingPoints: operatingPointsReport(scores),
    calibration: calibrationReport(calibration),
  };
}

const cell = (s: MeanStd, digits = 4) =>
  s.mean === null ? '-' : s.std === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;

export function formatOperatingPoints(report: OperatingPointsReport): string {
  if (report.models.length === 0) return 'No completed run has val and test predictions stored yet.';
  const header = ['model', 'n', 'operating point', 't (chosen on val)', 'test sensitivity', 'test specificity', 'test PPV'];
  const body = report.models.flatMap((m) =>
    m.points.map((p) => [m.model, String(p.sensitivity.n), operatingPointLabel(p), cell(p.threshold), cell(p.sensitivity), cell(p.specificity), cell(p.ppv)]),
  );
  const widths = columnWidths(header, body);
  const line = (cells: string[]) => padCells(cells, widths, (i) => i !== 0 && i !== 2).trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Per model: the val-fitted temperature and the test Brier score and ECE before and after scaling, over runs and of the ensemble. */
export function formatCalibration(report: CalibrationReport): string {
  if (report.models.length === 0) return 'No completed run has val and test predictions stored yet.';
  const header = ['model', 'n', 'T (fitted on val)', 'test Brier', 'test Brier, scaled', 'test ECE', 'test ECE, scaled'];
  const value = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(4));
  const body = report.models.flatMap((m) => {
    const rows = [[m.model, String(m.runs), cell(m.temperature), cell(m.test.brier), cell(m.test.brierScaled), cell(m.test.ece), cell(m.test.eceScaled)]];
    const e = m.ensemble;
    if (e)
      rows.push([
        `${m.model} ensemble`,
        String(e.runs),
        value(e.temperature),
        value(e.test.before.brier),
        value(e.test.after?.brier),
        value(e.test.before.ece),
        value(e.test.after?.ece),
      ]);
    return rows;
  });
  const widths = columnWidths(header, body);
  const line = (cells: string[]) => padCells(cells, widths, (i) => i !== 0).trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function formatDocument(doc: SummaryDocument): string {
  const unreached = doc.operatingPoints.models.flatMap((m) =>
    m.points
      .filter((p) => p.unreached > 0)
      .map((p) => `${m.model}: ${p.unreached} run(s) have no threshold for ${operatingPointLabel(p)} (their val split lacks the class).`),
  );
  return [
    `Experiment '${doc.experiment.name}': test split, mean ± sample std over completed runs (n = runs)`,
    '',
    formatSummary(doc.summary),
    '',
    'Operating points: the threshold t chosen on val, sensitivity and specificity measured on test at t;',
    `mean ± sample std over runs. Rule: ${doc.operatingPoints.rule}.`,
    doc.operatingPoints.definition,
    '',
    formatOperatingPoints(doc.operatingPoints),
    ...unreached,
    '',
    "Calibration of the probabilities: mean ± sample std over runs, and the ensemble of the runs (each image's mean p).",
    doc.calibration.definition,
    '',
    formatCalibration(doc.calibration),
  ].join('\n');
}
