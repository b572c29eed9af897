#!/usr/bin/env bash
# A Slurm cluster of one node on this machine (Debian's slurmctld, slurmd and munge; 2 CPU slots) and a throwaway
# PostgreSQL server, then the README's "On a Slurm cluster" blocks as they stand: the database set-up, and a trial
# study (2 models x 2 runs at 64 px, 2 epochs) submitted as a 2-task array job. Checks that every run completed
# exactly once, by both tasks. Then faults in a second study: one task is cancelled (scancel) mid-run, the job script
# is submitted again, and a task of that job is killed outright (kill -9) mid-run; the tasks left take both runs back
# (the killed one's after its lease) and complete every run, each recorded once. Everything it
# started is stopped and deleted on exit, failed or not.
#
#   bash scripts/slurm-test-cluster.sh        # as root, with the packages of .ci/system-packages.sh
#
# Data ($MELANOMA_DATA for the README's blocks): a copy of the first images of ../shared/data/melanoma, else synthetic
# images.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
say() { echo "slurm-test-cluster: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "needs root (slurmd starts each job as its user)"
for cmd in slurmctld slurmd munged sbatch squeue scancel scontrol psql node; do
  command -v "$cmd" >/dev/null || fail "$cmd is missing: bash .ci/system-packages.sh installs it (slurmctld slurmd slurm-client munge postgresql)"
done

dir=$(mktemp -d /tmp/melanoma-slurm-XXXXXX)
chmod 755 "$dir"
work="$repo/test-output/slurm-cluster"   # inside the checkout, so that `npx orchestrate` is this project's
free_port() { node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"; }
pg_port=$(free_port)
export SLURM_CONF="$dir/slurm.conf"

teardown() {
  local rc=$?
  set +e
  if [[ $rc -ne 0 ]]; then
    for f in "$dir"/log/*.log "$work"/runs/*/slurm/*.log; do
      [[ -f $f ]] && { echo "---- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2; }
    done
  fi
  if [[ -f $dir/slurmctld.pid ]]; then
    local jobs
    jobs=$(squeue -h -o %i 2>/dev/null)
    [[ -n $jobs ]] && scancel $jobs
    for _ in $(seq 30); do [[ -z $(squeue -h 2>/dev/null) ]] && break; sleep 1; done
  fi
  for pid_file in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    [[ -f $pid_file ]] && kill "$(cat "$pid_file")" 2>/dev/null
  done
  [[ -S $dir/munge/munge.sock ]] && munged --stop --socket="$dir/munge/munge.sock" >/dev/null 2>&1
  MELANOMA_TEST_PG_PORT=$pg_port bash "$repo/scripts/postgres-test-server.sh" stop >/dev/null 2>&1
  rm -rf "$dir" "$work"
  say "$([[ $rc -eq 0 ]] && echo passed || echo "failed (exit $rc)"); cluster and database stopped, $dir and $work deleted"
}
trap teardown EXIT

# munge: a key and a socket of its own, so that nothing of the machine's own set-up is used or changed.
mkdir -m 711 "$dir/munge" && mkdir "$dir/state" "$dir/spool" "$dir/log"
head -c 1024 /dev/urandom > "$dir/munge/munge.key" && chmod 600 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"

node=$(hostname -s)
cat > "$SLURM_CONF" <<CONF
ClusterName=melanoma-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No systemd or cgroups here: processes tracked by their parents, no CPU binding, no accounting.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -i
slurmd -N "$node"
for _ in $(seq 60); do [[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && break; sleep 1; done
[[ $(sinfo -h -o %T) == idle ]] || fail "the node did not come up: $(sinfo -h -o '%T %E')"
say "Slurm $(sinfo -V | awk '{print $2}'): node $node with 2 CPUs, config $SLURM_CONF"

eval "$(MELANOMA_TEST_PG_PORT=$pg_port bash "$repo/scripts/postgres-test-server.sh")"
export PGHOST=127.0.0.1 PGPORT=$pg_port PGUSER=postgres PGDATABASE=postgres   # the superuser, for the README's psql
export DB_HOST=127.0.0.1:$pg_port MELANOMA_DB_PASSWORD=trial-password
sql() { psql -X -At -v ON_ERROR_STOP=1 -d melanoma -c "$1"; }

mkdir -p "$work"
export MELANOMA_DATA="$work/data"
# 150 train and 50 test images per class: an epoch at 64 px takes about a second on one core.
node --input-type=module -e "
  import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
  import sharp from 'sharp';
  const [real, out] = ['$repo/../shared/data/melanoma', '$MELANOMA_DATA'];
  for (const [split, n] of [['train', 150], ['test', 50]]) {
    for (const [label, cls] of ['benign', 'malignant'].entries()) {
      const dst = out + '/' + split + '/' + cls;
      mkdirSync(dst, { recursive: true });
      const src = real + '/' + split + '/' + cls;
      if (existsSync(src)) {
        for (const f of readdirSync(src).sort((a, b) => parseInt(a) - parseInt(b)).slice(0, n)) copyFileSync(src + '/' + f, dst + '/' + f);
        continue;
      }
      for (let i = 0; i < n; i++) {
        const level = 60 + 80 * label + (i % 40);
        await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: level, g: 90, b: 200 - level } } }).jpeg().toFile(dst + '/' + i + '.jpg');
      }
    }
  }"
say "data: $MELANOMA_DATA ($([[ -d $repo/../shared/data/melanoma ]] && echo "the first images of ../shared/data/melanoma" || echo "synthetic: ../shared is absent"))"

# The README's two blocks, as they stand.
blocks=$(awk '/^## On a Slurm cluster/ { on = 1 } on && /^```sh$/ { code = 1; next } code && /^```$/ { code = 0; if (++n == 2) exit; next } code' "$repo/README.md")
[[ $(grep -c . <<<"$blocks") -eq 3 ]] || fail "README.md's 'On a Slurm cluster' section does not hold the two blocks this script runs: $blocks"
say "running README.md's blocks:"$'\n'"$blocks"
cd "$work"
out=$(bash -euo pipefail -c "$blocks")
echo "$out"
job=$(sed -nE 's/^Slurm job ([0-9]+):.*/\1/p' <<<"$out")
[[ -n $job ]] || fail "no job id in the output of orchestrate --slurm"
grep -q "^results: .*http://127.0.0.1:8080/experiments/[0-9]" <<<"$out" || fail "no page URL in the output"

# Waits until job $1 has left the queue (at most $2 seconds).
wait_job() {
  for _ in $(seq "$2"); do [[ -z $(squeue -h -j "$1" 2>/dev/null) ]] && return 0; sleep 1; done
  fail "job $1 still in the queue after $2 s: $(squeue -j "$1")"
}
# Every run of experiment $1 completed once: one row each, 3 final evaluations, 2 x epochs epoch rows, the attempts $2
# lists (model:index:attempts, space-separated, sorted).
check_runs() {
  local runs
  runs=$(sql "select r.model || ':' || r.run_index || ':' || r.attempts from runs r join experiments e on e.id = r.experiment_id where e.name = '$1' and r.status = 'completed'
    and (select count(*) from evaluations v where v.run_id = r.id) = 3
    and (select count(*) from epoch_metrics m where m.run_id = r.id) = 2 * (r.spec->>'epochs')::int order by 1" | tr '\n' ' ')
  [[ $runs == "$2 " ]] || fail "experiment $1: completed runs (model:index:attempts) '$runs', expected '$2': $(sql "select model, run_index, status, attempts, slurm_job, error from runs r join experiments e on e.id = r.experiment_id where e.name = '$1'")"
}
# The Slurm jobs that recorded the runs of experiment $1 (sorted, distinct), or of its run $2 (model:index).
jobs_of() {
  sql "select distinct slurm_job from runs r join experiments e on e.id = r.experiment_id where e.name = '$1' and ('${2:-}' = '' or r.model || ':' || r.run_index = '${2:-}') order by 1" | tr '\n' ' '
}
exit_codes() { scontrol -o show job "$1" | sed -nE 's/.*ArrayTaskId=([0-9]+).* JobState=([A-Z_]+).* ExitCode=([0-9:]+).*/\1 \2 \3/p' | sort | tr '\n' ' '; }

started=$SECONDS
wait_job "$job" 300
check_runs slurm-trial "augmented:0:1 augmented:1:1 baseline:0:1 baseline:1:1"
[[ $(jobs_of slurm-trial) == "${job}_0 ${job}_1 " ]] || fail "trial: runs recorded by Slurm jobs $(jobs_of slurm-trial), expected both tasks of $job"
[[ $(exit_codes "$job") == "0 COMPLETED 0:0 1 COMPLETED 0:0 " ]] || fail "trial job $job: tasks ended $(exit_codes "$job")"
say "trial: job $job's 2 tasks completed the 4 runs, each once, in $((SECONDS - started)) s"

# Faults: a study whose tasks Slurm stops. Task 1 is cancelled (scancel: SIGTERM, its run is recorded interrupted and
# taken at once); the job script is submitted again, and the new job's first task is killed outright (kill -9, as a
# lost node: its run keeps its stale lease until it expires). The tasks left complete every run, each once.
export MELANOMA_DB=postgres://melanoma:$MELANOMA_DB_PASSWORD@$DB_HOST/melanoma PGPASSWORD=$MELANOMA_DB_PASSWORD
out=$(npx orchestrate --slurm 2 --experiment slurm-fault --models baseline,augmented --runs 3 --epochs 3 --image-size 64 \
  --backend wasm --lease 10 -- --time=0:30:00)
fault=$(sed -nE 's/^Slurm job ([0-9]+):.*/\1/p' <<<"$out")
script=$(sed -nE 's/.*, script (\S+), logs.*/\1/p' <<<"$out")
[[ -n $fault && -f $script ]] || fail "no job id or script for the fault job: $out"
# Waits until Slurm job $1 trains a run of slurm-fault (an epoch recorded); prints it as model:index.
training_run() {
  local run=""
  for _ in $(seq 600); do
    run=$(sql "select model || ':' || run_index from runs r join experiments e on e.id = r.experiment_id where e.name = 'slurm-fault'
      and r.status = 'running' and r.slurm_job = '$1' and exists (select 1 from epoch_metrics m where m.run_id = r.id) limit 1")
    [[ -n $run ]] && { echo "$run"; return 0; }
    sleep 0.2
  done
  fail "Slurm job $1 never trained a run"
}
cancelled=$(training_run "${fault}_1")
scancel "${fault}_1"
say "fault: scancel ${fault}_1 while it trained $cancelled"
again=$(sbatch --parsable "$script")
killed=$(training_run "${again}_0")
task_job=$(squeue -h -j "${again}_0" -o %A)   # listpids takes the task's own job id
pid=$({ scontrol listpids "$task_job" || true; } | awk 'NR > 1 { print $1 }' | while read -r p; do
  grep -qa orchestrate.mjs "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done | head -n 1)
[[ -n $pid ]] || fail "no orchestrator process of Slurm job ${again}_0 (job $task_job): $(scontrol listpids "$task_job" 2>&1)"
killed_at=$(date +%s.%N)
kill -9 "$pid"
say "fault: kill -9 the orchestrator of ${again}_0 (pid $pid) while it trained $killed"
wait_job "$fault" 300
wait_job "$again" 300
# One attempt per run, and one more for each stop it went through (the resubmitted task may take the cancelled run).
expected=$(for run in augmented:0 augmented:1 augmented:2 baseline:0 baseline:1 baseline:2; do
  n=1; [[ $run == "$cancelled" ]] && n=$((n + 1)); [[ $run == "$killed" ]] && n=$((n + 1)); echo "$run:$n"; done | tr '\n' ' ')
check_runs slurm-fault "${expected% }"
for run in "$cancelled" "$killed"; do
  [[ $(jobs_of slurm-fault "$run") =~ ^(${fault}_0|${again}_1)" "$ ]] || fail "fault: $run was completed by $(jobs_of slurm-fault "$run"), a task that was stopped"
done
early=$(sql "select count(*) from runs r join experiments e on e.id = r.experiment_id where e.name = 'slurm-fault'
  and r.model || ':' || r.run_index = '$killed' and extract(epoch from r.started_at) < $killed_at + 7.5")
[[ $early == 0 ]] || fail "fault: $killed was taken back before its lease (10 s, heartbeats every 2.5 s) could expire"
[[ $(exit_codes "$fault") =~ ^"0 COMPLETED 0:0 1 CANCELLED " ]] || fail "fault job $fault: tasks ended $(exit_codes "$fault")"
[[ $(exit_codes "$again") =~ ^"0 FAILED 0:9 1 COMPLETED 0:0 "$ ]] || fail "resubmitted job $again: tasks ended $(exit_codes "$again")"
say "fault: $cancelled (cancelled task) and $killed (killed task, after its lease) were taken back; every run completed once"
