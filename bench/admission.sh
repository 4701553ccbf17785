#!/usr/bin/env bash
# Load test of the admission webhook on loopback: `POST /v1/admission` over HTTPS with one Pod
# AdmissionReview (the recorded fixture crates/warden-server/tests/fixtures/admission/
# pod-create-compliant.json) against the built-in Kubernetes rules plus 20 Kyverno
# ClusterPolicies (generated into the work folder: 10 Enforce, 10 Audit, each matching Pods),
# every decision and its audit records committed before the answer. Prints, per run: achieved
# req/s, p50, p99 and max latency, 2xx and non-2xx answers. Target (the issue's): p99 < 2 ms
# at 1,000 req/s. Ends with the number of `admission.reviewed` records against the 2xx answers.
#
# Load generator: oha in bench/.tools, as bench/serve.sh installs it (`--insecure`: the
# certificate is a self-signed one made here with openssl). oha runs on the same 2 cores.
#
# usage: bench/admission.sh                    (rates 250 500 1000, 10 s each)
#        bench/admission.sh 1000 2000          (these rates)
#        DURATION=20 CONNECTIONS=32 bench/admission.sh
#        SMOKE=1 bench/admission.sh            (start, 5 requests by curl, stop: no load)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -gt 0 ]]; then RATES=("$@"); else RATES=(250 500 1000); fi
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
TARGET_RATE=${TARGET_RATE:-1000}
TARGET_P99_MS=${TARGET_P99_MS:-2}
TOOLS=bench/.tools
DATA=bench/data
mkdir -p "$DATA"
REVIEW=crates/warden-server/tests/fixtures/admission/pod-create-compliant.json

# shellcheck source=bench/lib.sh
source bench/lib.sh
build_warden

OHA=${OHA:-$TOOLS/bin/oha}
if [[ ${SMOKE:-0} != 1 && ! -x $OHA ]]; then
  echo "installing oha into $TOOLS (once)" >&2
  cargo install oha --locked --no-default-features --features native-tls --root "$TOOLS" --quiet
fi

WORK=$(mktemp -d /tmp/warden-admission-bench.XXXXXX)
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

# 20 Kyverno ClusterPolicies on Pods: 10 Enforce, 10 Audit; the fixture passes all of them.
mkdir -p "$WORK/policies"
for i in $(seq -w 1 20); do
  action=Enforce; [[ $((10#$i % 2)) -eq 0 ]] && action=Audit
  cat >"$WORK/policies/bench-$i.yaml" <<POLICY
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: bench-$i
spec:
  validationFailureAction: $action
  background: false
  rules:
    - name: check-$i
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "bench rule $i: containers set resource limits and no privilege escalation"
        pattern:
          spec:
            containers:
              - name: "?*"
                resources:
                  limits:
                    memory: "?*"
                securityContext:
                  allowPrivilegeEscalation: "false"
POLICY
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
export WARDEN_ADMIN_TOKEN=bench-admin-$RANDOM$RANDOM-0123456789abcdef
printf '' >"$WORK/warden.toml"
"$BIN" serve --data "$WORK/data" --listen "$ADDR" --config "$WORK/warden.toml" \
  --policy "$WORK/policies" --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -skf "https://$ADDR/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; echo "warden serve died" >&2; exit 1; }
  sleep 0.1
done
URL="https://$ADDR/v1/admission"

one() {
  curl -skf -X POST -H 'Content-Type: application/json' --data-binary "@$REVIEW" "$URL" -o "$WORK/one.json" \
    || { cat "$WORK/serve.err" >&2; echo "admission request failed" >&2; exit 1; }
}
one
ONE=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['response']; print(f\"allowed={r['allowed']}, {len(r.get('warnings', []))} warnings\")" "$WORK/one.json")
echo "warden serve on https://$ADDR: built-in rules + $(ls "$WORK/policies" | wc -l) Kyverno policies; one Pod review -> $ONE"
SENT_2XX=1
if [[ ${SMOKE:-0} == 1 ]]; then
  for _ in 1 2 3 4; do one; SENT_2XX=$((SENT_2XX + 1)); done
else
  printf '%12s %9s %8s %8s %8s %8s %8s\n' run "req/s" "p50 ms" "p99 ms" "max ms" 2xx non-2xx
  declare -A RESULT_P99 RESULT_RPS RESULT_BAD
  for rate in warm-up "${RATES[@]}"; do
    q=$rate d=$DURATION; [[ $rate == warm-up ]] && q=200 d=2
    "$OHA" --no-tui --insecure --output-format json -z "${d}s" -w -m POST -D "$REVIEW" \
      -T application/json -q "$q" -c "$CONNECTIONS" --latency-correction "$URL" >"$WORK/run.json"
    row=$(python3 - "$WORK/run.json" "$rate" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); s, p = d["summary"], d["latencyPercentiles"]
codes = {int(k): v for k, v in d.get("statusCodeDistribution", {}).items()}
ok = sum(v for k, v in codes.items() if 200 <= k < 300)
bad = sum(v for k, v in codes.items() if not 200 <= k < 300) + sum(d.get("errorDistribution", {}).values())
ms = lambda x: (x or 0) * 1000
print(f"{sys.argv[2]:>12} {s['requestsPerSec']:9.0f} {ms(p['p50']):8.2f} {ms(p['p99']):8.2f} {ms(s['slowest']):8.2f} {ok:8d} {bad:8d}|{ok}|{bad}|{ms(p['p99']):.3f}|{s['requestsPerSec']:.1f}")
PY
)
    echo "${row%%|*}"
    IFS='|' read -r _ ok bad p99 rps <<<"$row"
    SENT_2XX=$((SENT_2XX + ok))
    RESULT_P99[$rate]=$p99 RESULT_RPS[$rate]=$rps RESULT_BAD[$rate]=$bad
  done
fi

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || { cat "$WORK/serve.err" >&2; echo "warden serve exited with an error" >&2; exit 1; }
SERVER_PID=""
REVIEWED=$(python3 - "$WORK/data/warden.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM audit_log WHERE action = 'admission.reviewed'").fetchone()[0])
PY
)
echo "2xx answers: $SENT_2XX; admission.reviewed audit records: $REVIEWED"
[[ $REVIEWED -eq $SENT_2XX ]] || { echo "FAIL: answered reviews not all recorded" >&2; exit 1; }
[[ ${SMOKE:-0} == 1 ]] && { echo "smoke check passed"; exit 0; }
if [[ -n ${RESULT_P99[$TARGET_RATE]:-} ]]; then
  p99=${RESULT_P99[$TARGET_RATE]} rps=${RESULT_RPS[$TARGET_RATE]} bad=${RESULT_BAD[$TARGET_RATE]}
  if [[ $bad -eq 0 ]] && awk "BEGIN{exit !($p99 < $TARGET_P99_MS && $rps >= 0.98 * $TARGET_RATE)}"; then
    echo "target met: p99 $p99 ms < $TARGET_P99_MS ms at $TARGET_RATE req/s ($rps achieved)"
  else
    echo "target MISSED: p99 $p99 ms at $TARGET_RATE req/s ($rps achieved, $bad non-2xx); target p99 < $TARGET_P99_MS ms"
  fi
fi
