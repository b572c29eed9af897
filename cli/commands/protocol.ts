import type { Command } from 'commander';
import { MODEL_NAMES, type ModelName } from '../../study/models.ts';
import { DEFAULT_PROTOCOL, describeSource, PROTOCOL_NAMES, PROTOCOLS, settingRows, type ProtocolName } from '../../study/protocol.ts';
import { listOf, oneOf } from '../options.ts';
import { examples } from '../help.ts';

/** The protocol's settings as a Markdown table: one row per setting, one column per model. */
export function protocolMarkdown(name: ProtocolName, models: readonly ModelName[] = MODEL_NAMES): string {
  const rows = settingRows(PROTOCOLS[name].models, models);
  // Rows in the order of the model with the most kinds of setting (augmented, fine-tuned, standing in).
  const rowsOf = (m: ModelName) => settingRows(PROTOCOLS.seed.models, [m]).map((r) => r.setting);
  const order = MODEL_NAMES.map(rowsOf).reduce((most, r) => (r.length > most.length ? r : most));
  const settings = [...new Set([...order, ...rows.map((r) => r.setting)])].filter((s) => rows.some((r) => r.setting === s));
  const cell = (model: ModelName, setting: string) => {
    const r = rows.find((x) => x.model === model && x.setting === setting);
    if (!r) return '';
    const mark = 'article' in r.source ? `art. ${r.source.article.split(':')[0]}` : 'choice' in r.source ? 'choice' : 'flag';
    return `${r.value} (${mark})`.replace(/\|/g, '\\|');
  };
  const lines = [
    `| setting | ${models.join(' | ')} |`,
    `|---|${models.map(() => '---').join('|')}|`,
    ...settings.filter((s) => s !== 'architecture').map((s) => `| ${s.trim()} | ${models.map((m) => cell(m, s)).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function register(program: Command): void {
  const protocol = program
    .command('protocol')
    .description("The study's protocols: every setting of every model, with its source.")
    .addHelpText('after', examples('melanoma protocol show', 'melanoma protocol show --protocol extended --markdown'));
  protocol
    .command('show')
    .description("Each model's settings in a protocol, each with its source: the article's line, or the project's choice and why.")
    .option('--protocol <name>', `${PROTOCOL_NAMES.join(', ')}`, oneOf(PROTOCOL_NAMES), DEFAULT_PROTOCOL)
    .option('--models <list>', `comma-separated models (default: all: ${MODEL_NAMES.join(', ')})`, listOf(MODEL_NAMES))
    .option('--markdown', 'a Markdown table (values and the article line or "choice"), as the README shows it')
    .option('--json', 'the protocol as data')
    .addHelpText(
      'after',
      examples(
        'melanoma protocol show',
        'melanoma protocol show --protocol extended --models baseline,xception',
        'melanoma protocol show --markdown > protocol.md',
      ),
    )
    .action((opts: { protocol: ProtocolName; models?: ModelName[]; markdown?: boolean; json?: boolean }) => {
      const models = opts.models ?? [...MODEL_NAMES];
      const p = PROTOCOLS[opts.protocol];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...p, models: Object.fromEntries(models.map((m) => [m, p.models[m]])) }, null, 2)}\n`);
      } else if (opts.markdown) {
        process.stdout.write(`${protocolMarkdown(opts.protocol, models)}\n`);
      } else {
        const lines = [`protocol ${p.name}: ${p.description}`, ''];
        for (const r of settingRows(p.models, models))
          lines.push(`${r.model.padEnd(13)} ${r.setting.padEnd(18)} ${r.value.padEnd(34)} ${describeSource(r.source)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
    });
}
