/**
 * `melanoma data duplicates`: the exact and near-duplicate images of a dataset within and across train, val and test
 * (study/duplicates.ts), and with --experiment how the test metrics of its completed runs change without the test
 * images that have a duplicate in train or val (recomputed from the stored predictions by the runs' own metric
 * code, no retraining). Text, JSON, or with --markdown the whole of docs/duplicates.md.
 */
import { UsageError, UserError } from '../../common/errors.ts';
import { decodingProgress } from '../../common/decoding-progress.ts';
import { first } from '../../common/indexing.ts';
import type { Database } from '../../db/index.ts';
import { DUPLICATE_SPLITS, type DuplicatesReport } from '../../study/duplicate-pairs.ts';
import {
  HASH_BITS,
  HASH_FREQUENCIES,
  HASH_IMAGE_SIZE,
  copyCheck,
  fingerprintAll,
  leakEffect,
  pairImages,
  type CopyCheck,
  type LeakEffectRow,
  type ListedImage,
} from '../../study/duplicates.ts';
import { type ProtocolName, formatValue, validationRule } from '../../study/protocol.ts';
import { METRIC_NAMES } from '../../study/run.ts';
import { indexDataset, resolveDataDir } from '../../study/data/dataset.ts';
import { evaluateBinary } from '../../study/metrics/index.ts';

export interface DuplicatesFlags {
  data?: string;
  protocol: ProtocolName;
  threshold: number;
  json?: boolean;
  markdown?: boolean;
  experiment?: string;
  db?: string;
}

export interface DuplicatesDocument {
  dataset: { fingerprint: string; validation: string; images: Record<(typeof DUPLICATE_SPLITS)[number], number> };
  hash: { bits: number; imageSize: number; frequencies: number };
  duplicates: DuplicatesReport;
  copies: CopyCheck;
  /** With --experiment: its completed runs' test metrics with and without the leaked test images. */
  effect: { experiment: string; overrides: Record<string, unknown>; rows: LeakEffectRow[] } | null;
}

export async function duplicatesCommand(f: DuplicatesFlags): Promise<void> {
  if (f.json && f.markdown) throw new UsageError('--json and --markdown exclude each other: pick one.');
  if (f.db !== undefined && f.experiment === undefined) throw new UsageError('--db names the database of --experiment: give --experiment too.');
  const dir = resolveDataDir(f.data);
  const validation = validationRule(f.protocol);
  const index = await indexDataset(dir, { validation, warn: () => {} });
  const { openDatabaseToRead, findExperiment } = await import('../../db/index.ts');
  let database: Database | null = null;
  try {
    let experiment: { id: number; name: string; overrides: Record<string, unknown> } | null = null;
    if (f.experiment !== undefined) {
      database = await openDatabaseToRead(f.db, 'melanoma data duplicates');
      const found = await findExperiment(database, f.experiment);
      if (!found) throw new UserError(`--experiment: no experiment named '${f.experiment}' in ${database.target}.`);
      const row = first(
        await database.query<{ fp: string | null; overrides: Record<string, unknown> | null }>(
          "select dataset_fingerprint as fp, config->'protocol'->'overrides' as overrides from experiments where id = $1",
          [found.id],
        ),
        `experiment ${found.id}`,
      );
      if (row.fp !== null && row.fp !== index.fingerprint) {
        throw new UserError(
          `--experiment: '${f.experiment}' was run on another dataset (fingerprint ${row.fp.slice(0, 12)}…) than ${dir} (${index.fingerprint.slice(0, 12)}…).`,
        );
      }
      experiment = { id: found.id, name: found.name, overrides: row.overrides ?? {} };
    }

    const images: ListedImage[] = DUPLICATE_SPLITS.flatMap((split) => index.splits[split].map((r) => ({ id: r.id, split, path: r.path })));
    const bar = decodingProgress(!f.json && !f.markdown);
    let prints;
    try {
      prints = await fingerprintAll(images, { onProgress: bar.onProgress });
    } catch (err) {
      throw new UserError(`${dir}: ${(err as Error).message}`);
    } finally {
      bar.stop();
    }
    const doc: DuplicatesDocument = {
      dataset: {
        fingerprint: index.fingerprint,
        validation: formatValue(validation),
        images: { train: index.splits.train.length, val: index.splits.val.length, test: index.splits.test.length },
      },
      hash: { bits: HASH_BITS, imageSize: HASH_IMAGE_SIZE, frequencies: HASH_FREQUENCIES },
      duplicates: pairImages(images, prints, f.threshold),
      copies: await copyCheck(images, prints),
      effect: null,
    };
    if (database && experiment) {
      const { experimentCalibrationInput } = await import('../../db/index.ts');
      const runs = (await experimentCalibrationInput(database, experiment.id)).flatMap((r) => (r.test ? [{ model: r.model, test: r.test }] : []));
      const score = (labels: number[], probabilities: number[]) => evaluateBinary(labels, probabilities).metrics as unknown as Record<string, number>;
      doc.effect = { experiment: experiment.name, overrides: experiment.overrides, rows: leakEffect(runs, new Set(doc.duplicates.leakedTest), score) };
    }
    process.stdout.write(f.json ? `${JSON.stringify(doc, null, 2)}\n` : f.markdown ? duplicatesMarkdown(doc) : `${formatText(doc)}\n`);
  } finally {
    await database?.close();
  }
}

const fixed = (x: number | undefined, digits = 4) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const signed = (x: number) => (!Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`);
const splitOf = (p: { a: string; splitA: string }) => p.splitA;

function formatText(doc: DuplicatesDocument): string {
  const d = doc.duplicates;
  const lines = [
    `${d.images} images (train ${doc.dataset.images.train}, val ${doc.dataset.images.val}, test ${doc.dataset.images.test}; validation: ${doc.dataset.validation}).`,
    `Exact: the same decoded pixels. Near: ${d.bits}-bit DCT perceptual hashes at most ${d.threshold} bits apart.`,
    `Copies of ${doc.copies.copies} images (${doc.copies.what}): median ${doc.copies.medianBits} bits, at most ${doc.copies.maxBits}; ${d.justAbove} pairs lie ${d.threshold + 1}–${d.threshold + 16} bits apart.`,
    '',
    'splits        exact  near',
    ...d.counts.map((c) => `${c.splits.padEnd(12)}  ${String(c.exact).padStart(5)}  ${String(c.near).padStart(4)}`),
    '',
    `Test images with a duplicate in train or val: ${d.leakedTest.length}.`,
    '',
    'kind   bits  first (split)                          second (split)',
    ...d.pairs.map((p) => `${p.kind.padEnd(5)}  ${String(p.distance).padStart(4)}  ${`${p.a} (${splitOf(p)})`.padEnd(37)}  ${p.b} (${p.splitB})`),
  ];
  if (doc.effect) lines.push('', ...effectText(doc.effect));
  return lines.join('\n');
}

function effectText(effect: NonNullable<DuplicatesDocument['effect']>): string[] {
  const out = [`Test metrics of '${effect.experiment}' without the leaked test images (mean ± std over runs; ensemble):`];
  for (const row of effect.rows) {
    out.push(`${row.model}: ${row.runs} runs, ${row.images.all} test images, ${row.images.kept} kept`);
    for (const k of METRIC_NAMES) {
      const m = row.metrics[k];
      if (!m) continue;
      out.push(
        `  ${k.padEnd(9)}  all ${fixed(m.all.mean)} ± ${fixed(m.all.std)}  kept ${fixed(m.kept.mean)} ± ${fixed(m.kept.std)}  (${signed(m.kept.mean - m.all.mean)})  ensemble ${fixed(row.ensemble[k]!.all)} → ${fixed(row.ensemble[k]!.kept)}`,
      ); // ensemble has metrics' names
    }
  }
  return out;
}

/** docs/duplicates.md: deterministic (no clock, no machine path), regenerated by the command it names. */
export function duplicatesMarkdown(doc: DuplicatesDocument): string {
  const d = doc.duplicates;
  const cross = d.pairs.filter((p) => p.splitA !== p.splitB);
  const leakedMalignant = d.leakedTest.filter((image) => image.includes('/malignant/')).length;
  const overrides = doc.effect
    ? Object.entries(doc.effect.overrides)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '';
  const splitOfImage = new Map(
    d.pairs.flatMap(
      (p) =>
        [
          [p.a, p.splitA],
          [p.b, p.splitB],
        ] as const,
    ),
  );
  const group = d.groups[0] ?? [];
  const largest =
    group.length > 0
      ? DUPLICATE_SPLITS.map((s) => [s, group.filter((image) => splitOfImage.get(image) === s).length] as const)
          .filter(([, n]) => n > 0)
          .map(([s, n]) => `${n} in ${s}`)
          .join(', ')
      : '';
  const out = [
    '# Duplicates within and across the splits',
    '',
    'Generated by `npx melanoma data duplicates --data DIR --experiment NAME --db TARGET --markdown > docs/duplicates.md`',
    `on the dataset with fingerprint \`${doc.dataset.fingerprint.slice(0, 16)}…\` (the Kaggle folder in \`../shared/data/melanoma\`); do not edit by hand.`,
    '',
    '## Method',
    '',
    `- The splits: train and val are the seed protocol's (validation: ${doc.dataset.validation}); ${d.images} images: train ${doc.dataset.images.train}, val ${doc.dataset.images.val}, test ${doc.dataset.images.test}. A val image keeps its \`train/\` path.`,
    '- **Exact** duplicates have the same decoded pixels (SHA-256 of the RGB pixels and the size), whatever their files.',
    `- **Near** duplicates have perceptual hashes at most **${d.threshold} of ${d.bits} bits** apart. The hash (\`study/duplicates.ts\`) is a DCT pHash: the image in greyscale, resized to ${doc.hash.imageSize} x ${doc.hash.imageSize}, its 2-D DCT, and one bit per each of the ${doc.hash.frequencies} x ${doc.hash.frequencies} lowest frequencies (above their median or not).`,
    `- **Why ${d.threshold} bits** (the project's choice): copies of ${doc.copies.copies} images of this dataset, ${doc.copies.what}, lie a median ${doc.copies.medianBits} and at most ${doc.copies.maxBits} bits from their originals; ${d.justAbove} pairs lie just above, ${d.threshold + 1}–${d.threshold + 16} bits apart. When the threshold was chosen on the Kaggle dataset (\`study/duplicates.ts\`), every pair up to 51 bits looked like the same lesion (a copy, a crop, or a second photograph of it) and different lesions began near 56 bits: most of them are a small dark blob in the middle of skin. The usual 64-bit pHash (8 x 8 frequencies; the \`sharp-phash\` package among others) could not separate the two there: recompressed copies reached 10 bits (27 with that package's mean threshold) while different lesions came as close as 4.`,
    '',
    '## What it finds',
    '',
    '| Splits | Exact pairs | Near pairs |',
    '|---|---:|---:|',
    ...d.counts.map((c) => `| ${c.splits} | ${c.exact} | ${c.near} |`),
    '',
    `**${cross.length} pairs cross splits**; **${d.leakedTest.length} of the ${doc.dataset.images.test} test images** have an exact or near duplicate in train or val (${leakedMalignant} malignant, ${d.leakedTest.length - leakedMalignant} benign). The ${d.pairs.length} pairs link ${d.groups.reduce((a, g) => a + g.length, 0)} images in ${d.groups.length} groups; the largest has ${d.groups[0]?.length ?? 0} images${largest ? ` (${largest})` : ''}: one lesion photographed or cropped several times.`,
    '',
    '<details><summary>Every pair across splits</summary>',
    '',
    '| Kind | Bits | First | Split | Second | Split |',
    '|---|---:|---|---|---|---|',
    ...cross.map((p) => `| ${p.kind} | ${p.distance} | \`${p.a}\` | ${p.splitA} | \`${p.b}\` | ${p.splitB} |`),
    '',
    '</details>',
    '',
    'The dataset page of `melanoma serve --data DIR` shows the pairs as thumbnails.',
    '',
    '## Do the leaked test images change the test metrics?',
    '',
  ];
  if (!doc.effect) out.push("Run with `--experiment NAME` to recompute an experiment's test metrics without them.", '');
  else {
    out.push(
      `Experiment \`${doc.effect.experiment}\`${overrides ? ` (protocol overrides: ${overrides})` : ''}: each completed run's test metrics recomputed from its stored predictions (the runs' own metric code, no retraining) on all ${doc.dataset.images.test} test images and without the ${d.leakedTest.length} leaked ones; mean ± sample std over the runs, and the ensemble of the runs (each image's probability averaged). The runs counted are those completed when this was generated (their number is in the table).`,
      '',
      '| Model | Runs | Metric | All test images | Without leaked | Change | Ensemble, all | Ensemble, without |',
      '|---|---:|---|---:|---:|---:|---:|---:|',
      ...doc.effect.rows.flatMap((r) =>
        METRIC_NAMES.flatMap((k) => {
          const m = r.metrics[k];
          const e = r.ensemble[k];
          if (!m || !e) return [];
          return [
            `| ${r.model} | ${r.runs} | ${k} | ${fixed(m.all.mean)} ± ${fixed(m.all.std)} | ${fixed(m.kept.mean)} ± ${fixed(m.kept.std)} | ${signed(m.kept.mean - m.all.mean)} | ${fixed(e.all)} | ${fixed(e.kept)} |`,
          ];
        }),
      ),
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
