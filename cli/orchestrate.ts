/** `orchestrate`: a protocol of the study (every model x its runs) over GPU or CPU slots, results in the database. */
import { Command, Option } from 'commander';
import { runProgram } from './main.ts';
import { examples } from './help.ts';
import {
  backendOption,
  dataOption,
  listOf,
  nonNegativeInt,
  oneOf,
  overrideOptions,
  port,
  positiveInt,
  verboseOption,
  weightsOption,
  withOptions,
} from './options.ts';
import { DEFAULT_PROTOCOL, PROTOCOL_NAMES } from '../study/protocol.ts';
import { MODEL_NAMES } from '../study/models.ts';
import { orchestrate, STUDY_MODELS } from '../orchestrator/orchestrate.ts';
import { defaultCpuWorkers, parseGpus, THREADS_PER_CPU_RUN } from '../orchestrator/slots.ts';

const program = new Command('orchestrate')
  .description(
    "Runs the study: every model of --models, its protocol's number of runs (run i uses seed --seed + i), one run at a " +
      'time per slot (one slot per GPU, or CPU slots), every epoch and final metric stored in the database, then the ' +
      'summary table. The same command again resumes the experiment: completed runs are kept, the others continue from their last completed epoch (from scratch where that state is not on this machine).',
  )
  .option(
    '--protocol <name>',
    `the study's settings: ${PROTOCOL_NAMES.join(' (the article as written and as its Keras code behaved), ')} (the project's ` +
      `earlier choices) (default: a resumed experiment's, else ${DEFAULT_PROTOCOL}; see \`melanoma protocol show\`)`,
    oneOf(PROTOCOL_NAMES),
  )
  .option('--models <list>', `comma-separated models: ${MODEL_NAMES.join(', ')} (default: ${STUDY_MODELS.join(',')})`, listOf(MODEL_NAMES))
  .option(
    '--gpus <list>',
    "GPU indices, e.g. 0,1; 'none' for CPU slots; 'slurm' for those of the Slurm job it runs in, else its CPUs (default: every GPU nvidia-smi lists)",
    (value: string) => (value.trim() === 'slurm' ? 'slurm' : parseGpus(value)),
  )
  .option('--runs-per-gpu <n>', 'concurrent runs on each GPU', positiveInt, 1)
  .option(
    '--workers <n>',
    `CPU slots without GPUs (default: cores / ${THREADS_PER_CPU_RUN} = ${defaultCpuWorkers()} here, also the most allowed without --oversubscribe)`,
    positiveInt,
  )
  .option('--oversubscribe', 'allow more --workers than the cores can run at once (each run then goes slower)')
  .addOption(backendOption())
  .addOption(dataOption())
  .option('--db <target>', 'database: a PGlite folder, memory://, or a postgres:// URL (default: $MELANOMA_DB, $DATABASE_URL, else ./.melanoma/db)')
  .option('--experiment <name>', 'experiment name; an existing one is resumed', 'study');
withOptions(program, overrideOptions('runs', 'epochs', 'imageSize', 'batchSize'))
  .option('--seed <n>', 'experiment seed: run i of every model uses seed + i', nonNegativeInt, 1)
  .option('--retries <n>', 'times a failed run is tried again', nonNegativeInt, 1)
  .option('--out <dir>', 'checkpoints and histories go to OUT/<experiment>/<model>-run<i>', 'runs')
  .option('--feature-cache <dir>', 'frozen-trunk activations shared by the runs of transfer models (default: OUT/features)')
  .option('--no-feature-cache', 'let every run compute its own frozen-trunk activations')
  .addOption(weightsOption())
  .option('--dry-run', 'print the planned runs with their resolved settings and sources, and what is missing; store nothing')
  .option('--no-estimate', "skip the experiment's time estimate (a calibration of a few training steps per model when the database has no history)")
  .addOption(verboseOption())
  .option('--serve', 'also serve the results web page (and keep serving after the runs, until Ctrl-C)')
  .option('--host <host>', 'web server address', '127.0.0.1')
  .option('--port <n>', 'web server port (0 picks a free one)', port, 8080)
  .option(
    '--slurm <tasks>',
    'submit the study to Slurm instead of running it: store the experiment, then sbatch an array job of this many tasks, ' +
      'each an orchestrator that joins it on its allocation (--gpus slurm); sbatch options go after --. Needs a postgres:// --db',
    positiveInt,
  )
  .option('--join', 'join an experiment another orchestrator stored (as each --slurm task does): claim its runs, add none, retry no failed one')
  .option(
    '--lease <seconds>',
    "a running run whose orchestrator's heartbeat is older is taken back by another (every orchestrator of the experiment should use the same)",
    positiveInt,
    60,
  )
  .argument('[sbatch-options...]', 'with --slurm, after --: options for sbatch, e.g. -- --partition=gpu --gres=gpu:1 --time=12:00:00')
  .option('--json', 'print one JSON document (experiment, runs, summary; with --dry-run the plan) at the end and nothing else on stdout')
  // Test hook: the task file the slots run instead of workers/thread-entry.mjs.
  .addOption(new Option('--thread-file <path>').hideHelp())
  .addOption(new Option('--poll-ms <ms>').hideHelp().argParser(positiveInt))
  .addHelpText(
    'after',
    examples(
      'orchestrate --dry-run                      # the planned runs and their settings; stores nothing',
      'orchestrate --serve                        # the seed protocol, results page at http://127.0.0.1:8080',
      'orchestrate --experiment demo --models baseline,augmented --runs 2 --epochs 3 --image-size 64',
      'orchestrate --protocol extended --models baseline,augmented,mobilenet,mobilenet-ft --gpus 0,1',
      'orchestrate --gpus none --workers 4 --db postgres://user@host/melanoma --experiment cpu-study',
      'orchestrate --slurm 8 --db postgres://melanoma@db-host/melanoma -- --gres=gpu:1 --time=24:00:00',
      'orchestrate --slurm 8 --db postgres://melanoma@db-host/melanoma --dry-run   # the sbatch script; stores nothing',
    ),
  )
  .action(async (sbatch: string[], opts) => {
    process.exitCode = await orchestrate({ ...opts, sbatch, models: opts.models ?? [...STUDY_MODELS] });
  });

await runProgram(program);
