#!/usr/bin/env bash
# Relay benchmark: Mailbeacon as an SMTP relay (opens and clicks on, DKIM on, relaying to smtp-sink) against
# Postfix as a plain relay, measured side by side in the same run by ../shared/anchors/relay-anchor.sh.
#   smtp-source --SMTP--> Mailbeacon :$MB_SMTP_PORT --pooled SMTP--> smtp-sink :2527
# smtp-source cannot AUTH, so 127.0.0.0/8 is a trusted network sending as the bench account.
# env: MSGS, SESSIONS (passed to the anchor), MB_SMTP_PORT (2600), MB_HTTP_PORT (2680),
#      MAILBEACON_RELAY_CONCURRENCY (20), MAILBEACON_DATABASE_URL (default: SQLite in a temp dir),
#      MB_NODE_ARGS (extra node flags for the server, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'),
#      MB_WARMUP (0): messages relayed through the server (to a sink of its own) before the measured run, so
#      the figure is of a warmed-up process; 0 measures a fresh one, as the anchor's figures always have.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
anchor=$root/../shared/anchors/relay-anchor.sh
[ -x "$anchor" ] || anchor=/work/shared/anchors/relay-anchor.sh
work=$(mktemp -d)
smtp_port=${MB_SMTP_PORT:-2600}; http_port=${MB_HTTP_PORT:-2680}; sink=${SINK_PORT:-2527}
export MAILBEACON_DATA_DIR=$work/data
export MAILBEACON_DATABASE_URL=${MAILBEACON_DATABASE_URL:-sqlite:$work/data/mb.db}
export MAILBEACON_SMTP_PORT=$smtp_port MAILBEACON_HTTP_PORT=$http_port
export MAILBEACON_RELAY=smtp://127.0.0.1:$sink
export MAILBEACON_RELAY_CONCURRENCY=${MAILBEACON_RELAY_CONCURRENCY:-20}
export MAILBEACON_SMTP_TRUSTED_NETWORKS=127.0.0.0/8 MAILBEACON_SMTP_TRUSTED_ACCOUNT=bench@example.test
export MAILBEACON_LOG_LEVEL=${MAILBEACON_LOG_LEVEL:-warn}
export MAILBEACON_PUBLIC_URL=${MAILBEACON_PUBLIC_URL:-http://track.example.test:$http_port}
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$MAILBEACON_DATA_DIR"
cd "$root"
node bin/mailbeacon.js migrate >/dev/null
node --import tsx bench/relay-setup.ts
# shellcheck disable=SC2086
node ${MB_NODE_ARGS:-} bin/mailbeacon.js serve --roles http,smtp,worker > "$work/serve.log" 2>&1 & pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null || { echo "mailbeacon did not start"; cat "$work/serve.log"; exit 1; }
echo "mailbeacon: smtp 127.0.0.1:$smtp_port -> smtp-sink 127.0.0.1:$sink, concurrency $MAILBEACON_RELAY_CONCURRENCY, $MAILBEACON_DATABASE_URL"
warm=${MB_WARMUP:-0}
if [ "$warm" -gt 0 ]; then
  # A sink of our own on the same port (the anchor starts its own afterwards), so no warm-up copy is left
  # deferred to be retried during the measured run.
  chmod 755 "$work"; mkdir -p "$work/warm"; chown nobody "$work/warm"
  smtp-sink -u nobody -d "$work/warm/%H%M%S." "127.0.0.1:$sink" 256 & wsink=$!
  sleep 0.5
  smtp-source -s "${SESSIONS:-20}" -m "$warm" -F "${MESSAGE:-$(dirname "$anchor")/sample-html.eml}" -f sender@example.test -t reader@example.net "127.0.0.1:$smtp_port" >/dev/null
  for _ in $(seq 1 600); do [ "$(find "$work/warm" -type f | wc -l)" -ge "$warm" ] && break; sleep 0.1; done
  echo "warm-up: $(find "$work/warm" -type f | wc -l)/$warm messages relayed before the measured run"
  kill "$wsink" 2>/dev/null || true; wait "$wsink" 2>/dev/null || true
  sleep 0.5
fi
# CPU the server used (all its threads), from /proc: user+system clock ticks.
cpu_ticks() { awk '{print $14+$15}' "/proc/$pid/stat"; }
c0=$(cpu_ticks)
SINK_PORT=$sink "$anchor" "$smtp_port" | tee "$work/anchor.out" || echo "(the anchor exited with status $?)"
c1=$(cpu_ticks); hz=$(getconf CLK_TCK)
echo "mailbeacon CPU during the run: $(echo "scale=2; ($c1-$c0)/$hz" | bc) s, $(echo "scale=2; ($c1-$c0)*1000/$hz/${MSGS:-2000}" | bc) ms per message"
# The anchor's "find | head -1" can die of SIGPIPE (pipefail) after the target run, skipping its second
# Postfix run; then measure Postfix again with the anchor alone so there is still an "after" figure.
if [ "$(grep -c '^postfix delivered=' "$work/anchor.out")" -lt 2 ]; then
  echo "postfix after (anchor rerun without target):"
  SINK_PORT=$sink "$anchor" | grep '^postfix' || true
fi
f=/tmp/relay-anchor-sample-out.eml
if ! grep -q 'delivered message kept' "$work/anchor.out"; then
  echo "check: skipped (the anchor ended before keeping a delivered sample)"
elif [ -f "$f" ]; then
  grep -q '^DKIM-Signature:' "$f" && echo "check: delivered sample is DKIM-signed" || echo "check: delivered sample has NO DKIM-Signature"
  grep -q '/o/' "$f" && echo "check: delivered sample has the open pixel" || echo "check: delivered sample has NO pixel"
fi
grep -E '"level":(40|50|60)' "$work/serve.log" | head -5 || true
