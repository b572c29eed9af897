/** `melanoma`: one run, the data, the models, weights, benchmarks, SQL over the run history, an experiment's summary, the reproduction report, carrying experiments between databases, the web page. */
import { Command } from 'commander';
import { runProgram } from './main.ts';
import * as bench from './commands/bench.ts';
import * as data from './commands/data.ts';
import * as exportCmd from './commands/export.ts';
import * as importCmd from './commands/import.ts';
import * as models from './commands/models.ts';
import * as predictions from './commands/predictions.ts';
import * as protocol from './commands/protocol.ts';
import * as report from './commands/report.ts';
import * as run from './commands/run.ts';
import * as serve from './commands/serve.ts';
import * as sql from './commands/sql.ts';
import * as summary from './commands/summary.ts';
import * as weights from './commands/weights.ts';

const program = new Command('melanoma')
  .description('Melanoma vs. benign skin-lesion study: train and evaluate models, inspect data, query results.')
  .version('0.1.0');

for (const command of [run, data, protocol, models, weights, bench, sql, summary, predictions, report, exportCmd, importCmd, serve]) command.register(program);

await runProgram(program);
