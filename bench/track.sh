#!/usr/bin/env bash
# Benchmark of the tracking pixel: Mailbeacon (`serve --roles tracking`, SQLite) under wrk with valid tokens
# for many distinct recipient copies, beside the anchors measured in the same run (nginx empty_gif and a bare
# Node GIF server, from ../shared/anchors/pixel-anchors.sh). Prints req/s, p50, p99 and events stored versus
# 200s answered. Env: COPIES (20000), SECONDS_EACH (8), CONNS (64), ROUNDS (2), FLUSH_MS (5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
anchors=${ANCHORS:-$root/../shared/anchors/pixel-anchors.sh}
# A git worktree sits one level deeper (/work/wt/<name>): look there too.
[ -x "$anchors" ] || anchors=$root/../../shared/anchors/pixel-anchors.sh
copies=${COPIES:-20000}; dur=${SECONDS_EACH:-8}; conns=${CONNS:-64}; rounds=${ROUNDS:-2}
export SECONDS_EACH=$dur CONNS=$conns ROUNDS=$rounds
work=$(mktemp -d)
port=${PORT:-18090}
secret=bench-secret-bench-secret-bench-secret-0
db="sqlite:$work/mb.db"
cleanup() { [ -f "$work/mb.pid" ] && kill "$(cat "$work/mb.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "seeding $copies copies..."
node --import tsx "$root/bench/track-seed.ts" "$db" "$secret" 127.0.0.1 "$copies" "$work/paths.txt"

MAILBEACON_DATABASE_URL=$db MAILBEACON_DATA_DIR=$work MAILBEACON_SECRET=$secret MAILBEACON_LOG_LEVEL=warn \
MAILBEACON_HTTP_PORT=$port MAILBEACON_SMTP_PORT=0 MAILBEACON_PUBLIC_URL=http://127.0.0.1:$port \
MAILBEACON_EVENT_FLUSH_MS=${FLUSH_MS:-5} \
  node "$root/bin/mailbeacon.js" serve --roles tracking > "$work/mb.log" 2>&1 &
echo $! > "$work/mb.pid"
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

# Warm-up (JIT, SQLite page cache), not counted.
PATHS_FILE=$work/paths.txt wrk -t1 -c$conns -d2s -s "$root/bench/track.lua" "http://127.0.0.1:$port" > /dev/null

echo "== anchors (nginx, bare node) and Mailbeacon on one token, same run"
one=$(sed -n 1p "$work/paths.txt")
"$anchors" "http://127.0.0.1:$port$one" | tee "$work/anchors.txt"

count_events() {
  node --import tsx -e "
    const { openStore } = await import('$root/src/store/store.ts');
    const s = await openStore('$db', { migrate: false });
    const r = await s.db.kysely.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', 'open').executeTakeFirstOrThrow();
    console.log(Number(r.n)); await s.close();"
}
events_before=$(count_events)

echo "== Mailbeacon, $copies distinct tokens (wrk -t1 -c$conns -d${dur}s --latency, $rounds rounds)"
total_ok=0
rps_list=""
for r in $(seq "$rounds"); do
  PATHS_FILE=$work/paths.txt wrk -t1 -c"$conns" -d"${dur}s" --latency -s "$root/bench/track.lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
  rps=$(awk '/Requests\/sec/{print int($2)}' "$work/wrk.txt")
  p50=$(awk '/^ +50%/{print $2}' "$work/wrk.txt")
  p99=$(awk '/^ +99%/{print $2}' "$work/wrk.txt")
  ok=$(sed -n 's/.*answered=\([0-9]*\) non2xx=\([0-9]*\).*/\1 \2/p' "$work/wrk.txt")
  answered=${ok% *}; non2xx=${ok#* }
  echo "round $r: mailbeacon-many rps=$rps p50=$p50 p99=$p99 answered=$answered non2xx=$non2xx"
  total_ok=$((total_ok + answered - non2xx))
  rps_list="$rps_list $rps"
done
median=$(tr ' ' '\n' <<<"$rps_list" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
echo "median mailbeacon-many rps: $median"

lost=$(curl -fs "http://127.0.0.1:$port/metrics" | awk '/^mailbeacon_tracking_events_lost_total/{print $2}')
kill -TERM "$(cat "$work/mb.pid")"; wait "$(cat "$work/mb.pid")" 2>/dev/null || true; rm -f "$work/mb.pid"
events=$(( $(count_events) - events_before ))
node_rps=$(awk '/^median node rps/{print $4}' "$work/anchors.txt")
nginx_rps=$(awk '/^median nginx rps/{print $4}' "$work/anchors.txt")
echo "== summary"
echo "nginx empty_gif: ${nginx_rps} rps | bare node: ${node_rps} rps | mailbeacon (many tokens): ${median} rps = $(awk -v a="$median" -v b="$node_rps" 'BEGIN{printf "%.2f", a/b}')x bare node"
echo "many-token rounds: 200s answered=$total_ok, open events stored=$events (>= answered: wrk drops replies in flight at the end), events lost (metric)=${lost:-0}"
