#!/usr/bin/env bash
# A stand-in for `tofu`/`terraform` for tests and the README walk-through: no cloud, no
# Terraform binary. Warden runs it in an environment's working folder (a copy of the
# blueprint's source, which holds plan-template.json):
#   init | plan [-destroy | -refresh-only] -out=FILE -var k=v ... | show -json FILE |
#   apply ... FILE | output -json
# `plan` writes FILE as the template with ${region} and ${instance_type} replaced (or the
# destroy plan); `apply` of a destroy plan fails while a file FAIL_DESTROY exists in the
# folder or FAKE_RUNNER_FAIL_DESTROY=1 is set, so teardown retries can be tested.
# `plan -refresh-only` (Warden's drift scan) reports no drift, unless a file DRIFTED exists in
# the folder or FAKE_RUNNER_DRIFT=1 is set: then someone opened the sandbox's security group
# to 0.0.0.0/0 on port 22 by hand (a `resource_drift` entry).
set -euo pipefail
cmd="${1:-}"
shift || true
case "$cmd" in
  init) echo "fake runner: initialised" ;;
  plan)
    out="" destroy=0 refresh=0 region="eu-west-1" instance_type="t3.micro"
    while [ $# -gt 0 ]; do
      case "$1" in
        -destroy) destroy=1 ;;
        -refresh-only) refresh=1 ;;
        -out=*) out="${1#-out=}" ;;
        -var) shift; case "$1" in
                region=*) region="${1#region=}" ;;
                instance_type=*) instance_type="${1#instance_type=}" ;;
              esac ;;
      esac
      shift
    done
    [ -n "$out" ] || { echo "plan: -out=FILE is required" >&2; exit 1; }
    if [ "$refresh" = 1 ]; then
      drift=""
      if [ -e DRIFTED ] || [ "${FAKE_RUNNER_DRIFT:-}" = 1 ]; then
        drift='{"address": "aws_security_group.web", "mode": "managed", "type": "aws_security_group", "name": "web",
         "provider_name": "registry.terraform.io/hashicorp/aws",
         "change": {"actions": ["update"],
          "before": {"name": "sandbox-web", "description": "sandbox web server", "ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": [], "self": false, "description": "ssh from the VPN"}]},
          "after": {"name": "sandbox-web", "description": "sandbox web server", "ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [], "self": false, "description": "ssh from the VPN"}]}}}'
      fi
      printf '{"format_version": "1.2", "terraform_version": "1.9.0", "resource_drift": [%s], "resource_changes": []}\n' "$drift" > "$out"
    elif [ "$destroy" = 1 ]; then
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
