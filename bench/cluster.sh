#!/usr/bin/env bash
# Pixel throughput of two `mailbeacon serve --roles tracking` nodes on one PostgreSQL against one node on
# the same database, in the same run (the one-node figure is the anchor). wrk with bench/track.lua spreads
# the load over COPIES distinct valid tokens (bench/track-seed.ts); two nodes get one wrk each with half the
# connections, run at the same time, and their req/s are added. Also prints events stored versus 200s.
# Env: COPIES (20000), SECONDS_EACH (8), CONNS (64), ROUNDS (2), FLUSH_MS (1), MAILBEACON_TEST_PG_URL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
copies=${COPIES:-20000}; dur=${SECONDS_EACH:-8}; conns=${CONNS:-64}; rounds=${ROUNDS:-2}
work=$(mktemp -d)
secret=bench-secret-bench-secret-bench-secret-0
pids=()
url=$(node --import tsx -e "
  const { createTestDatabase } = await import('$root/test/helpers/dialects.ts');
  console.log((await createTestDatabase('postgres')).url);")
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  node --import tsx -e "
    const pg = (await import('pg')).default; const u = new URL('$url'); const schema = u.searchParams.get('schema'); u.search = '';
    const c = new pg.Client({ connectionString: u.toString() }); await c.connect(); await c.query('drop schema if exists ' + schema + ' cascade'); await c.end();" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "seeding $copies copies into $url ..."
node --import tsx "$root/bench/track-seed.ts" "$url" "$secret" 127.0.0.1 "$copies" "$work/paths.txt"

start_node() { # port
  MAILBEACON_DATABASE_URL=$url MAILBEACON_DATA_DIR=$work MAILBEACON_SECRET=$secret MAILBEACON_LOG_LEVEL=warn \
  MAILBEACON_HTTP_PORT=$1 MAILBEACON_SMTP_PORT=0 MAILBEACON_PUBLIC_URL=http://127.0.0.1:$1 MAILBEACON_EVENT_FLUSH_MS=${FLUSH_MS:-1} \
    node "$root/bin/mailbeacon.js" serve --roles tracking > "$work/mb-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.2; done
  echo "node on $1 did not start"; cat "$work/mb-$1.log"; exit 1
}
count_events() {
  node --import tsx -e "
    const { openStore } = await import('$root/src/store/store.ts');
    const s = await openStore('$url', { migrate: false });
    const r = await s.db.kysely.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', 'open').executeTakeFirstOrThrow();
    console.log(Number(r.n)); await s.close();"
}
run_wrk() { # port conns out
  PATHS_FILE=$work/paths.txt wrk -t1 -c"$2" -d"${dur}s" --latency -s "$root/bench/track.lua" "http://127.0.0.1:$1" > "$3"
}
rps_of() { awk '/Requests\/sec/{print int($2)}' "$1"; }
ok_of() { sed -n 's/.*answered=\([0-9]*\) non2xx=\([0-9]*\).*/\1 \2/p' "$1" | awk '{print $1-$2}'; }

start_node 18191
start_node 18192
PATHS_FILE=$work/paths.txt wrk -t1 -c"$conns" -d2s -s "$root/bench/track.lua" "http://127.0.0.1:18191" > /dev/null   # warm-up
PATHS_FILE=$work/paths.txt wrk -t1 -c"$conns" -d2s -s "$root/bench/track.lua" "http://127.0.0.1:18192" > /dev/null
before=$(count_events)
answered=0
for r in $(seq "$rounds"); do
  run_wrk 18191 "$conns" "$work/one.txt"
  one=$(rps_of "$work/one.txt"); answered=$((answered + $(ok_of "$work/one.txt")))
  echo "round $r: one node   rps=$one p50=$(awk '/^ +50%/{print $2}' "$work/one.txt") p99=$(awk '/^ +99%/{print $2}' "$work/one.txt")"
  run_wrk 18191 $((conns / 2)) "$work/a.txt" & wa=$!
  run_wrk 18192 $((conns / 2)) "$work/b.txt" & wb=$!
  wait $wa $wb
  two=$(( $(rps_of "$work/a.txt") + $(rps_of "$work/b.txt") )); answered=$((answered + $(ok_of "$work/a.txt") + $(ok_of "$work/b.txt")))
  echo "round $r: two nodes  rps=$two (= $(rps_of "$work/a.txt") + $(rps_of "$work/b.txt")) p99=$(awk '/^ +99%/{print $2}' "$work/a.txt")/$(awk '/^ +99%/{print $2}' "$work/b.txt")  ratio $(awk -v a="$two" -v b="$one" 'BEGIN{printf "%.2f", a/b}')x"
done
for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
pids=()
events=$(( $(count_events) - before ))
echo "== $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); 200s answered=$answered, open events stored=$events (>= answered)"
