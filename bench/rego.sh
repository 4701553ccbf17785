#!/usr/bin/env bash
# End-to-end timing of `warden check` with Rego policies in the conftest style: the ten deny
# rules of ../shared/bench/policies/terraform/security.rego (package terraform.security,
# queried with --namespace) against the synthetic 1k/10k/100k-resource plans of
# bench/check.sh; built-in rules off (--ignore '*'), so the figure is the Rego engine's: read,
# parse, attach the raw plan, convert it for regorus once, evaluate the ten rules, render JSON.
# Whole process under /usr/bin/time -v, best of RUNS.
#
# usage: bench/rego.sh [SIZES...]     (default: 1000 10000 100000)
#        RUNS=5 bench/rego.sh 10000
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=../shared/bench
POLICY=$SHARED/policies/terraform/security.rego
[[ -f $POLICY ]] || { echo "skipped: $POLICY absent (../shared/bench)"; exit 0; }
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
  read -r wall rss < <(best_of "$BIN" check --no-config --ignore '*' --policy "$POLICY" \
    --namespace terraform.security --format json --output "$DATA/rego-out-$n.json" "$plan")
  result=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['summary']; print(f\"{d['outcome']}: {s['findings']} findings, {len(d.get('errors', []))} errors\")" "$DATA/rego-out-$n.json")
  printf '%-10s %-9s %8s  %-34s %8s %9s  %s\n' "$n" "$GEN_NAME" "$size" "warden check (Rego, 10 rules)" "$wall" "$rss" "$result"
done
