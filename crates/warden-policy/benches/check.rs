#![expect(clippy::panic, reason = "benchmarks abort on setup errors")]

//! `cargo bench -p warden-policy`: plan parsing, every built-in rule over a parsed plan, and
//! both together, over synthetic plans of N resources (a mix of AWS resource types with some
//! violations; see `bench/gen_plan.py` for the same shape at scale, and `bench/check.sh` for
//! whole-process timings).

use std::hint::black_box;

use serde_json::json;
use warden_core::inputs::{self, InputBytes};
use warden_policy::{Config, PolicySet};

/// The allocator of the `warden` binary, so figures match what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

const SIZES: &[usize] = &[100, 1_000, 10_000];

fn resource(i: usize) -> serde_json::Value {
    let bad = i.is_multiple_of(10);
    let tags = json!({"Owner": "team@example.com", "CostCenter": format!("cc-{}", 1000 + i % 9000), "Team": "web"});
    let (kind, after, unknown) = match i % 6 {
        0 => (
            "aws_security_group",
            json!({
            "name": format!("sg{i}"), "description": "service tier",
            "ingress": [{"cidr_blocks": [if bad {"0.0.0.0/0"} else {"10.0.0.0/8"}], "from_port": 22, "to_port": 22, "protocol": "tcp",
                         "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": "ssh"}],
            "egress": [], "tags": tags}),
            json!({"id": true, "arn": true}),
        ),
        1 => (
            "aws_instance",
            json!({
            "ami": "ami-0123456789abcdef0", "instance_type": "t3.large",
            "metadata_options": [{"http_tokens": if bad {"optional"} else {"required"}, "http_endpoint": "enabled"}],
            "root_block_device": [{"encrypted": !bad, "volume_size": 20}], "ebs_block_device": [], "tags": tags}),
            json!({"id": true, "arn": true, "private_ip": true}),
        ),
        2 => (
            "aws_db_instance",
            json!({
            "identifier": format!("db{i}"), "engine": "postgres", "instance_class": "db.r6g.large", "publicly_accessible": bad,
            "storage_encrypted": !bad, "deletion_protection": true, "backup_retention_period": 7, "tags": tags}),
            json!({"id": true, "endpoint": true}),
        ),
        3 => (
            "aws_s3_bucket",
            json!({"bucket": format!("b{i}"), "acl": if bad {"public-read"} else {"private"}, "tags": tags}),
            json!({"id": true}),
        ),
        4 => (
            "aws_ebs_volume",
            json!({"size": 100, "type": "gp3", "encrypted": !bad, "availability_zone": "eu-west-1a", "tags": tags}),
            json!({"id": true}),
        ),
        _ => (
            "aws_iam_policy",
            json!({"name": format!("p{i}"), "policy": if bad {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        } else {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
        }, "tags": tags}),
            json!({"id": true, "arn": true}),
        ),
    };
    json!({"address": format!("{kind}.r{i}"), "mode": "managed", "type": kind, "name": format!("r{i}"),
           "provider_name": "registry.terraform.io/hashicorp/aws",
           "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": unknown,
                      "before_sensitive": false, "after_sensitive": {}}})
}

fn plan(n: usize) -> InputBytes {
    let changes: Vec<serde_json::Value> = (0..n).map(resource).collect();
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.5",
        "variables": {"region": {"value": "eu-west-1"}},
        "planned_values": {"root_module": {"resources": []}},
        "resource_changes": changes,
        "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {"region": {"references": ["var.region"]}}}},
                          "root_module": {"resources": []}},
    });
    InputBytes {
        name: "bench.json".into(),
        bytes: serde_json::to_vec(&plan).unwrap_or_default(),
    }
}

#[divan::bench(args = SIZES)]
fn parse(bencher: divan::Bencher<'_, '_>, n: usize) {
    let input = plan(n);
    bencher
        .counter(divan::counter::BytesCount::new(input.bytes.len()))
        .bench(|| inputs::parse(black_box(&input)));
}

#[divan::bench(args = SIZES)]
fn all_rules(bencher: divan::Bencher<'_, '_>, n: usize) {
    let policy = PolicySet::load(Config::default()).unwrap_or_else(|e| panic!("{e}"));
    let changes = inputs::parse(&plan(n)).unwrap_or_else(|e| panic!("{e}"));
    let now = time::OffsetDateTime::UNIX_EPOCH;
    bencher.bench(|| policy.evaluate(black_box(&[&changes]), now));
}

#[divan::bench(args = SIZES)]
fn parse_and_evaluate(bencher: divan::Bencher<'_, '_>, n: usize) {
    let policy = PolicySet::load(Config::default()).unwrap_or_else(|e| panic!("{e}"));
    let input = plan(n);
    let now = time::OffsetDateTime::UNIX_EPOCH;
    bencher.bench(|| {
        let changes = inputs::parse(black_box(&input)).unwrap_or_else(|e| panic!("{e}"));
        policy.evaluate(&[&changes], now)
    });
}
