/**
 * The study as a Slurm array job on a real, one-node Slurm cluster: scripts/slurm-test-cluster.sh starts it (and a
 * PostgreSQL server of its own), runs README.md's cluster blocks as they stand, cancels one task and kills another
 * mid-run, and checks that every run completed exactly once. About 2 minutes on 2 cores. It needs root and Slurm's
 * Debian packages (.ci/system-packages.sh installs them) and skips loudly without.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/real-data.ts';

const COMMANDS = ['slurmctld', 'slurmd', 'munged', 'sbatch', 'psql'];

test("README.md's Slurm blocks on a one-node cluster: every run once, also when tasks are cancelled or killed mid-run", { timeout: 900_000 }, async (t) => {
  const missing = COMMANDS.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  const why =
    process.getuid?.() !== 0
      ? 'it runs as root (slurmd starts jobs as their user)'
      : missing.length
        ? `${missing.join(', ')} missing (bash .ci/system-packages.sh)`
        : null;
  if (why) {
    process.stderr.write(`\n*** SKIPPED: the Slurm cluster test: ${why} ***\n`);
    t.skip(`SKIPPED: ${why}`);
    return;
  }
  const child = spawn('bash', [join(PROJECT_ROOT, 'scripts', 'slurm-test-cluster.sh')], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /fault: \S+ \(cancelled task\) and \S+ \(killed task, after its lease\) were taken back; every run completed once/);
});
