/**
 * `melanoma predict`: new images through the completed runs of one model of an experiment (study/prediction.ts).
 * Every image is checked and the runs' checkpoints found before a model loads; nothing is stored.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.ts';
import { openDatabaseToRead, predictionSetup, type PredictionSetup } from '../../db/index.ts';
import { checkLesionImage } from '../../study/data/lesion-image.ts';
import { predictionBackend, predictionDocument, type PredictionDocument } from '../../study/prediction.ts';
import { IMAGE_EXTENSIONS, isImageName } from '../../study/data/dataset.ts';
import type { PredictFlags } from './predict.ts';

export async function predictCommand(paths: string[], f: PredictFlags): Promise<void> {
  const files = imageFiles(paths);
  const database = await openDatabaseToRead(f.db, 'melanoma predict');
  let setup: PredictionSetup;
  try {
    setup = await predictionSetup(database, { experiment: f.experiment, model: f.model });
  } finally {
    await database.close();
  }
  const minSide = Math.max(...setup.runs.map((r) => r.imageSize));
  for (const file of files) await checkLesionImage(file, file, minSide);

  const backend = f.backend ?? predictionBackend(setup.runs);
  const [{ initBackend }, { predictImages }] = await Promise.all([import('../../workers/backend/index.ts'), import('../../workers/predict/predict.ts')]);
  const active = await initBackend(backend);
  const probabilities = await predictImages(
    setup.runs,
    files.map((file) => ({ name: file, source: file })),
    { tta: f.tta, augment: setup.augment },
  );
  const doc = predictionDocument(
    { experiment: setup.experiment, model: setup.model, chosenBy: setup.chosenBy, backend: active.name, tta: f.tta, runs: setup.runs, rules: setup.rules },
    files.map((file, i) => ({ image: file, probabilities: probabilities[i]! })), // a row per file
  );
  process.stdout.write(f.json ? `${JSON.stringify(doc, null, 2)}\n` : formatPrediction(doc));
}

/** The files named, and the image files (by extension) under the folders named, in order; each must exist. */
export function imageFiles(paths: readonly string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
      .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() && isImageName(e.name) ? [join(dir, e.name)] : []));
  return paths.flatMap((path) => {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new UserError(`no such file or folder: ${path}`);
    }
    if (!isDir) return [path];
    const found = walk(path);
    if (found.length === 0) throw new UserError(`${path} holds no image files (${IMAGE_EXTENSIONS.join(', ')}).`);
    return found;
  });
}

const p4 = (x: number | null) => (x === null ? '-' : x.toFixed(4));

export function formatPrediction(doc: PredictionDocument): string {
  const views = doc.tta === 1 ? '1 view per image' : `${doc.tta} views per image (the image, then ${doc.tta - 1} rotated and flipped)`;
  const lines = [
    `experiment '${doc.experiment.name}', ${doc.model} (${doc.chosenBy}): ${doc.runs.length} run${doc.runs.length === 1 ? '' : 's'} ` +
      `(${doc.runs.map((r) => `#${r.runIndex}`).join(', ')}); backend ${doc.backend}; ${views}`,
    `decision rule: ${doc.rule}`,
  ];
  const width = Math.max(...doc.thresholds.map((t) => t.label.length));
  for (const image of doc.images) {
    const spread = image.std === null ? '' : `, runs ${p4(image.probability)} ± ${p4(image.std)}, min ${p4(image.min)}, max ${p4(image.max)}`;
    lines.push('', image.image, `  ensemble p ${p4(image.probability)}${spread}`);
    lines.push(`  each run: ${doc.runs.map((r, i) => `#${r.runIndex} ${p4(image.runs[i]!)}`).join(', ')}`);
    lines.push(`  ${'call'.padEnd(width)}  ${'t (ensemble)'.padEnd(12)}  ${'ensemble'.padEnd(9)}  runs calling malignant (each at its own t)`);
    for (const c of image.calls) {
      const call = c.malignant === null ? '-' : c.malignant ? 'malignant' : 'benign';
      lines.push(`  ${c.label.padEnd(width)}  ${p4(c.threshold).padEnd(12)}  ${call.padEnd(9)}  ${c.runsMalignant} of ${c.runsWithThreshold}`);
    }
  }
  const unreached = doc.thresholds.filter((t) => t.reason !== null);
  if (unreached.length) lines.push('', ...unreached.map((t) => `no ensemble threshold ${t.label}: ${t.reason}`));
  return `${lines.join('\n')}\n`;
}
