# Shared by bench/check.sh and bench/k8s.sh (sourced, not run).

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
