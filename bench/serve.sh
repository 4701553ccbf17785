#!/usr/bin/env bash
# Load test of `warden serve` on loopback: `POST /v1/evaluate?space=bench` with a 50-resource
# Terraform plan (every built-in rule, the decision and its audit record committed before the
# answer), at increasing fixed rates, then closed-loop runs for the maximum sustained
# throughput. Prints, per run: achieved req/s, p50, p99 and max latency, 2xx and non-2xx
# answers, the server's CPU use (100 % = one core) and its CPU time per request. Then checks
# "every decision recorded": the server is stopped gracefully (SIGTERM), the decisions in its
# store are counted and compared with the 2xx answers the load generator saw (a mismatch fails
# the script), and `warden audit verify` checks the chain.
#
# Load generator: oha (a cargo package), installed on first use with `cargo install oha
# --locked --no-default-features --features native-tls` into bench/.tools (git-ignored;
# OHA=PATH to use another; needs libssl-dev and pkg-config). Fixed-rate runs use `-q RATE
# --latency-correction` (latency counted from when each request was due, so a stalled server
# shows up instead of slowing the generator down) and wait for requests still in flight at
# the deadline (`-w`), so every request sent is answered and counted. oha runs on the same
# 2 cores as the server.
#
# Plan: ../shared/bench/gen_tfplan.py when present, else bench/gen_plan.py (bench/lib.sh),
# cached in bench/data/ (git-ignored). Data folder: a fresh temporary one, removed at the end
# (KEEP=1 keeps it).
#
# usage: bench/serve.sh                        (rates 250 500 750 1000 1500 2000 3000, 10 s each)
#        bench/serve.sh 500 1000 2000          (these rates)
#        DURATION=20 CONNECTIONS=64 CLOSED="4 8" RESOURCES=50 bench/serve.sh
#   DURATION     seconds per run (default 10)
#   CONNECTIONS  connections of a fixed-rate run (default 32)
#   CLOSED       concurrencies of the closed-loop runs (default "2 4 8"; "" skips them)
#   STOP_P99_MS  stop raising the rate once p99 exceeds this (default 100)
#   TARGET_RATE, TARGET_P99_MS  the target checked at the end (default 1000 req/s, 5 ms)
#   MEMO         `warden serve --decision-memo` (default: the server's, 256). Every request of a
#                run sends the same plan, so with the memo on all but the first are answered
#                from memory (parse and evaluation skipped; the record, audit entry, exceptions
#                and approvals still done per request): MEMO=0 measures a plan evaluated every
#                time, as distinct plans would be.
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=../shared/bench
if [[ $# -gt 0 ]]; then RATES=("$@"); else RATES=(250 500 750 1000 1500 2000 3000); fi
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
CLOSED=${CLOSED-2 4 8}
RESOURCES=${RESOURCES:-50}
STOP_P99_MS=${STOP_P99_MS:-100}
TARGET_RATE=${TARGET_RATE:-1000}
TARGET_P99_MS=${TARGET_P99_MS:-5}
DATA=bench/data
TOOLS=bench/.tools
mkdir -p "$DATA"

# shellcheck source=bench/lib.sh
source bench/lib.sh
build_warden

OHA=${OHA:-$TOOLS/bin/oha}
if [[ ! -x $OHA ]]; then
  echo "installing oha into $TOOLS (once)" >&2
  # The server is plain HTTP, but oha builds only with a TLS backend: the system's OpenSSL
  # links in seconds, where the default rustls compiles aws-lc from C.
  cargo install oha --locked --no-default-features --features native-tls --root "$TOOLS" --quiet
fi

use_plan_generator
PLAN=$(plan_of "$RESOURCES")

WORK=$(mktemp -d /tmp/warden-serve-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
export WARDEN_ADMIN_TOKEN=bench-admin-$RANDOM$RANDOM-0123456789abcdef
# No warden.toml from the caller's folders: the built-in rules with their defaults.
printf '' >"$WORK/warden.toml"
"$BIN" serve --data "$WORK/data" --listen "$ADDR" --config "$WORK/warden.toml" \
  ${MEMO:+--decision-memo "$MEMO"} >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$ADDR/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; echo "warden serve died" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://$ADDR/healthz" >/dev/null || { echo "warden serve did not answer on $ADDR" >&2; exit 1; }

TOKEN=$(WARDEN_TOKEN=$WARDEN_ADMIN_TOKEN "$BIN" token create --role pipeline --space bench \
  --name bench --data "$WORK/data" 2>/dev/null)
URL="http://$ADDR/v1/evaluate?space=bench"

# One request by hand: the outcome and the size of the answer.
curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary "@$PLAN" "$URL" -o "$WORK/one.json" || { cat "$WORK/serve.err" >&2; echo "evaluate failed" >&2; exit 1; }
ONE=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"{d['outcome']}, {len(d['findings'])} findings\")" "$WORK/one.json")
echo "warden serve on $ADDR; plan $PLAN ($RESOURCES resources, $(($(stat -c %s "$PLAN") / 1024)) KB, $GEN_NAME generator) -> $ONE"
echo "decision memo: ${MEMO:-default (256)}$([[ ${MEMO:-} == 0 ]] && echo ', off: every request parsed and evaluated' || echo ', on: repeated requests answered from memory')"
echo "oha $("$OHA" --version | awk '{print $2}'), $DURATION s per run, $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
SENT_2XX=1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
HZ=$(getconf CLK_TCK)

# run NAME OHA-ARGS...: one oha run; prints its row, adds its 2xx answers to SENT_2XX, sets P99_MS,
# RPS and BAD (non-2xx answers plus errors).
run() {
  local name=$1 json=$WORK/run-${1//[^a-z0-9-]/_}.json t0 t1 row
  shift
  t0=$(cpu_ticks)
  "$OHA" --no-tui --output-format json -z "${DURATION}s" -w -m POST -D "$PLAN" \
    -T application/json -H "Authorization: Bearer $TOKEN" "$@" "$URL" >"$json"
  t1=$(cpu_ticks)
  row=$(python3 - "$json" "$name" "$t0" "$t1" "$HZ" "$DURATION" <<'EOF'
import json, sys
path, name, t0, t1, hz, dur = sys.argv[1:]
d = json.load(open(path))
s, p = d["summary"], d["latencyPercentiles"]
codes = {int(k): v for k, v in d.get("statusCodeDistribution", {}).items()}
ok = sum(v for k, v in codes.items() if 200 <= k < 300)
bad = sum(v for k, v in codes.items() if not 200 <= k < 300) + sum(d.get("errorDistribution", {}).values())
ms = lambda x: (x or 0) * 1000
cpu = (int(t1) - int(t0)) / int(hz) / float(s["total"] or dur) * 100
per = cpu / 100 / s["requestsPerSec"] * 1000 if s["requestsPerSec"] else 0
print(f"{name:>12} {s['requestsPerSec']:9.0f} {ms(p['p50']):8.2f} {ms(p['p99']):8.2f} {ms(s['slowest']):8.2f} "
      f"{ok:8d} {bad:8d} {cpu:7.0f}% {per:8.2f}|{ok}|{bad}|{ms(p['p99']):.3f}|{s['requestsPerSec']:.1f}")
EOF
)
  echo "${row%%|*}"
  IFS='|' read -r _ ok BAD P99_MS RPS <<<"$row"
  SENT_2XX=$((SENT_2XX + ok))
}

printf '%12s %9s %8s %8s %8s %8s %8s %8s %8s\n' run "req/s" "p50 ms" "p99 ms" "max ms" 2xx non-2xx "srv CPU" "CPU ms/r"
# Warm-up (connections, caches), counted like the rest.
DURATION=2 run warm-up -q 200 -c "$CONNECTIONS" --latency-correction >/dev/null
declare -A RESULT_P99 RESULT_RPS RESULT_BAD
for rate in "${RATES[@]}"; do
  run "$rate/s" -q "$rate" -c "$CONNECTIONS" --latency-correction
  RESULT_P99[$rate]=$P99_MS RESULT_RPS[$rate]=$RPS RESULT_BAD[$rate]=$BAD
  if [[ $BAD -gt 0 ]] || awk "BEGIN{exit !($P99_MS > $STOP_P99_MS || $RPS < 0.9 * $rate)}"; then
    echo "(stopping the ramp: p99 over $STOP_P99_MS ms, errors, or under 90 % of the rate asked)"
    break
  fi
done
BEST=0
for c in $CLOSED; do
  run "closed c=$c" -c "$c"
  if awk "BEGIN{exit !($RPS > $BEST)}"; then BEST=$RPS; fi
done

# Stop gracefully (SIGTERM: requests in flight finish, the pools close), then count.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || { cat "$WORK/serve.err" >&2; echo "warden serve exited with an error" >&2; exit 1; }
SERVER_PID=""
read -r DECISIONS RECORDED < <(python3 - "$WORK/data/warden.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
d = db.execute("SELECT count(*) FROM decisions WHERE space = 'bench'").fetchone()[0]
a = db.execute("SELECT count(*) FROM audit_log WHERE action = 'decision.recorded' AND space = 'bench'").fetchone()[0]
print(d, a)
EOF
)
VERIFY=$("$BIN" audit verify --data "$WORK/data" 2>&1) || { echo "$VERIFY" >&2; echo "FAIL: audit verify" >&2; exit 1; }
echo
echo "2xx answers (all runs, warm-up and the first request included): $SENT_2XX"
echo "decisions in the store: $DECISIONS; decision.recorded audit records: $RECORDED"
echo "warden audit verify: $(echo "$VERIFY" | head -1)"
if [[ $DECISIONS -ne $SENT_2XX || $RECORDED -ne $SENT_2XX ]]; then
  echo "FAIL: $SENT_2XX decisions answered but $DECISIONS stored ($RECORDED audit records)" >&2
  exit 1
fi
echo "every answered decision is recorded"
[[ -z $CLOSED ]] || echo "max sustained throughput (best closed-loop run): $BEST req/s"

if [[ -n ${RESULT_P99[$TARGET_RATE]:-} ]]; then
  p99=${RESULT_P99[$TARGET_RATE]} rps=${RESULT_RPS[$TARGET_RATE]} bad=${RESULT_BAD[$TARGET_RATE]}
  if [[ $bad -eq 0 ]] && awk "BEGIN{exit !($p99 < $TARGET_P99_MS && $rps >= 0.98 * $TARGET_RATE)}"; then
    echo "target met: p99 $p99 ms < $TARGET_P99_MS ms at $TARGET_RATE req/s ($rps achieved), no errors"
  else
    echo "target MISSED: p99 $p99 ms at $TARGET_RATE req/s ($rps achieved, $bad non-2xx); target p99 < $TARGET_P99_MS ms"
  fi
else
  echo "target MISSED: no run at $TARGET_RATE req/s (the ramp stopped below it, or it was not asked for)"
fi
