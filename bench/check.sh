#!/usr/bin/env bash
# End-to-end timing of `warden check` (every built-in rule) on synthetic plans of 1k, 10k and
# 100k resources, whole process, under /usr/bin/time -v (wall time and peak memory).
#
# Plans: by default the generator of ../shared/bench (the plans ../shared/PERF.md measured OPA,
# regorus and Checkov on, ~2.86 KB per resource), so the figures compare one to one; without
# it (or with GENERATOR=own), bench/gen_plan.py. Plans are cached in bench/data/ (git-ignored).
#
# usage: bench/check.sh [SIZES...]        (default: 1000 10000 100000)
#        RUNS=5 bench/check.sh 10000      (best of RUNS, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=("${@:-1000 10000 100000}")
read -r -a SIZES <<<"${SIZES[*]}"
RUNS=${RUNS:-3}
DATA=bench/data
mkdir -p "$DATA"

SHARED_GEN=../shared/bench/gen_tfplan.py
if [[ "${GENERATOR:-auto}" != own && -f $SHARED_GEN ]]; then
  GEN=(python3 "$SHARED_GEN"); GEN_NAME=shared
else
  GEN=(python3 bench/gen_plan.py); GEN_NAME=own
fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }

cargo build --release --quiet -p warden
BIN=target/release/warden

printf '%-9s %-8s %10s %12s %12s %14s %s\n' resources generator "size MB" "wall s" "peak MB" findings outcome
for n in "${SIZES[@]}"; do
  plan="$DATA/plan-$GEN_NAME-$n.json"
  [[ -f $plan ]] || "${GEN[@]}" "$n" "$plan" >/dev/null
  best_wall=""; best_rss=""
  for _ in $(seq "$RUNS"); do
    # exit 1 (deny) is the expected outcome: the plans carry violations.
    /usr/bin/time -v "$BIN" check --no-config --format json --output "$DATA/out-$n.json" "$plan" 2>"$DATA/time-$n.txt" || true
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DATA/time-$n.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DATA/time-$n.txt")
    if [[ -z $best_wall ]] || awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; best_rss=$rss; fi
  done
  size=$(du -m "$plan" | cut -f1)
  read -r findings outcome < <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['summary']['findings'], d['outcome'])" "$DATA/out-$n.json")
  printf '%-9s %-8s %10s %12s %12s %14s %s\n' "$n" "$GEN_NAME" "$size" "$best_wall" "$((best_rss / 1024))" "$findings" "$outcome"
done
