#!/usr/bin/env bash
# MCP round trip of `evaluate_change` on a 50-resource Terraform plan, sequential calls, one
# client, as an agent makes them: (1) `warden mcp` over stdio (local policy set, as `warden
# check`), (2) `/mcp` on `warden serve` over streamable HTTP as an agent token (the decision
# recorded and audited before the answer; the same plan each time, so the server's decision
# memo answers all but the first: MEMO=0 turns it off). Prints, per transport: calls, p50,
# p99, mean and max round trip, and the outcome of the first answer. The client is a small
# Python JSON-RPC driver (standard library only), on the same 2 cores.
#
# Plan: ../shared/bench/gen_tfplan.py when present, else bench/gen_plan.py (bench/lib.sh),
# cached in bench/data/ (git-ignored).
#
# usage: bench/mcp.sh                 (CALLS=200 per transport, RESOURCES=50)
#        CALLS=50 RESOURCES=500 MEMO=0 bench/mcp.sh
#        WARDEN_BIN=target/debug/warden CALLS=5 bench/mcp.sh   (smoke check on a debug build)
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=../shared/bench
CALLS=${CALLS:-200}
RESOURCES=${RESOURCES:-50}
DATA=bench/data
mkdir -p "$DATA"

# shellcheck source=bench/lib.sh
source bench/lib.sh
build_warden
use_plan_generator
PLAN=$(plan_of "$RESOURCES")

WORK=$(mktemp -d /tmp/warden-mcp-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# No warden.toml from the caller's folders: the built-in rules with their defaults.
printf '' >"$WORK/warden.toml"

cat >"$WORK/client.py" <<'PY'
"""A minimal MCP client: initialize, then CALLS evaluate_change round trips; prints stats."""
import json, subprocess, sys, time, urllib.request

mode, calls, plan_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
plan = open(plan_path).read()
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}

def call_args(i):
    args = {"document": plan}
    if mode == "http":
        args["space"] = "bench"
    return {"jsonrpc": "2.0", "id": i, "method": "tools/call",
            "params": {"name": "evaluate_change", "arguments": args}}

if mode == "stdio":
    binary, config = sys.argv[4], sys.argv[5]
    p = subprocess.Popen([binary, "mcp", "--config", config], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    def rpc(msg, answer=True):
        p.stdin.write(json.dumps(msg) + "\n"); p.stdin.flush()
        return json.loads(p.stdout.readline()) if answer else None
else:
    url, token = sys.argv[4], sys.argv[5]
    def rpc(msg, answer=True):
        req = urllib.request.Request(url, data=json.dumps(msg).encode(), method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"})
        with urllib.request.urlopen(req) as r:
            body = r.read()
        return json.loads(body) if answer and body else None

rpc(INIT)
rpc({"jsonrpc": "2.0", "method": "notifications/initialized"}, answer=False)
times, first = [], None
for i in range(1, calls + 1):
    t0 = time.perf_counter()
    r = rpc(call_args(i))
    times.append((time.perf_counter() - t0) * 1000)
    result = r.get("result")
    if result is None or result.get("isError"):
        sys.exit(f"call {i} failed: {json.dumps(r)[:500]}")
    if first is None:
        first = result["content"][0]["text"].splitlines()[0]
times.sort()
pct = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{mode:>6} {calls:6d} {pct(0.5):8.2f} {pct(0.99):8.2f} {sum(times)/len(times):8.2f} {times[-1]:8.2f}  {first[:60]}")
if mode == "stdio":
    p.stdin.close(); p.wait()
PY

echo "plan $PLAN ($RESOURCES resources, $(($(stat -c %s "$PLAN") / 1024)) KB, $GEN_NAME generator), $CALLS sequential calls per transport, $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%6s %6s %8s %8s %8s %8s  %s\n' mode calls "p50 ms" "p99 ms" "mean ms" "max ms" "first answer"

python3 "$WORK/client.py" stdio "$CALLS" "$PLAN" "$BIN" "$WORK/warden.toml"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
export WARDEN_ADMIN_TOKEN=bench-admin-$RANDOM$RANDOM-0123456789abcdef
"$BIN" serve --data "$WORK/data" --listen "$ADDR" --config "$WORK/warden.toml" \
  ${MEMO:+--decision-memo "$MEMO"} >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$ADDR/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; echo "warden serve died" >&2; exit 1; }
  sleep 0.1
done
TOKEN=$(WARDEN_TOKEN=$WARDEN_ADMIN_TOKEN "$BIN" token create --role agent \
  --space bench --name bench-agent --data "$WORK/data" 2>/dev/null)
python3 "$WORK/client.py" http "$CALLS" "$PLAN" "http://$ADDR/mcp" "$TOKEN"
echo "(http: decision memo ${MEMO:-on (256)}; every call recorded and audited as the agent)"
