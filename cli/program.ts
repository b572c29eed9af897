/** The `melanoma` command tree: one run, the data, the models, weights, benchmarks, SQL over the run history, an experiment's summary, the reproduction report, carrying experiments between databases, the web page. */
import { Command } from 'commander';
import * as bench from './commands/bench.ts';
import * as data from './commands/data.ts';
import * as exportCmd from './commands/export.ts';
import * as importCmd from './commands/import.ts';
import * as models from './commands/models.ts';
import * as predict from './commands/predict.ts';
import * as predictions from './commands/predictions.ts';
import * as protocol from './commands/protocol.ts';
import * as report from './commands/report.ts';
import * as rescore from './commands/rescore.ts';
import * as run from './commands/run.ts';
import * as saliency from './commands/saliency.ts';
import * as serve from './commands/serve.ts';
import * as sql from './commands/sql.ts';
import * as summary from './commands/summary.ts';
import * as weights from './commands/weights.ts';
import { FILTERED_COMMANDS } from './filtered-child.mjs';
import { examples } from './help.ts';
import { verboseOption } from './options.ts';

export function melanomaProgram(): Command {
  const program = new Command('melanoma')
    .description('Melanoma vs. benign skin-lesion study: train and evaluate models, inspect data, query results.')
    .version('0.1.0')
    .addHelpText(
      'after',
      examples(
        'melanoma data inspect --data ./data',
        'melanoma run --model baseline --data ./data --epochs 5',
        'melanoma summary',
        'melanoma sql "select model, n, roc_auc_mean from metric_summary_wide where split = \'test\'"',
        'melanoma weights --help          # every command has its own --help, with examples',
      ),
    );
  for (const command of [
    run,
    data,
    protocol,
    models,
    weights,
    bench,
    sql,
    summary,
    predictions,
    rescore,
    predict,
    saliency,
    report,
    exportCmd,
    importCmd,
    serve,
  ])
    command.register(program);
  for (const command of program.commands) if (FILTERED_COMMANDS.includes(command.name())) command.addOption(verboseOption());
  // --verbose (cli/options.ts) reaches the processes a command starts, e.g. the adapter listing of `--backend auto`.
  program.hook('preAction', (_program, action) => {
    if (action.opts().verbose) process.env.MELANOMA_VERBOSE = '1';
  });
  return program;
}
