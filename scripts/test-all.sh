#!/usr/bin/env bash
# Everything the test suite needs on a fresh Debian machine, then the suite itself:
# system packages (lavapipe, PostgreSQL, Chromium, clang, Slurm), npm packages, a throwaway PostgreSQL server, type check,
# the SIMD kernels rebuilt from source and compared with the committed binary, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/system-packages.sh
npm ci --no-audit --no-fund
eval "$(bash scripts/postgres-test-server.sh)"   # exports MELANOMA_TEST_PG_URL
trap 'bash scripts/postgres-test-server.sh stop >/dev/null 2>&1 || true' EXIT
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
npx tsc --noEmit
npx tsc --noEmit -p tsconfig.browser.json   # the page's modules (web/public), with the browser's globals only
bash scripts/check-migrations.sh
npm run --silent lint
npm run --silent format:check
bash scripts/build-simd-kernels.sh --check
npm test
