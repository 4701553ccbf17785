# Shared by bench/check.sh, bench/rego.sh and bench/k8s.sh (sourced, not run).

# best_of CMD... : prints "<wall seconds> <max RSS MB>" of the fastest of RUNS runs.
best_of() {
  local best_wall="" best_rss="" wall rss
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -v "$@" >/dev/null 2>"${DATA:?}/time.txt" || true
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "${DATA:?}/time.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "${DATA:?}/time.txt")
    if [[ -z $best_wall ]] || awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; best_rss=$rss; fi
  done
  echo "$best_wall $((best_rss / 1024))"
}

# build_warden: builds the release binary (CARGO_TARGET_DIR honoured) and sets BIN to it;
# WARDEN_BIN=PATH uses that binary instead (to compare two builds in the same minutes).
build_warden() {
  if [[ -n ${WARDEN_BIN:-} ]]; then BIN=$WARDEN_BIN; return; fi
  cargo build --release --quiet -p warden
  BIN=${CARGO_TARGET_DIR:-target}/release/warden
}

# use_plan_generator: sets GEN (a command) and GEN_NAME (shared | own): the generator
# ../shared/PERF.md measured the peers with, when present, else bench/gen_plan.py
# (GENERATOR=own forces it). Needs SHARED.
use_plan_generator() {
  if [[ "${GENERATOR:-auto}" != own && -f ${SHARED:?}/gen_tfplan.py ]]; then
    GEN=(python3 "$SHARED/gen_tfplan.py"); GEN_NAME=shared
  else
    GEN=(python3 bench/gen_plan.py); GEN_NAME=own
  fi
}

# plan_of N: prints the path of the N-resource plan, generating it on first use.
plan_of() {
  local plan="${DATA:?}/plan-$GEN_NAME-$1.json"
  [[ -f $plan ]] || "${GEN[@]}" "$1" "$plan" >/dev/null 2>&1
  echo "$plan"
}
