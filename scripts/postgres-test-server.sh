#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite: a fresh cluster in a temporary folder, trust auth on
# 127.0.0.1 only, fsync off. Prints the line to eval on stdout (everything else goes to stderr):
#   eval "$(bash scripts/postgres-test-server.sh)"     # start (or reuse), exports MELANOMA_TEST_PG_URL
#   bash scripts/postgres-test-server.sh stop          # stop it and delete its folder
#   bash scripts/postgres-test-server.sh url           # print the URL of the running server
# Settings: MELANOMA_TEST_PG_PORT (default 55432), PG_BIN (default: the newest /usr/lib/postgresql/*/bin).
# Started as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

port=${MELANOMA_TEST_PG_PORT:-55432}
dir=/tmp/melanoma-test-pg-$port  # not $TMPDIR: the postgres user must reach it when started as root
db=melanoma_test
url="postgres://postgres@127.0.0.1:$port/$db"
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
  echo "postgres-test-server: no PostgreSQL server binaries (looked in /usr/lib/postgresql/*/bin; set PG_BIN or install the postgresql package)" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() {
  [[ -f "$dir/data/postmaster.pid" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

case "${1:-start}" in
  start)
    if running; then
      echo "postgres-test-server: already running in $dir" >&2
    else
      rm -rf "$dir"
      mkdir -p "$dir"
      if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
      opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
      if ! as_owner "$bin/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/server.log" -w -t 60 start >&2; then
        cat "$dir/server.log" >&2
        echo "postgres-test-server: could not start PostgreSQL on 127.0.0.1:$port (is the port taken? set MELANOMA_TEST_PG_PORT)" >&2
        exit 1
      fi
      as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
      echo "postgres-test-server: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, folder $dir" >&2
    fi
    echo "export MELANOMA_TEST_PG_URL=$url"
    ;;
  stop)
    if running; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2; fi
    rm -rf "$dir"
    ;;
  url)
    running || { echo "postgres-test-server: not running (start it first)" >&2; exit 1; }
    echo "$url"
    ;;
  *)
    echo "usage: postgres-test-server.sh [start|stop|url]" >&2
    exit 2
    ;;
esac
