#!/usr/bin/env bash
# End-to-end timing of `warden check` (every built-in rule, JSON report written to a file) on
# synthetic plans of 1k, 10k and 100k resources, whole process, under /usr/bin/time -v: wall
# time and peak memory (max RSS), best of RUNS.
#
# Plans: the generator of ../shared/bench when present (the plans ../shared/PERF.md measured
# OPA, regorus and Checkov on, ~2.86 KB per resource), so the figures compare one to one;
# otherwise (or with GENERATOR=own) bench/gen_plan.py. Plans are cached in bench/data/
# (git-ignored).
#
# Peers in the same run: with PEERS=DIR pointing at a peers folder made by
# `../shared/bench/run_bench.sh setup` (or `bench/check.sh setup-peers`, which makes only the
# OPA and regorus parts in /tmp/warden-peers), every size is also run through regorus (RVM and
# interpreter, whole process, ten deny rules: ../shared/bench/policies/terraform/security.rego)
# and Go OPA (in process through its Python bindings, `--cold`: load, evaluate once, exit;
# only up to OPA_MAX_SIZE resources, default 10000: at 100k it takes minutes and ~10 GB).
#
# usage: bench/check.sh [SIZES...]            (default: 1000 10000 100000)
#        RUNS=5 bench/check.sh 10000          (best of RUNS, default 3)
#        PEERS=/tmp/warden-peers bench/check.sh
#        bench/check.sh setup-peers
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=../shared/bench
if [[ ${1:-} == setup-peers ]]; then
  PEERS=${PEERS:-/tmp/warden-peers}
  mkdir -p "$PEERS"
  python3 -m venv "$PEERS/venv"
  "$PEERS/venv/bin/pip" install -q orjson
  "$PEERS/venv/bin/pip" download -q --no-deps -d "$PEERS/wheels" --python-version 3.14 --only-binary=:all: opa-golib-python-bindings==0.4.4
  "$PEERS/venv/bin/pip" install -q --ignore-requires-python --no-deps "$PEERS"/wheels/opa_golib_python_bindings-0.4.4-*.whl
  (cd "$SHARED/regorus-runner" && CARGO_TARGET_DIR="$PEERS/cargo-target" cargo build --release -q)
  echo "peers ready in $PEERS; run PEERS=$PEERS bench/check.sh"
  exit 0
fi

if [[ $# -gt 0 ]]; then SIZES=("$@"); else SIZES=(1000 10000 100000); fi
RUNS=${RUNS:-3}
DATA=bench/data
mkdir -p "$DATA"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }


# shellcheck source=bench/lib.sh
source bench/lib.sh
build_warden
use_plan_generator

printf '%-10s %-9s %8s  %-34s %8s %9s  %s\n' resources plans "MB" engine "wall s" "peak MB" result
for n in "${SIZES[@]}"; do
  plan=$(plan_of "$n")
  size=$(du -m "$plan" | cut -f1)

  read -r wall rss < <(best_of "$BIN" check --no-config --format json --output "$DATA/out-$n.json" "$plan")
  result=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['summary']; print(f\"{d['outcome']}: {s['findings']} findings ({s['deny']} deny) from {s['rules']} rules\")" "$DATA/out-$n.json")
  printf '%-10s %-9s %8s  %-34s %8s %9s  %s\n' "$n" "$GEN_NAME" "$size" "warden check (all rules)" "$wall" "$rss" "$result"

  if [[ -n ${PEERS:-} ]]; then
    runner=$PEERS/cargo-target/release/regorus-runner
    for mode in rvm interp; do
      [[ -x $runner ]] || break
      read -r wall rss < <(best_of "$runner" "$mode" data.terraform.security.deny "$plan" 0 "$SHARED/policies/terraform/security.rego")
      printf '%-10s %-9s %8s  %-34s %8s %9s\n' "$n" "$GEN_NAME" "$size" "regorus $mode (10 rules)" "$wall" "$rss"
    done
    if [[ -x $PEERS/venv/bin/python && $n -le ${OPA_MAX_SIZE:-10000} ]]; then
      read -r wall rss < <(best_of "$PEERS/venv/bin/python" "$SHARED/bench_opa.py" --query terraform.security.deny \
        --cold --policy-dir "$SHARED/policies/terraform" "$plan")
      printf '%-10s %-9s %8s  %-34s %8s %9s\n' "$n" "$GEN_NAME" "$size" "OPA v1.20 in-process (10 rules)" "$wall" "$rss"
    fi
  fi
done
