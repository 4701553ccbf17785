//! `warden drift` as a user runs it: refresh-only plans and Kubernetes objects, exit codes
//! (0 no drift, 2 drift, 1 error), text and JSON, masking, bad input, the corpus.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "test helpers abort the test on failure"
)]

use std::path::PathBuf;

mod common;
use common::{json, root, stderr, stdout, warden};

fn fixture(name: &str) -> String {
    format!("crates/warden/tests/fixtures/drift/{name}")
}

/// Resolves the schemas' references to each other from `docs/schemas`.
struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().split('#').next().unwrap_or_default();
        let name = name.rsplit('/').next().unwrap_or_default();
        let text = std::fs::read_to_string(root().join("docs/schemas").join(name))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// Validates a report against `docs/schemas/drift.schema.json` (which refers to the
/// decision schema for findings, locations and inputs).
fn assert_schema_valid(doc: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/schemas/drift.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .with_retriever(LocalSchemas)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn drifted<'a>(doc: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    doc["drifted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["address"] == address)
        .unwrap_or_else(|| panic!("{address} is not in {doc:#}"))
}

fn rule_ids(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule_id"].as_str().unwrap())
        .collect()
}

#[test]
fn a_hand_opened_security_group_is_drift_that_introduces_a_violation() {
    let plan = fixture("sg-opened.json");
    let o = warden(&["drift", "--no-config", &plan, "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let doc = json(&o);
    assert_schema_valid(&doc);
    assert_eq!(doc["source"], "terraform");
    assert_eq!(doc["summary"]["compared"], 3);
    assert_eq!(doc["summary"]["drifted"], 3);
    assert_eq!(doc["summary"]["deleted"], 1);

    // The security group: first (it introduced a violation), the changed CIDRs, WD-AWS-007.
    let sg = &doc["drifted"][0];
    assert_eq!(sg["address"], "aws_security_group.web");
    assert_eq!(sg["status"], "changed");
    assert_eq!(sg["changes"][0]["path"], "ingress.0.cidr_blocks");
    assert_eq!(sg["changes"][0]["change"], "changed");
    assert_eq!(sg["changes"][0]["after"][1], "0.0.0.0/0");
    assert_eq!(rule_ids(&sg["introduced"]), ["WD-AWS-007"]);
    assert_eq!(sg["remediation"]["suggested"], "revert");
    assert!(sg["remediation"]["adopt"][0]
        .as_str()
        .unwrap()
        .starts_with("ingress[0].cidr_blocks = ["));

    // One WD-DRIFT-001 finding per introduced violation, carrying the underlying rule.
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    for f in findings {
        assert_eq!(f["rule_id"], "WD-DRIFT-001");
        assert_eq!(f["resource"], "aws_security_group.web");
        assert_eq!(f["attribute"], "ingress.0.cidr_blocks");
        assert_eq!(f["enforcement"], "deny");
        assert!(f["why"].as_str().is_some_and(|w| !w.is_empty()));
    }
    assert_eq!(findings[0]["severity"], "critical");
    assert!(findings[0]["message"]
        .as_str()
        .unwrap()
        .contains("introduces WD-AWS-007"));
    // Reverting the CIDRs is a patch of the live state.
    assert_eq!(findings[0]["fix"]["patch"][0]["op"], "replace");
    assert_eq!(
        findings[0]["fix"]["patch"][0]["path"],
        "/ingress/0/cidr_blocks"
    );

    // The database: the password changed by hand is masked; its backups were already off.
    let db = drifted(&doc, "aws_db_instance.orders");
    let password = db["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "password")
        .unwrap();
    assert_eq!(password["sensitive"], true);
    assert_eq!(password["after"], "***MASKED***");
    assert!(db["introduced"].as_array().unwrap().is_empty());
    assert_eq!(rule_ids(&db["pre_existing"]), ["WD-AWS-036"], "{db:#}");
    assert!(!stdout(&o).contains("Sup3r-Secret"), "a password leaked");

    // The bucket deleted by hand.
    let bucket = drifted(&doc, "aws_s3_bucket.scratch");
    assert_eq!(bucket["status"], "deleted");
    assert_eq!(bucket["remediation"]["suggested"], "revert");
}

#[test]
fn the_text_report_puts_introduced_violations_first() {
    let o = warden(&["drift", "--no-config", &fixture("sg-opened.json")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let text = stdout(&o);
    let first_resource = text.lines().next().unwrap();
    assert!(
        first_resource.starts_with(
            "~ aws_security_group.web [aws_security_group]: changed outside Terraform"
        ),
        "{text}"
    );
    let drift = text.find("DENY WD-DRIFT-001 [critical]").expect(&text);
    let diff = text.find("~ ingress.0.cidr_blocks:").expect(&text);
    let remedy = text.find("remediation: revert").expect(&text);
    assert!(drift < diff && diff < remedy, "{text}");
    assert!(text.contains("- aws_s3_bucket.scratch [aws_s3_bucket]: deleted outside Terraform"));
    assert!(
        text.contains("~ password: \"***MASKED***\" → \"***MASKED***\""),
        "{text}"
    );
    assert!(!text.contains("Sup3r-Secret"), "a password leaked");
    assert!(
        text.contains("Drift: 3 of 3 resources (2 changed, 1 deleted)"),
        "{text}"
    );
    assert!(
        text.contains("Policy: 1 violation introduced by the drift, 1 pre-existing, 0 resolved."),
        "{text}"
    );
}

#[test]
fn harmless_tag_drift_is_drift_without_findings_and_adopting_is_an_edit() {
    let o = warden(&[
        "drift",
        "--no-config",
        &fixture("tags-only.json"),
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let doc = json(&o);
    assert_schema_valid(&doc);
    assert!(doc["findings"].as_array().unwrap().is_empty());
    let sg = drifted(&doc, "aws_security_group.web");
    assert!(sg["introduced"].as_array().unwrap().is_empty());
    let adopt: Vec<&str> = sg["remediation"]["adopt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(adopt, ["tags.owner = \"bob\"", "tags_all.owner = \"bob\""]);
}

#[test]
fn no_drift_exits_0() {
    let o = warden(&["drift", "--no-config", &fixture("no-drift.json")]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "No drift: 0 resources compared.\n");
}

#[test]
fn the_policy_set_is_the_one_check_uses() {
    let dir = tempfile::tempdir().unwrap();
    // User policies count: a Rego rule about owners flags the tag drift.
    let rego = dir.path().join("owners.rego");
    std::fs::write(
        &rego,
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  some rc in input.resource_changes\n  rc.change.after.tags.owner == \"bob\"\n  msg := sprintf(\"%s: owned by a person, not a team\", [rc.address])\n}\n",
    )
    .unwrap();
    let o = warden(&[
        "drift",
        "--no-config",
        &fixture("tags-only.json"),
        "--policy",
        rego.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let doc = json(&o);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc:#}");
    assert!(findings[0]["message"]
        .as_str()
        .unwrap()
        .contains("introduces main.deny"));

    // The configuration counts: WD-DRIFT-001 ignored → violations listed, no findings;
    // enforcement set → the findings carry it.
    let config = dir.path().join("warden.toml");
    std::fs::write(&config, "ignore = [\"WD-DRIFT-001\"]\n").unwrap();
    let o = warden(&[
        "drift",
        "--config",
        config.to_str().unwrap(),
        &fixture("sg-opened.json"),
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let doc = json(&o);
    assert!(doc["findings"].as_array().unwrap().is_empty());
    assert_eq!(doc["summary"]["introduced"], 1);
    std::fs::write(&config, "[rules.WD-DRIFT-001]\nenforcement = \"warn\"\n").unwrap();
    let o = warden(&[
        "drift",
        "--config",
        config.to_str().unwrap(),
        &fixture("sg-opened.json"),
        "-f",
        "json",
    ]);
    assert_eq!(json(&o)["findings"][0]["enforcement"], "warn");

    // A policy that fails to load makes the verdict incomplete: exit 1, the error shown.
    let broken = dir.path().join("broken.rego");
    std::fs::write(&broken, "package main\ndeny contains msg if {\n").unwrap();
    let o = warden(&[
        "drift",
        "--no-config",
        &fixture("no-drift.json"),
        "--policy",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("the verdict is incomplete"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn kubernetes_objects_against_their_manifests() {
    let o = warden(&[
        "drift",
        "--no-config",
        "--desired",
        &fixture("kubernetes/desired"),
        "--live",
        &fixture("kubernetes/live.json"),
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let doc = json(&o);
    assert_schema_valid(&doc);
    assert_eq!(doc["source"], "kubernetes");
    assert_eq!(doc["summary"]["compared"], 4);

    // Scaled by hand, and made privileged: a field the manifest does not set, shown
    // because a rule flags it. Server fields, defaults and `250m` for `0.25` are not drift.
    let web = drifted(&doc, "apps/v1/Deployment/shop/web");
    let paths: Vec<&str> = web["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "spec.replicas",
            "spec.template.spec.containers.0.securityContext.privileged"
        ],
        "{web:#}"
    );
    assert!(rule_ids(&web["introduced"])
        .iter()
        .any(|id| id.starts_with("WD-K8S-")));
    assert!(web["notes"][0]
        .as_str()
        .unwrap()
        .contains("not set in the manifests"));
    assert!(web["remediation"]["revert"].as_str().unwrap().starts_with(
        "kubectl apply -f crates/warden/tests/fixtures/drift/kubernetes/desired/web.yaml"
    ));
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule_id"] == "WD-DRIFT-001" && f["resource"] == "apps/v1/Deployment/shop/web"));

    let settings = drifted(&doc, "v1/ConfigMap/shop/settings");
    assert_eq!(settings["changes"][0]["path"], "data.LOG_LEVEL");
    assert_eq!(
        settings["remediation"]["adopt"][0],
        "data.LOG_LEVEL: \"debug\""
    );
    assert_eq!(
        drifted(&doc, "apps/v1/Deployment/shop/worker")["status"],
        "missing"
    );
    // The Service matches once server defaults are ignored; live-only objects are not drift.
    assert_eq!(doc["summary"]["drifted"], 3, "{doc:#}");

    let o = warden(&[
        "drift",
        "--no-config",
        "--desired",
        &fixture("kubernetes/desired"),
        "--live",
        &fixture("kubernetes/live.json"),
        "--include-extra",
        "-f",
        "json",
    ]);
    let doc = json(&o);
    assert_eq!(
        drifted(&doc, "v1/ConfigMap/shop/kube-root-ca.crt")["status"],
        "extra"
    );
}

#[test]
fn kubernetes_objects_that_match_their_manifests_exit_0() {
    let o = warden(&[
        "drift",
        "--no-config",
        "--desired",
        &fixture("kubernetes/desired/web.yaml"),
        &fixture("kubernetes/desired/settings.yaml"),
        "--live",
        &fixture("kubernetes/live-clean.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "No drift: 4 resources compared.\n");
    // An empty List is an empty cluster: everything is missing.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"apiVersion":"v1","kind":"List","items":[]}"#).unwrap();
    let o = warden(&[
        "drift",
        "--no-config",
        "--desired",
        &fixture("kubernetes/desired"),
        "--live",
        empty.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(json(&o)["summary"]["missing"], 4);
}

/// Bad input: one line naming the file (and the place, when there is one), exit 1, no
/// report, no panic.
#[test]
fn bad_inputs_are_one_line_errors_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let truncated = write(
        "truncated.json",
        br#"{"format_version":"1.2","resource_drift":[{"address":"#,
    );
    let bad_drift = write(
        "bad-drift.json",
        b"{\"format_version\":\"1.2\",\n\"resource_drift\":[{\"address\":\"a.b\",\"type\":\"a\",\"name\":\"b\",\"change\":{\"actions\":[\"explode\"]}}]}",
    );
    let manifest = write(
        "pod.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
    );
    let not_json = write(
        "live.json",
        b"error: the server doesn't have a resource type \"deploy\"\n",
    );
    let missing = dir.path().join("missing.json").to_str().unwrap().to_owned();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec![&truncated], "truncated.json:1:", "end of input"),
        (vec![&bad_drift], "bad-drift.json:2:", "unsupported actions"),
        (vec![&manifest], "pod.yaml", "not a Terraform plan"),
        (vec![&missing], "missing.json", "cannot read"),
        (
            vec!["--desired", &manifest, "--live", &not_json],
            "live.json",
            "kubectl get -o json",
        ),
        (
            vec!["--desired", &truncated, "--live", &not_json],
            "truncated.json",
            "",
        ),
    ];
    for (args, place, expected) in cases {
        let mut all = vec!["drift", "--no-config"];
        all.extend(args.iter().copied());
        let o = warden(&all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}{}", stdout(&o));
        assert!(stdout(&o).is_empty(), "{args:?}: a report was printed");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(place), "{args:?}: expected `{place}` in {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected `{expected}` in {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn usage_and_help() {
    // A command line the parser rejects exits 1, never 2 ("drift found").
    let o = warden(&["drift"]);
    assert_eq!(o.status.code(), Some(1));
    let o = warden(&["drift", "--no-such-flag", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    // Other commands keep 2 for a usage error.
    let o = warden(&["check", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
    let o = warden(&["drift", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("0 no drift, 2 drift found, 1 error"),
        "{}",
        stdout(&o)
    );
    // The drift rule is listed and explained like any rule.
    let o = warden(&["rules", "--format", "json"]);
    let rules = json(&o);
    assert!(rules
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "WD-DRIFT-001" && r["severity"] == "high"));
    let o = warden(&["explain", "WD-DRIFT-001"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains("## Why it matters") && text.contains("## Fix"),
        "{text}"
    );
}

/// Every corpus plan with `resource_drift` gives a schema-valid report (read from
/// `../shared/corpus/tfplan` when it is there; skipped otherwise).
#[test]
fn corpus_plans_with_drift() {
    let dir = root().join("../shared/corpus/tfplan");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped: {} is absent", dir.display());
        return;
    };
    let mut plans: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path().join("plan.json"))
        .filter(|p| {
            std::fs::read(p).is_ok_and(|b| {
                b.windows(b"\"resource_drift\"".len())
                    .any(|w| w == b"\"resource_drift\"")
            })
        })
        .collect();
    plans.sort();
    if plans.is_empty() {
        println!("skipped: no corpus plan has resource_drift");
        return;
    }
    for plan in &plans {
        let o = warden(&["drift", "--no-config", plan.to_str().unwrap(), "-f", "json"]);
        assert!(
            matches!(o.status.code(), Some(0 | 2)),
            "{}: {}",
            plan.display(),
            stderr(&o)
        );
        let doc = json(&o);
        assert_schema_valid(&doc);
        assert_eq!(
            o.status.code() == Some(2),
            doc["summary"]["drifted"].as_u64().unwrap() > 0
        );
        println!(
            "{}: {} drift entries, {} drifted, {} attribute changes, {} introduced",
            plan.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy(),
            doc["summary"]["compared"],
            doc["summary"]["drifted"],
            doc["summary"]["attribute_changes"],
            doc["summary"]["introduced"]
        );
    }
}
