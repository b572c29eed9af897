/** `orchestrate --slurm`: the sbatch script it writes and the flags it refuses (slurm-submit.slow.test.ts: the whole path). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { UsageError } from '../../common/errors.ts';
import { checkSlurmFlags, sbatchLines, sbatchScript, type JobScript } from '../../orchestrator/slurm-submit.ts';

const job: JobScript = {
  tasks: 3,
  sbatchOptions: ['--time=2:00:00', '-p', 'gpu', '--gres', 'gpu:1', '--exclusive'],
  cwd: '/home/me/melanoma study',
  logDir: '/home/me/runs/trial/slurm',
  node: '/opt/node/bin/node',
  task: {
    db: 'postgres://melanoma@db-host/melanoma',
    experiment: 'trial',
    models: ['baseline', 'augmented'],
    overrides: { runs: 2, imageSize: 64, learningRate: 0.0003 },
    seed: 1,
    retries: 1,
    backend: 'auto',
    data: '/shared/melanoma',
    out: 'runs',
    featureCache: false,
    runsPerGpu: 1,
    lease: 30,
  },
};

test("sbatch options: one #SBATCH line per option with its value; what is no option, or the script's own, is refused", () => {
  assert.deepEqual(sbatchLines(job.sbatchOptions), ['--time=2:00:00', '-p gpu', '--gres gpu:1', '--exclusive']);
  assert.throws(
    () => sbatchLines(['--array=0-9']),
    (err: Error) => err instanceof UsageError && /--slurm N sets the array/.test(err.message),
  );
  assert.throws(() => sbatchLines(['-a', '3']), /--slurm N sets the array/);
  assert.throws(() => sbatchLines(['gpu']), /'gpu' after -- is not an sbatch option/);
  assert.throws(() => sbatchLines(['--time=1:00', 'x']), /'x' after -- is not an sbatch option/);
  assert.throws(() => sbatchLines(['--comment=two words']), /holds a space/);
});

test("the script: the array, logs and job name, the user's options, then each task joining the experiment on its allocation", () => {
  const script = sbatchScript(job);
  const lines = script.split('\n');
  assert.deepEqual(
    lines.filter((l) => l.startsWith('#SBATCH')),
    [
      '#SBATCH --job-name=melanoma-trial',
      '#SBATCH --array=0-2',
      '#SBATCH --output=/home/me/runs/trial/slurm/%A_%a.log',
      '#SBATCH --time=2:00:00',
      '#SBATCH -p gpu',
      '#SBATCH --gres gpu:1',
      '#SBATCH --exclusive',
    ],
  );
  assert.ok(lines.includes("cd '/home/me/melanoma study'"));
  const command = script
    .slice(script.indexOf('exec '))
    .replace(/ \\\n\s*/g, ' ')
    .trim();
  assert.match(command, /^exec \/opt\/node\/bin\/node \S+\/bin\/orchestrate\.mjs --join --gpus slurm --no-estimate /);
  assert.ok(
    command.endsWith(
      '--db postgres://melanoma@db-host/melanoma --experiment trial --models baseline,augmented --runs 2 --learning-rate 0.0003 --image-size 64 --seed 1 ' +
        '--retries 1 --backend auto --data /shared/melanoma --out runs --no-feature-cache --lease 30',
    ),
    command,
  );
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0, 'bash reads it');
  // The user's own job name and log files replace the script's.
  const own = sbatchScript({ ...job, sbatchOptions: ['-J', 'mine', '--output=/logs/%j.out'] })
    .split('\n')
    .filter((l) => l.startsWith('#SBATCH'));
  assert.deepEqual(own, ['#SBATCH --array=0-2', '#SBATCH -J mine', '#SBATCH --output=/logs/%j.out']);
});

test('--slurm needs a PostgreSQL server and takes its slots from each allocation: other flags are refused', () => {
  const base = { models: [], runsPerGpu: 1, backend: 'auto', experiment: 'x', seed: 1, retries: 1, out: 'runs', host: '', port: 0 } as const;
  const slurm = { ...base, models: [...base.models], slurm: 2, db: 'postgres://me:p%40ss@db/melanoma' };
  assert.deepEqual(checkSlurmFlags(slurm), { url: 'postgres://me@db/melanoma', password: 'p@ss' });
  assert.equal(checkSlurmFlags({ ...base, models: [] }), null);
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ db: '/tmp/folder' }, /needs a PostgreSQL server that every node reaches .* not the PGlite folder \/tmp\/folder/],
    [{ db: 'memory://' }, /not memory:\/\//],
    [{ gpus: [0] }, /--slurm with --gpus: each task's slots are its allocation's/],
    [{ workers: 4 }, /--slurm with --workers/],
    [{ join: true }, /--slurm with --join/],
    [{ sbatch: ['--array=1-3'] }, /sets the array/],
  ];
  for (const [flags, message] of refused)
    assert.throws(
      () => checkSlurmFlags({ ...slurm, ...flags }),
      (err: Error) => err instanceof UsageError && message.test(err.message),
    );
  assert.throws(() => checkSlurmFlags({ ...base, models: [], sbatch: ['--time=1:00'] }), /'--time=1:00': arguments after -- are sbatch options, for --slurm N/);
});
