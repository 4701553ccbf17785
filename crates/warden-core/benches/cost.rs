//! Divan benchmarks of the cost estimate, which runs in every decision: a synthetic plan of
//! 50, 1,000 and 10,000 resources (instances with volumes, databases, NAT gateways, volumes,
//! buckets, security groups, queues: priced, free and unpriced alike, updates and creates,
//! in a configured region), and parsing the embedded catalog (paid once per process).
//!
//! `cargo bench -p warden-core --bench cost`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark harness"
)]

use warden_core::cost::{estimate, Catalog, Usage};
use warden_core::inputs::{parse, InputBytes};
use warden_core::ChangeSet;

fn main() {
    divan::main();
}

fn resource(i: usize) -> String {
    let (kind, change) = match i % 8 {
        0 => (
            "aws_instance",
            r#"{"actions":["create"],"before":null,"after":{"instance_type":"m5.large","root_block_device":[{"volume_size":20,"volume_type":"gp3"}],"ebs_block_device":[]},"after_unknown":{"id":true}}"#,
        ),
        1 => (
            "aws_instance",
            r#"{"actions":["update"],"before":{"instance_type":"t3.micro","root_block_device":[{"volume_size":8,"volume_type":"gp2"}]},"after":{"instance_type":"t3.small","root_block_device":[{"volume_size":8,"volume_type":"gp2"}]}}"#,
        ),
        2 => (
            "aws_db_instance",
            r#"{"actions":["create"],"before":null,"after":{"instance_class":"db.r6g.large","engine":"postgres","multi_az":true,"allocated_storage":100,"storage_type":"gp3"}}"#,
        ),
        3 => (
            "aws_nat_gateway",
            r#"{"actions":["create"],"before":null,"after":{}}"#,
        ),
        4 => (
            "aws_ebs_volume",
            r#"{"actions":["create"],"before":null,"after":{"size":500,"type":"gp3","iops":6000,"throughput":250}}"#,
        ),
        5 => (
            "aws_s3_bucket",
            r#"{"actions":["create"],"before":null,"after":{"bucket":"b"}}"#,
        ),
        6 => (
            "aws_security_group",
            r#"{"actions":["create"],"before":null,"after":{"name":"sg"}}"#,
        ),
        _ => (
            "aws_sqs_queue",
            r#"{"actions":["create"],"before":null,"after":{"name":"q"}}"#,
        ),
    };
    format!(
        r#"{{"address":"{kind}.r{i}","mode":"managed","type":"{kind}","name":"r{i}","provider_name":"registry.terraform.io/hashicorp/aws","change":{change}}}"#
    )
}

fn plan(n: usize) -> ChangeSet {
    let resources: Vec<String> = (0..n).map(resource).collect();
    let text = format!(
        r#"{{"format_version":"1.2","resource_changes":[{}],"configuration":{{"provider_config":{{"aws":{{"name":"aws","expressions":{{"region":{{"constant_value":"eu-west-1"}}}}}}}},"root_module":{{}}}}}}"#,
        resources.join(",")
    );
    parse(&InputBytes {
        name: "plan.json".into(),
        bytes: text.into_bytes(),
    })
    .unwrap()
}

#[divan::bench(args = [50, 1_000, 10_000])]
fn estimate_plan(bencher: divan::Bencher<'_, '_>, n: usize) {
    let changes = plan(n);
    let catalog = Catalog::embedded();
    let usage = Usage::parse("usage.yaml", "aws_s3_bucket: { storage_gb: 100 }\n").unwrap();
    bencher.bench_local(|| estimate(divan::black_box(&changes), catalog, &usage));
}

#[divan::bench]
fn parse_embedded_catalog(bencher: divan::Bencher<'_, '_>) {
    let text = include_str!("../data/prices.json");
    bencher.bench_local(|| Catalog::parse("embedded", divan::black_box(text)).unwrap());
}
