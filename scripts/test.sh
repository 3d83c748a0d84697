#!/usr/bin/env bash
# The one test command (README: `npm test`): lint, typecheck, then every test file with node's runner.
# Test files start what they need (SQLite files, PostgreSQL schemas, SMTP peers, dnsmasq, pebble, chromium)
# on loopback ports and stop it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-lint" ]; then
  echo "== lint"; npx eslint .
  echo "== typecheck"; npx tsc --noEmit -p .
else shift; fi
files=("$@")
if [ ${#files[@]} -eq 0 ]; then mapfile -t files < <(find test -name '*.test.ts' | sort); fi
echo "== tests (${#files[@]} files)"
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-3}" --test-timeout=300000 "${files[@]}"
