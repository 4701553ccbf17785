#!/usr/bin/env bash
# End-to-end timing of `warden check` on Kubernetes manifests: 10k workloads (a multi-document
# YAML stream, ~2 KB per workload) through the built-in rules, then through 20 Kyverno
# policies from the shared corpus (the Pod Security Standards and best-practices policies) on
# top. Whole process under /usr/bin/time -v, best of RUNS.
#
# Manifests come from ../shared/bench/gen_k8s.py (the workloads ../shared/PERF.md measured
# the admission figures on). The Kyverno policies are read from ../shared/corpus/kyverno; that
# part is skipped, and says so, when the corpus is absent.
#
# usage: bench/k8s.sh [N]          (default 10000)
#        RUNS=5 bench/k8s.sh 10000
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
RUNS=${RUNS:-3}
DATA=bench/data
mkdir -p "$DATA"
GEN=../shared/bench/gen_k8s.py
CORPUS=../shared/corpus/kyverno
[[ -f $GEN ]] || { echo "needs $GEN (the shared bench generator)" >&2; exit 2; }
[[ -f $DATA/k8s-$N.yaml ]] || python3 "$GEN" "$N" "$DATA/k8s-$N" >/dev/null 2>&1

POLICIES=()
if [[ -d $CORPUS ]]; then
  for p in pod-security/baseline/{disallow-capabilities,disallow-host-namespaces,disallow-host-path,disallow-host-ports,disallow-host-process,disallow-privileged-containers,disallow-proc-mount,disallow-selinux,restrict-apparmor-profiles,restrict-seccomp,disallow-host-ports-range} \
           pod-security/restricted/{disallow-privilege-escalation,require-run-as-nonroot,restrict-seccomp-strict,restrict-volume-types} \
           best-practices/{disallow-latest-tag,require-drop-all,require-pod-requests-limits,require-ro-rootfs,restrict-image-registries}; do
    f=$(ls "$CORPUS/$p"/*.yaml 2>/dev/null | head -1 || true)
    [[ -n $f ]] && POLICIES+=(--policy "$f")
  done
fi

# shellcheck source=bench/lib.sh
source bench/lib.sh
build_warden

size=$(du -m "$DATA/k8s-$N.yaml" | cut -f1)
printf '%-8s %6s  %-44s %8s %9s\n' workloads MB engine "wall s" "peak MB"
read -r wall rss < <(best_of "$BIN" check --no-config --format json --output "$DATA/k8s-out.json" "$DATA/k8s-$N.yaml")
printf '%-8s %6s  %-44s %8s %9s\n' "$N" "$size" "built-in rules" "$wall" "$rss"
if [[ ${#POLICIES[@]} -gt 0 ]]; then
  read -r wall rss < <(best_of "$BIN" check --no-config --select WD-K8S --format json --output "$DATA/k8s-out.json" "${POLICIES[@]}" "$DATA/k8s-$N.yaml")
  printf '%-8s %6s  %-44s %8s %9s\n' "$N" "$size" "built-in + $(( ${#POLICIES[@]} / 2 )) Kyverno policies" "$wall" "$rss"
else
  echo "skipped: Kyverno policies ($CORPUS is absent)"
fi
