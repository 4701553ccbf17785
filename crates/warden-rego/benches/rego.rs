//! Divan benchmarks of the Rego engine: one conftest-style policy set compiled once, then
//! evaluated on a synthetic plan of 100 and 1,000 resources (as raw text converted at each
//! evaluation, and as `warden check` passes it: prepared once, ahead of evaluation), the
//! preparation itself, one Kubernetes Pod (the admission-sized case) and 200 Pods (one file,
//! evaluated on every core).
//!
//! `cargo bench -p warden-rego --bench rego`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark harness"
)]

use warden_core::Engine as _;
use warden_rego::{compile, Namespaces, Options, PolicyFile, RegoEngine};

const POLICY: &str = r#"package main
import rego.v1

deny_public_acl contains msg if {
  rc := input.resource_changes[_]
  rc.type == "aws_s3_bucket"
  rc.change.after.acl == "public-read"
  msg := sprintf("%s is public", [rc.address])
}

deny_open_ssh contains msg if {
  rc := input.resource_changes[_]
  rc.type == "aws_security_group"
  some rule in rc.change.after.ingress
  "0.0.0.0/0" in rule.cidr_blocks
  rule.from_port <= 22
  22 <= rule.to_port
  msg := sprintf("%s opens SSH to the world", [rc.address])
}

warn_untagged contains {"msg": "no tags", "resource": rc.address} if {
  rc := input.resource_changes[_]
  not rc.change.after.tags
}

deny_privileged contains msg if {
  some c in input.spec.containers
  c.securityContext.privileged
  msg := sprintf("%s is privileged", [c.name])
}
"#;

fn engine() -> RegoEngine {
    let compiled = compile(
        vec![PolicyFile::new("bench.rego", POLICY.to_owned())],
        &regorus::Value::Undefined,
        &Options::default(),
    );
    assert!(compiled.errors.is_empty());
    RegoEngine::new(compiled, &Namespaces::default())
}

fn plan_text(n: usize) -> String {
    let mut changes = Vec::with_capacity(n);
    for i in 0..n {
        let (ty, after) = match i % 3 {
            0 => (
                "aws_s3_bucket",
                serde_json::json!({"bucket": format!("b{i}"), "acl": if i % 9 == 0 { "public-read" } else { "private" }, "tags": {"owner": "x"}}),
            ),
            1 => (
                "aws_security_group",
                serde_json::json!({"name": format!("sg{i}"), "ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 22, "to_port": 22, "protocol": "tcp"}]}),
            ),
            _ => (
                "aws_instance",
                serde_json::json!({"instance_type": "t3.micro", "ami": "ami-1"}),
            ),
        };
        changes.push(serde_json::json!({
            "address": format!("{ty}.r{i}"), "mode": "managed", "type": ty, "name": format!("r{i}"),
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": {}}
        }));
    }
    // planned_values repeats the changes, as in a real plan; the policies never read it.
    serde_json::json!({"format_version": "1.2", "resource_changes": changes, "planned_values": {"root_module": {"resources": changes}}}).to_string()
}

fn plan(n: usize, engine: Option<&RegoEngine>) -> warden_core::ChangeSet {
    let text = plan_text(n);
    let input = warden_core::inputs::InputBytes {
        name: "plan.json".into(),
        bytes: text.clone().into_bytes(),
    };
    let mut cs = warden_core::inputs::parse(&input).unwrap();
    if let Some(t) = cs.terraform.as_mut() {
        t.document = Some(match engine {
            Some(e) => e.prepare_document(&text),
            None => warden_core::RawDocument::new(text),
        });
    }
    cs
}

fn main() {
    divan::main();
}

#[divan::bench]
fn compile_policy_set() -> RegoEngine {
    engine()
}

#[divan::bench(args = [100, 1000])]
fn plan_document(bencher: divan::Bencher, n: usize) {
    let engine = engine();
    let changes = plan(n, None);
    bencher.bench(|| {
        let mut out = Vec::new();
        engine.evaluate(&changes, &mut out).unwrap();
        out
    });
}

#[divan::bench(args = [100, 1000])]
fn prepare_plan(bencher: divan::Bencher, n: usize) {
    let engine = engine();
    let text = plan_text(n);
    bencher.bench(|| engine.prepare_document(&text));
}

#[divan::bench(args = [100, 1000])]
fn prepared_plan_document(bencher: divan::Bencher, n: usize) {
    let engine = engine();
    let changes = plan(n, Some(&engine));
    bencher.bench(|| {
        let mut out = Vec::new();
        engine.evaluate(&changes, &mut out).unwrap();
        out
    });
}

#[divan::bench]
fn pods_200(bencher: divan::Bencher) {
    let engine = engine();
    let mut yaml = String::new();
    for i in 0..200 {
        yaml.push_str(&format!("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    securityContext:\n      privileged: {}\n", i % 2 == 0));
    }
    let input = warden_core::inputs::InputBytes {
        name: "pods.yaml".into(),
        bytes: yaml.into_bytes(),
    };
    let changes = warden_core::inputs::parse(&input).unwrap();
    bencher.bench(|| {
        let mut out = Vec::new();
        engine.evaluate(&changes, &mut out).unwrap();
        out
    });
}

#[divan::bench]
fn one_pod(bencher: divan::Bencher) {
    let engine = engine();
    let input = warden_core::inputs::InputBytes {
        name: "pod.yaml".into(),
        bytes: b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    securityContext:\n      privileged: true\n".to_vec(),
    };
    let changes = warden_core::inputs::parse(&input).unwrap();
    bencher.bench(|| {
        let mut out = Vec::new();
        engine.evaluate(&changes, &mut out).unwrap();
        out
    });
}
