#!/usr/bin/env bash
# A stand-in for `tofu`/`terraform` for tests and the README walk-through: no cloud, no
# Terraform binary. Warden runs it in an environment's working folder (a copy of the
# blueprint's source, which holds plan-template.json):
#   init | plan [-destroy] -out=FILE -var k=v ... | show -json FILE | apply ... FILE |
#   output -json
# `plan` writes FILE as the template with ${region} and ${instance_type} replaced (or the
# destroy plan); `apply` of a destroy plan fails while a file FAIL_DESTROY exists in the
# folder or FAKE_RUNNER_FAIL_DESTROY=1 is set, so teardown retries can be tested.
set -euo pipefail
cmd="${1:-}"
shift || true
case "$cmd" in
  init) echo "fake runner: initialised" ;;
  plan)
    out="" destroy=0 region="eu-west-1" instance_type="t3.micro"
    while [ $# -gt 0 ]; do
      case "$1" in
        -destroy) destroy=1 ;;
        -out=*) out="${1#-out=}" ;;
        -var) shift; case "$1" in
                region=*) region="${1#region=}" ;;
                instance_type=*) instance_type="${1#instance_type=}" ;;
              esac ;;
      esac
      shift
    done
    [ -n "$out" ] || { echo "plan: -out=FILE is required" >&2; exit 1; }
    if [ "$destroy" = 1 ]; then
      sed -e "s/\${region}/$region/g" -e "s/\${instance_type}/$instance_type/g" \
          -e 's/"actions": \["create"\]/"actions": ["delete"]/' \
          -e 's/"before": null/"before": {"instance_type": "'"$instance_type"'", "ami": "ami-123"}/' \
          -e 's/"after": {.*},$/"after": null,/' plan-template.json > "$out"
    else
      sed -e "s/\${region}/$region/g" -e "s/\${instance_type}/$instance_type/g" plan-template.json > "$out"
      printf '%s' "$region" > region.txt
    fi
    echo "fake runner: plan saved to $out" ;;
  show)
    [ "${1:-}" = "-json" ] || { echo "show: only -json is supported" >&2; exit 1; }
    cat "$2" ;;
  apply)
    file="${!#}"
    if grep -q '"delete"' "$file"; then
      if [ -e FAIL_DESTROY ] || [ "${FAKE_RUNNER_FAIL_DESTROY:-}" = 1 ]; then
        echo "fake runner: destroy failed (FAIL_DESTROY is set)" >&2
        exit 1
      fi
      rm -f applied.json
    else
      cp "$file" applied.json
    fi
    echo "fake runner: applied $file" ;;
  output)
    if [ -e applied.json ]; then
      region=$(cat region.txt)
      echo "{\"url\": {\"value\": \"https://sandbox.$region.example.com\", \"sensitive\": false}}"
    else
      echo "{}"
    fi ;;
  *) echo "fake runner: unknown command \`$cmd\`" >&2; exit 1 ;;
esac
