#!/usr/bin/env bash
# Benchmark of the tracking pixel: Mailbeacon (`serve --roles tracking`, SQLite) under wrk with valid tokens
# for many distinct recipient copies, beside the anchors measured in the same run (nginx empty_gif and a bare
# Node GIF server, from ../shared/anchors/pixel-anchors.sh). Prints req/s, p50, p99 and events stored versus
# 200s answered. With the event journal (SQLite default) the answer comes once the hit is in the journal and the
# store is written by a background thread: the script then waits for the journal to be ingested before it counts
# events, and prints how long that took. Also prints the HTTP floor (the same server answering the GIF for tokens
# whose MAC fails, so nothing is recorded) and CPU time per request (whole process and HTTP thread alone).
# Env: COPIES (20000), SECONDS_EACH (8), CONNS (64), ROUNDS (2), FLUSH_MS (0, the default), JOURNAL (auto|on|off),
# MAILBEACON_HTTP_FAST_PATH (true; false measures the pixel through node:http).
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
cleanup() { [ -f "$work/mb.pid" ] && kill "$(cat "$work/mb.pid")" 2>/dev/null; [ -f "$work/bare.pid" ] && kill "$(cat "$work/bare.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "seeding $copies copies... (MAILBEACON_HTTP_FAST_PATH=${MAILBEACON_HTTP_FAST_PATH:-true})"
node --import tsx "$root/bench/track-seed.ts" "$db" "$secret" 127.0.0.1 "$copies" "$work/paths.txt"

MAILBEACON_DATABASE_URL=$db MAILBEACON_DATA_DIR=$work MAILBEACON_SECRET=$secret MAILBEACON_LOG_LEVEL=warn \
MAILBEACON_HTTP_PORT=$port MAILBEACON_SMTP_PORT=0 MAILBEACON_PUBLIC_URL=http://127.0.0.1:$port \
MAILBEACON_EVENT_FLUSH_MS=${FLUSH_MS:-0} MAILBEACON_EVENT_JOURNAL=${JOURNAL:-auto} \
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
metric() { curl -fs "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1==n{print $2}'; }
# The anchors' Mailbeacon run (one token) left hits in the journal: count only once they are ingested.
wait_ingested() { local l; l=$(metric mailbeacon_tracking_journal_lag_events); [ -z "$l" ] && return 0; while [ "$(metric mailbeacon_tracking_journal_lag_events)" != "0" ]; do sleep 0.2; done; }
wait_ingested
events_before=$(count_events)

pid=$(cat "$work/mb.pid")
# CPU ticks (utime+stime) of the whole process and of its main (HTTP) thread.
ticks() { awk '{print $14+$15}' "/proc/$pid/stat"; }
mticks() { awk '{print $14+$15}' "/proc/$pid/task/$pid/stat"; }
hz=$(getconf CLK_TCK)

# The HTTP floor: the same paths with one character of the MAC changed (still canonical base64url), so every
# request is parsed, routed, HMAC-verified and answered with the GIF, and nothing is recorded.
awk '{ i=length($0)-8; c=substr($0,i,1); r=(c=="A")?"B":"A"; print substr($0,1,i-1) r substr($0,i+1) }' "$work/paths.txt" > "$work/floor.txt"
echo "== HTTP floor: Mailbeacon answering the GIF without recording (MAC fails), $(uptime | sed 's/.*load/load/')"
t0=$(ticks); m0=$(mticks)
PATHS_FILE=$work/floor.txt wrk -t1 -c"$conns" -d"${dur}s" --latency -s "$root/bench/track.lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
t1=$(ticks); m1=$(mticks)
fr=$(awk '/^ +Requests\/sec/{print int($2)} /^Requests\/sec/{print int($2)}' "$work/wrk.txt" | head -1)
fa=$(sed -n 's/.*answered=\([0-9]*\).*/\1/p' "$work/wrk.txt")
echo "floor rps=$fr p50=$(awk '/^ +50%/{print $2}' "$work/wrk.txt") p99=$(awk '/^ +99%/{print $2}' "$work/wrk.txt") cpu/req: process $(awk -v a=$((t1-t0)) -v n="$fa" -v h="$hz" 'BEGIN{printf "%.1f", a/h/n*1e6}') us, http thread $(awk -v a=$((m1-m0)) -v n="$fa" -v h="$hz" 'BEGIN{printf "%.1f", a/h/n*1e6}') us"

# The bare Node GIF server again, measured right before each Mailbeacon round (once the journal is ingested):
# the machine's speed drifts between runs (a shared host), so each round's ratio compares two measurements
# taken seconds apart.
node "$(dirname "$anchors")/bare-gif-server.js" $((port + 1)) & echo $! > "$work/bare.pid"
sleep 0.5
echo "== Mailbeacon, $copies distinct tokens (wrk -t1 -c$conns -d${dur}s --latency, $rounds rounds), each after a bare Node round"
total_ok=0
rps_list=""
ratio_list=""
for r in $(seq "$rounds"); do
  # The previous round's journal is ingested first, so the ingest thread does not slow the bare server down.
  wait_ingested
  bare=$(wrk -t1 -c"$conns" -d"${dur}s" "http://127.0.0.1:$((port + 1))$one" | awk '/Requests\/sec/{print int($2)}')
  t0=$(ticks); m0=$(mticks)
  PATHS_FILE=$work/paths.txt wrk -t1 -c"$conns" -d"${dur}s" --latency -s "$root/bench/track.lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
  rps=$(awk '/Requests\/sec/{print int($2)}' "$work/wrk.txt")
  p50=$(awk '/^ +50%/{print $2}' "$work/wrk.txt")
  p99=$(awk '/^ +99%/{print $2}' "$work/wrk.txt")
  ok=$(sed -n 's/.*answered=\([0-9]*\) non2xx=\([0-9]*\).*/\1 \2/p' "$work/wrk.txt")
  answered=${ok% *}; non2xx=${ok#* }
  t1=$(ticks); m1=$(mticks)
  cpu=$(awk -v a=$((t1-t0)) -v n="$answered" -v h="$hz" 'BEGIN{printf "%.1f", a/h/n*1e6}')
  mcpu=$(awk -v a=$((m1-m0)) -v n="$answered" -v h="$hz" 'BEGIN{printf "%.1f", a/h/n*1e6}')
  ratio=$(awk -v a="$rps" -v b="$bare" 'BEGIN{printf "%.2f", a/b}')
  ratio_list="$ratio_list $ratio"
  echo "round $r: bare-node rps=$bare, then mailbeacon-many rps=$rps (${ratio}x) p50=$p50 p99=$p99 answered=$answered non2xx=$non2xx cpu/req: process ${cpu} us, http thread ${mcpu} us; journal lag at end $(metric mailbeacon_tracking_journal_lag_events) events, ingest thread sched_idle=$(metric mailbeacon_tracking_journal_worker_sched_idle) ($(uptime | sed 's/.*load/load/'))"
  total_ok=$((total_ok + answered - non2xx))
  rps_list="$rps_list $rps"
done
median=$(tr ' ' '\n' <<<"$rps_list" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
echo "median mailbeacon-many rps: $median"
paired=$(tr ' ' '\n' <<<"$ratio_list" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')

# Deferred work: wait until the journal is ingested (lag 0) before anything is counted.
lag=$(metric mailbeacon_tracking_journal_lag_events)
catchup="n/a (no journal)"
if [ -n "$lag" ]; then
  start=$(date +%s.%N); lag0=$lag
  while [ "$(metric mailbeacon_tracking_journal_lag_events)" != "0" ]; do sleep 0.2; done
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  busy=$(metric mailbeacon_tracking_journal_ingest_busy_seconds)
  ingested=$(metric mailbeacon_tracking_journal_ingested_events)
  catchup="lag after the last round ${lag0} events, ingested ${took} s later; ingest worker busy ${busy} s for ${ingested} events ($(awk -v b="$busy" -v n="$ingested" 'BEGIN{printf "%.1f", b/n*1e6}') us each in transactions)"
fi
lost=$(metric mailbeacon_tracking_events_lost_total)
kill -TERM "$(cat "$work/mb.pid")"; wait "$(cat "$work/mb.pid")" 2>/dev/null || true; rm -f "$work/mb.pid"
events=$(( $(count_events) - events_before ))
node_rps=$(awk '/^median node rps/{print $4}' "$work/anchors.txt")
nginx_rps=$(awk '/^median nginx rps/{print $4}' "$work/anchors.txt")
echo "== summary"
echo "nginx empty_gif: ${nginx_rps} rps | bare node: ${node_rps} rps | mailbeacon (many tokens): ${median} rps = $(awk -v a="$median" -v b="$node_rps" 'BEGIN{printf "%.2f", a/b}')x bare node"
echo "paired rounds (bare Node right before each Mailbeacon round): ratios$ratio_list, median ${paired}x"
echo "journal: $catchup"
echo "many-token rounds: 200s answered=$total_ok, open events stored=$events (>= answered: wrk drops replies in flight at the end), events lost (metric)=${lost:-0}"
