#!/usr/bin/env bash
# Fails when db/schema.ts has changes that no committed migration holds: drizzle-kit generates from the schema
# into a copy of db/migrations, and the copy must come out unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
copy=test-output/migrations-check
rm -rf "$copy" && mkdir -p test-output && cp -r db/migrations "$copy"
npx drizzle-kit generate --dialect=postgresql --schema=./db/schema.ts --out="$copy" >/dev/null
if ! diff -r db/migrations "$copy" >/dev/null; then
  echo "check-migrations: db/schema.ts differs from the committed migrations; run 'npm run db:generate -- --name <what>' and commit db/migrations:" >&2
  diff -rq db/migrations "$copy" >&2 || true
  exit 1
fi
rm -rf "$copy"
echo "check-migrations: db/migrations matches db/schema.ts" >&2
