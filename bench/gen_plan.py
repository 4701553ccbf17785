#!/usr/bin/env python3
"""Generate a synthetic `terraform show -json` plan of N resources for benchmarks.

A realistic mix of AWS resources (security groups and rules, instances, RDS, S3 buckets with
their separate ACL / public-access-block / versioning resources, EBS volumes, IAM policies,
subnets, load balancers), about 2.8 KB of JSON per resource, with:
  - actions: 55 % create, 30 % no-op, 12 % update, 3 % delete;
  - unknown-after-apply attributes listed in `after_unknown`, as Terraform writes them;
  - `planned_values` (which Warden skips), `configuration` with references and a provider
    block whose region is a variable, and `default_tags`;
  - a seeded fraction of violations (open SSH, public RDS, public ACLs, IMDSv1, unencrypted
    volumes, wildcard IAM, missing tags).

usage: gen_plan.py N OUT.json [--seed S]
"""
import argparse
import json
import random

PROVIDER = "registry.terraform.io/hashicorp/aws"
TEAMS = ["payments", "search", "identity", "platform", "data", "web"]
MIX = [
    ("aws_security_group", 12), ("aws_security_group_rule", 12), ("aws_instance", 18),
    ("aws_db_instance", 8), ("aws_s3_bucket", 10), ("aws_s3_bucket_public_access_block", 6),
    ("aws_s3_bucket_acl", 4), ("aws_ebs_volume", 12), ("aws_iam_policy", 8), ("aws_subnet", 6),
    ("aws_lb", 4),
]


def tags(rng, i):
    t = {"Team": rng.choice(TEAMS), "Environment": rng.choice(["prod", "staging", "dev"]),
         "CostCenter": f"cc-{1000 + i % 9000}", "ManagedBy": "terraform"}
    if rng.random() > 0.08:
        t["Owner"] = f"{t['Team']}-oncall@example.com"
    return t


def after_of(kind, rng, i, name):
    bad = rng.random() < 0.1
    if kind == "aws_security_group":
        ingress = [{"cidr_blocks": ["10.0.0.0/8"], "description": "internal", "from_port": 443, "to_port": 443,
                    "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": False}]
        if bad:
            ingress.append({"cidr_blocks": ["0.0.0.0/0"], "description": "ssh", "from_port": 22, "to_port": 22,
                            "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": False})
        return {"name": name, "description": f"security group {name} for the {rng.choice(TEAMS)} service tier",
                "ingress": ingress, "egress": [{"cidr_blocks": ["0.0.0.0/0"], "description": "all egress", "from_port": 0,
                "to_port": 0, "ipv6_cidr_blocks": ["::/0"], "prefix_list_ids": [], "protocol": "-1", "security_groups": [], "self": False}],
                "revoke_rules_on_delete": False, "tags": tags(rng, i), "timeouts": None}, {"arn": True, "id": True, "owner_id": True, "vpc_id": True}
    if kind == "aws_security_group_rule":
        return {"type": "ingress", "from_port": 3389 if bad else 8443, "to_port": 3389 if bad else 8443, "protocol": "tcp",
                "cidr_blocks": ["0.0.0.0/0"] if bad else ["10.20.0.0/16"], "ipv6_cidr_blocks": None, "prefix_list_ids": None,
                "description": "application port", "self": False, "source_security_group_id": None, "timeouts": None}, {"id": True, "security_group_id": True, "security_group_rule_id": True}
    if kind == "aws_instance":
        return {"ami": f"ami-{rng.getrandbits(64):016x}", "instance_type": rng.choice(["t3.micro", "t3.large", "m6i.xlarge", "c6i.2xlarge"]),
                "associate_public_ip_address": rng.random() < 0.05, "disable_api_termination": False, "ebs_optimized": True,
                "metadata_options": [{"http_endpoint": "enabled", "http_put_response_hop_limit": 1,
                                      "http_tokens": "optional" if bad else "required", "instance_metadata_tags": "disabled"}],
                "root_block_device": [{"delete_on_termination": True, "encrypted": not bad, "volume_size": 20, "volume_type": "gp3", "tags": None}],
                "ebs_block_device": [], "monitoring": True, "user_data": None, "source_dest_check": True,
                "tags": tags(rng, i), "timeouts": None}, {"arn": True, "id": True, "private_ip": True, "public_ip": True,
                "subnet_id": True, "vpc_security_group_ids": True, "primary_network_interface_id": True, "tags_all": True,
                "root_block_device": [{"device_name": True, "iops": True, "kms_key_id": True, "throughput": True, "volume_id": True}]}
    if kind == "aws_db_instance":
        return {"identifier": name, "engine": "postgres", "engine_version": "16.3", "instance_class": "db.r6g.large",
                "allocated_storage": 100, "publicly_accessible": bad, "storage_encrypted": rng.random() > 0.15,
                "deletion_protection": True, "backup_retention_period": 7, "multi_az": True, "username": "app",
                "skip_final_snapshot": False, "tags": tags(rng, i), "timeouts": None}, {"arn": True, "id": True, "endpoint": True, "address": True, "password": True}
    if kind == "aws_s3_bucket":
        return {"bucket": f"bench-{name}", "force_destroy": False, "acl": "public-read" if bad else None,
                "tags": tags(rng, i), "timeouts": None}, {"arn": True, "id": True, "bucket_domain_name": True, "region": True, "tags_all": True}
    if kind == "aws_s3_bucket_public_access_block":
        v = not bad
        return {"bucket": f"bench-b{i}", "block_public_acls": v, "block_public_policy": True, "ignore_public_acls": v,
                "restrict_public_buckets": True}, {"id": True}
    if kind == "aws_s3_bucket_acl":
        return {"bucket": f"bench-b{i}", "acl": "public-read" if bad else "private", "expected_bucket_owner": None}, {"id": True, "access_control_policy": True}
    if kind == "aws_ebs_volume":
        return {"availability_zone": "eu-west-1a", "size": rng.choice([20, 100, 500]), "type": "gp3", "encrypted": not bad,
                "final_snapshot": False, "multi_attach_enabled": False, "tags": tags(rng, i), "timeouts": None}, {"arn": True, "id": True, "iops": True, "kms_key_id": True, "throughput": True}
    if kind == "aws_iam_policy":
        stmt = {"Effect": "Allow", "Action": "*" if bad else ["s3:GetObject", "s3:PutObject"],
                "Resource": "*" if bad else [f"arn:aws:s3:::bench-{name}/*"]}
        return {"name": name, "path": "/", "description": "service policy", "policy": json.dumps({"Version": "2012-10-17", "Statement": [stmt]}),
                "tags": tags(rng, i)}, {"arn": True, "id": True, "policy_id": True}
    if kind == "aws_subnet":
        return {"cidr_block": f"10.{i % 250}.{(i // 250) % 250}.0/24", "map_public_ip_on_launch": bad, "availability_zone": "eu-west-1b",
                "tags": tags(rng, i), "timeouts": None}, {"arn": True, "id": True, "vpc_id": True}
    return {"name": name[:32], "internal": not bad, "load_balancer_type": "application", "enable_deletion_protection": True,
            "drop_invalid_header_fields": True, "tags": tags(rng, i), "timeouts": None}, {"arn": True, "id": True, "dns_name": True, "zone_id": True}


# Optional attributes the provider schema has and plans print as null or empty.
EXTRA = {
    "aws_instance": ["capacity_reservation_specification", "cpu_options", "credit_specification", "enclave_options",
                     "ephemeral_block_device", "hibernation", "host_id", "instance_initiated_shutdown_behavior",
                     "ipv6_address_count", "launch_template", "maintenance_options", "network_interface",
                     "placement_group", "private_dns_name_options", "secondary_private_ips", "volume_tags"],
    "aws_db_instance": ["availability_zone", "ca_cert_identifier", "character_set_name", "custom_iam_instance_profile",
                        "db_subnet_group_name", "domain", "final_snapshot_identifier", "iops", "kms_key_id",
                        "license_model", "maintenance_window", "monitoring_role_arn", "option_group_name",
                        "parameter_group_name", "performance_insights_kms_key_id", "replicate_source_db", "snapshot_identifier"],
    "aws_s3_bucket": ["bucket_prefix", "object_lock_enabled", "policy", "website", "logging", "lifecycle_rule",
                      "replication_configuration", "server_side_encryption_configuration", "versioning", "grant", "cors_rule"],
    "aws_ebs_volume": ["iops", "kms_key_id", "outpost_arn", "snapshot_id", "throughput"],
    "aws_security_group": ["name_prefix", "vpc_id"],
    "aws_lb": ["access_logs", "customer_owned_ipv4_pool", "idle_timeout", "ip_address_type", "security_groups", "subnet_mapping", "subnets"],
    "aws_subnet": ["assign_ipv6_address_on_creation", "customer_owned_ipv4_pool", "enable_dns64", "ipv6_cidr_block",
                   "map_customer_owned_ip_on_launch", "outpost_arn", "private_dns_hostname_type_on_launch"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    changes, planned, config = [], [], []
    for i in range(a.n):
        kind = kinds[i % len(kinds)]
        name = f"r{i:06d}"
        address = f"{kind}.{name}"
        after, unknown = after_of(kind, rng, i, name)
        for extra in EXTRA.get(kind, []):
            after.setdefault(extra, None)
        if "tags" in after:
            after["tags_all"] = dict(after["tags"], ManagedBy="terraform")
        roll = rng.random()
        actions = ["create"] if roll < 0.55 else ["no-op"] if roll < 0.85 else ["update"] if roll < 0.97 else ["delete"]
        before = None if actions == ["create"] else dict(after, id=f"id-{i}")
        if actions == ["delete"]:
            after, unknown = None, {}
        changes.append({"address": address, "mode": "managed", "type": kind, "name": name, "provider_name": PROVIDER,
                        "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown,
                                   "before_sensitive": False if before is None else {}, "after_sensitive": False if after is None else {}}})
        if after is not None:
            planned.append({"address": address, "mode": "managed", "type": kind, "name": name, "provider_name": PROVIDER,
                            "schema_version": 0, "values": after, "sensitive_values": {}})
        exprs = {}
        if kind in ("aws_s3_bucket_public_access_block", "aws_s3_bucket_acl"):
            exprs["bucket"] = {"references": [f"aws_s3_bucket.r{i - 1:06d}.id", f"aws_s3_bucket.r{i - 1:06d}"]}
        config.append({"address": address, "mode": "managed", "type": kind, "name": name, "provider_config_key": "aws",
                       "expressions": exprs, "schema_version": 0})
    plan = {"format_version": "1.2", "terraform_version": "1.9.5", "variables": {"region": {"value": "eu-west-1"}},
            "planned_values": {"root_module": {"resources": planned}}, "resource_changes": changes,
            "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": PROVIDER, "expressions": {
                "region": {"references": ["var.region"]}, "default_tags": [{"tags": {"constant_value": {"ManagedBy": "terraform"}}}]}}},
                "root_module": {"resources": config}},
            "timestamp": "2026-11-21T00:00:00Z", "applyable": True, "complete": True, "errored": False}
    with open(a.out, "w") as f:
        json.dump(plan, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
