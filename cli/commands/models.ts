import type { Command } from 'commander';
import { last } from '../../common/indexing.ts';
import { columnWidths, padCells } from '../../common/text-table.ts';
import { DEFAULT_IMAGE_SIZE } from '../../study/protocol.ts';
import { MODEL_NAMES, type ModelName } from '../../study/run.ts';
import { oneOf, positiveInt } from '../options.ts';
import { examples } from '../help.ts';

interface SummaryRow {
  name: string;
  className: string;
  outputShape: string;
  params: number;
  trainable: boolean;
}

interface ModelSummary {
  model: ModelName;
  imageSize: number;
  layers: SummaryRow[];
  total: number;
  trainable: number;
  nonTrainable: number;
}

const n = (x: number) => x.toLocaleString('en-US');

/** A table like Keras' model.summary(), nested models expanded. */
export function formatSummary(s: ModelSummary): string {
  const head = ['Layer (type)', 'Output Shape', 'Param #', 'Trainable'];
  const rows = s.layers.map((l) => [`${l.name} (${l.className})`, l.outputShape, n(l.params), l.params === 0 ? '-' : l.trainable ? 'yes' : 'no']);
  const widths = columnWidths(head, rows);
  const line = (cells: string[]) => padCells(cells, widths, (i) => i === 2).trimEnd();
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  return [
    `Model: "${s.model}" (input ${s.imageSize}x${s.imageSize}x3)`,
    rule('='),
    line(head),
    rule('='),
    ...rows.map(line),
    rule('='),
    `Total params: ${n(s.total)}`,
    `Trainable params: ${n(s.trainable)}`,
    `Non-trainable params: ${n(s.nonTrainable)}`,
    '',
  ].join('\n');
}

export function register(program: Command): void {
  const models = program.command('models').description("The study's models.").addHelpText('after', examples('melanoma models summary --model xception'));
  models
    .command('summary')
    .description("Each model's layers and its total / trainable / non-trainable parameter counts (random weights, no weight files needed).")
    .option('--model <name>', `only this model (${MODEL_NAMES.join(', ')})`, oneOf(MODEL_NAMES))
    .option('--image-size <px>', 'input image size', positiveInt, DEFAULT_IMAGE_SIZE)
    .option('--json', 'print one JSON document')
    .addHelpText('after', examples('melanoma models summary', 'melanoma models summary --model xception --image-size 299', 'melanoma models summary --json'))
    .action(async (opts: { model?: ModelName; imageSize: number; json?: boolean }) => {
      const { initBackend } = await import('../../workers/backend/index.ts');
      await initBackend('cpu');
      const { buildModel, summarize } = await import('../../workers/models/index.ts');
      const summaries: ModelSummary[] = [];
      for (const name of opts.model ? [opts.model] : MODEL_NAMES) {
        const built = await buildModel(name, { imageSize: opts.imageSize, seed: 0, outputBias: 0, randomWeights: true });
        const s = summarize(built.model);
        summaries.push({
          model: name,
          imageSize: opts.imageSize,
          layers: s.layers,
          total: s.total,
          trainable: s.trainable,
          nonTrainable: s.total - s.trainable,
        });
        built.model.dispose();
        if (!opts.json) process.stdout.write(`${formatSummary(last(summaries))}\n`);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(opts.model ? summaries[0] : summaries, null, 2)}\n`);
    });
}
