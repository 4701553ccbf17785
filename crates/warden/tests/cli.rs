//! The binary as a user runs it: exit codes, outputs, configuration, bad input, the corpus.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "test helpers abort the test on failure"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{json, root, stderr, stdout, warden};

fn warden_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run warden")
}

/// Runs warden with `stdin` piped in.
fn warden_stdin(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run warden");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait for warden")
}

const INSECURE: &str = "examples/terraform/insecure-web-app/plan.json";
const COMPLIANT: &str = "examples/terraform/compliant/plan.json";

#[test]
fn insecure_example_is_denied_with_reasons_and_fixes() {
    let o = warden(&["check", INSECURE]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("DENY"), "{text}");
    assert!(text.contains("why:") && text.contains("fix:"), "{text}");
    assert!(text.contains("WD-AWS-007"), "{text}");
}

#[test]
fn compliant_example_is_allowed() {
    let o = warden(&["check", "--no-config", COMPLIANT]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn json_output_is_a_versioned_decision_that_validates_against_its_schema() {
    let o = warden(&["check", "--format", "json", INSECURE]);
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(doc["outcome"], "deny");
    assert_eq!(doc["schema_version"], 1);
    assert!(doc["input_digest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));
    assert!(doc["policy_revision"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .all(|f| f["why"].as_str().is_some_and(|w| !w.is_empty())));
    assert!(findings.iter().any(|f| f["fix"]["patch"].is_array()));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/schemas/decision.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_same_input_gives_the_same_decision() {
    let run = || {
        let o = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["check", "--format", "json", INSECURE])
            .current_dir(root())
            .env("WARDEN_NOW", "2026-11-21T10:00:00Z")
            .output()
            .unwrap();
        let mut doc = json(&o);
        doc["duration_ms"] = serde_json::Value::Null;
        doc
    };
    assert_eq!(run(), run());
}

#[test]
fn other_formats_render() {
    for (format, marker) in [
        ("sarif", "\"version\": \"2.1.0\""),
        ("junit", "<testsuite"),
        ("markdown", "|"),
    ] {
        let o = warden(&["check", "--format", format, INSECURE]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        assert!(stdout(&o).contains(marker), "{format}: {}", stdout(&o));
    }
}

#[test]
fn require_approval_exits_3_and_fail_on_moves_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let plan = r#"{"format_version":"1.2","resource_changes":[{"address":"aws_subnet.a","mode":"managed","type":"aws_subnet","name":"a",
        "provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["create"],"before":null,
        "after":{"cidr_block":"10.0.0.0/24","map_public_ip_on_launch":true,"tags":{"Owner":"x"}},"after_unknown":{"id":true}}}]}"#;
    std::fs::write(dir.path().join("plan.json"), plan).unwrap();
    let o = warden_in(dir.path(), &["check", "plan.json"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let o = warden_in(
        dir.path(),
        &["check", "--fail-on", "deny", "plan.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = warden_in(
        dir.path(),
        &["check", "--fail-on", "loud", "plan.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn exceptions_waive_until_they_expire_and_tags_waive_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let plan = r#"{"format_version":"1.2","resource_changes":[
      {"address":"aws_s3_bucket_acl.site","mode":"managed","type":"aws_s3_bucket_acl","name":"site","change":{"actions":["create"],"before":null,"after":{"bucket":"site","acl":"public-read"},"after_unknown":{}}},
      {"address":"aws_ebs_volume.scratch","mode":"managed","type":"aws_ebs_volume","name":"scratch","change":{"actions":["create"],"before":null,"after":{"size":1,"encrypted":false,"tags":{"warden:ignore":"WD-AWS-019 scratch space, no data"}},"after_unknown":{}}}]}"#;
    std::fs::write(dir.path().join("plan.json"), plan).unwrap();
    std::fs::write(
        dir.path().join("warden.toml"),
        "select = [\"WD-AWS-001\", \"WD-AWS-019\"]\n[[exceptions]]\nrule = \"s3-bucket-public-acl\"\nresource = \"aws_s3_bucket_acl.*\"\nreason = \"public website\"\nowner = \"web\"\nexpires = 2026-12-31\n",
    )
    .unwrap();
    let o = warden_in(
        dir.path(),
        &["check", "--format", "json", "plan.json"],
        &[("WARDEN_NOW", "2026-12-31T23:00:00Z")],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["outcome"], "allow");
    let waived = doc["waived"].as_array().unwrap();
    assert_eq!(waived.len(), 2, "{doc:#}");
    assert!(waived
        .iter()
        .any(|w| w["waiver"]["kind"] == "exception" && w["waiver"]["reason"] == "public website"));
    assert!(waived.iter().any(|w| w["waiver"]["kind"] == "tag"));

    let o = warden_in(
        dir.path(),
        &["check", "--format", "json", "plan.json"],
        &[("WARDEN_NOW", "2027-01-01T00:00:00Z")],
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    let note = doc["findings"][0]["note"].as_str().unwrap_or_default();
    assert!(note.contains("expired on 2026-12-31"), "{doc:#}");
}

#[test]
fn output_file_is_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.sarif");
    let o = warden(&[
        "check",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
        INSECURE,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let missing = dir.path().join("no/such/dir/report.json");
    let o = warden(&["check", "--output", missing.to_str().unwrap(), INSECURE]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
}

/// Each bad input gets one clear line naming the file, and exit 2: never a panic, never a
/// report.
#[test]
fn bad_inputs_are_one_line_errors_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let nested = format!("{{\"format_version\":\"1.2\",\"resource_changes\":[{{\"address\":\"a.b\",\"type\":\"a\",\"name\":\"b\",\"change\":{{\"actions\":[\"create\"],\"after\":{}1{}}}}}]}}", "[".repeat(5000), "]".repeat(5000));
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (write("truncated.json", br#"{"format_version":"1.2","resource_changes":[{"address":"#), "end of input"),
        (write("invalid.json", b"{\"format_version\": \"1.2\",,}"), "invalid JSON"),
        (write("empty.json", b"  \n"), "empty"),
        (write("other.json", br#"{"name":"my-package","version":"1.0.0"}"#), "not a Terraform plan"),
        (write("array.json", b"[1,2]"), "array"),
        (write("state.json", br#"{"format_version":"1.0","terraform_version":"1.9.0","values":{"root_module":{}}}"#), "state file"),
        (write("wrongtype.json", br#"{"format_version":"1.2","resource_changes":"nope"}"#), "invalid Terraform plan"),
        (write("badaction.json", br#"{"format_version":"1.2","resource_changes":[{"address":"a.b","type":"a","name":"b","change":{"actions":["explode"]}}]}"#), "unsupported actions"),
        (write("nonutf8.json", b"{\"format_version\":\"1.2\",\"resource_changes\":[],\"x\":\"\xff\xfe\xfd\"}"), "invalid"),
        (write("nested.json", nested.as_bytes()), "recursion limit"),
        (empty_dir.to_str().unwrap().to_owned(), "no input files"),
        (dir.path().join("missing.json").to_str().unwrap().to_owned(), "no such file"),
    ];
    for (path, expected) in cases {
        let o = warden(&["check", "--no-config", &path]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{path}: {err}{}", stdout(&o));
        assert!(
            stdout(&o).is_empty(),
            "{path}: a report was printed: {}",
            stdout(&o)
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{path}: {err}");
        assert!(
            err.contains(&path)
                || err.contains(Path::new(&path).file_name().unwrap().to_str().unwrap()),
            "{path}: {err}"
        );
        assert!(
            err.contains(expected),
            "{path}: expected `{expected}` in {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // Over the size limit: refused before reading it.
    let big = write("big.json", &vec![b' '; 4096]);
    let o = warden(&["check", "--no-config", "--max-input-size", "1024", &big]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("over the limit"), "{}", stderr(&o));
}

#[test]
fn utf16_plans_with_a_byte_order_mark_are_read() {
    let text = std::fs::read_to_string(root().join(COMPLIANT)).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.json");
    std::fs::write(&p, bytes).unwrap();
    let o = warden(&[
        "check",
        "--no-config",
        "--format",
        "json",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["summary"]["resources"], 1);
}

#[test]
fn plans_from_stdin() {
    let o = warden_stdin(
        &["check", "--no-config", "--format", "json", "-"],
        &std::fs::read(root().join(INSECURE)).unwrap(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["inputs"][0]["path"], "-");
}

#[test]
fn configuration_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join(COMPLIANT), dir.path().join("plan.json")).unwrap();
    std::fs::write(
        dir.path().join("warden.toml"),
        "[rules.WD-GOV-001]\nallowed = \"eu-west-1\"\n",
    )
    .unwrap();
    let o = warden_in(dir.path(), &["check", "plan.json"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("warden.toml") && err.contains("rules.WD-GOV-001.allowed"),
        "{err}"
    );
}

#[test]
fn rules_and_explain() {
    let o = warden(&["rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let rules = json(&o);
    assert!(
        rules.as_array().unwrap().len() >= 60,
        "{} rules",
        rules.as_array().unwrap().len()
    );
    let o = warden(&["rules"]);
    assert!(stdout(&o).contains("WD-AWS-001") && stdout(&o).contains("ENFORCEMENT"));
    let o = warden(&["explain", "WD-AWS-001"]);
    assert_eq!(o.status.code(), Some(0));
    for heading in [
        "## What it checks",
        "## Why it matters",
        "## Example",
        "## Fix",
        "## Parameters",
        "## References",
    ] {
        assert!(stdout(&o).contains(heading), "{heading}");
    }
    let o = warden(&["explain", "s3-bucket-public-acl", "--format", "json"]);
    assert_eq!(json(&o)["id"], "WD-AWS-001");
    let o = warden(&["explain", "WD-NOPE-1"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Every real plan in the shared corpus parses and is checked (exit 0, 1 or 3, never 2).
#[test]
fn corpus_plans_parse_and_check() {
    let corpus = root().join("../shared/corpus/tfplan");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let mut checked = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for plan in dirs
        .iter()
        .map(|d| d.join("plan.json"))
        .filter(|p| p.is_file())
    {
        let o = warden(&[
            "check",
            "--no-config",
            "--format",
            "json",
            plan.to_str().unwrap(),
        ]);
        assert!(
            matches!(o.status.code(), Some(0 | 1 | 3)),
            "{}: {}",
            plan.display(),
            stderr(&o)
        );
        let doc = json(&o);
        assert!(doc["summary"]["resources"].as_u64().is_some());
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} corpus plans");
    eprintln!("checked {checked} corpus plans");
}

const MANIFESTS: &str = "examples/kubernetes/web-app.yaml";

#[test]
fn kubernetes_manifests_from_a_file_a_folder_and_stdin() {
    let o = warden(&["check", "--no-config", "--format", "json", MANIFESTS]);
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["inputs"][0]["kind"], "kubernetes-manifests");
    assert_eq!(doc["summary"]["resources"], 5);
    let privileged = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "WD-K8S-003")
        .unwrap();
    assert_eq!(privileged["resource"], "apps/v1/Deployment/shop/web");
    assert_eq!(
        privileged["location"]["line"], 10,
        "the line where the Deployment's document starts"
    );
    assert_eq!(
        privileged["fix"]["patch"][0]["path"],
        "/spec/template/spec/containers/0/securityContext/privileged"
    );

    let o = warden(&[
        "check",
        "--no-config",
        "--format",
        "json",
        "examples/kubernetes",
    ]);
    assert_eq!(json(&o)["summary"]["resources"], 5, "{}", stderr(&o));

    let o = warden_stdin(
        &["check", "--no-config", "--format", "json", "-"],
        &std::fs::read(root().join(MANIFESTS)).unwrap(),
    );
    assert_eq!(json(&o)["summary"]["resources"], 5);
}

#[test]
fn bad_manifests_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, expected) in [
        (
            "dup.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
            "dup.yaml:5:",
        ),
        (
            "syntax.yaml",
            "apiVersion: v1\nkind: [Pod\n",
            "syntax.yaml:",
        ),
        (
            "nokind.yaml",
            "apiVersion: v1\nmetadata: {name: a}\n",
            "no `kind`",
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let o = warden(&["check", "--no-config", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stdout(&o));
        assert!(stderr(&o).contains(expected), "{name}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    }
}

const KYVERNO: &str = "crates/warden/tests/fixtures/kyverno";

#[test]
fn warden_test_runs_kyverno_tests_and_closes_with_the_count() {
    let o = warden(&["test", KYVERNO]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).trim_end().ends_with("3 passed, 0 failed"),
        "{}",
        stdout(&o)
    );
    let o = warden(&["test", "--format", "json", KYVERNO]);
    assert_eq!(json(&o)["passed"], 3);

    // A wrong expectation is a failure: printed with want/got, counted, exit 1.
    let dir = tempfile::tempdir().unwrap();
    let src = root().join(KYVERNO).join("require-team-label");
    std::fs::copy(
        src.join("require-team-label.yaml"),
        dir.path().join("require-team-label.yaml"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("t")).unwrap();
    std::fs::copy(
        src.join(".kyverno-test/resources.yaml"),
        dir.path().join("t/resources.yaml"),
    )
    .unwrap();
    let test = std::fs::read_to_string(src.join(".kyverno-test/kyverno-test.yaml"))
        .unwrap()
        .replacen("result: pass", "result: fail", 1);
    std::fs::write(dir.path().join("t/kyverno-test.yaml"), test).unwrap();
    let o = warden(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("want fail, got pass"), "{}", stdout(&o));
    assert!(
        stdout(&o).trim_end().ends_with("2 passed, 1 failed"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_with_kyverno_policies_and_fail_closed_on_a_broken_one() {
    let policy = format!("{KYVERNO}/require-team-label/require-team-label.yaml");
    let resources = format!("{KYVERNO}/require-team-label/.kyverno-test/resources.yaml");
    let o = warden(&[
        "check",
        "--no-config",
        "--select",
        "WD-K8S-003",
        "--policy",
        &policy,
        "--format",
        "json",
        &resources,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = json(&o);
    let failing: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["apps/v1/Deployment/bad-deploy", "v1/Pod/bad"]);
    assert_eq!(
        doc["findings"][1]["message"]
            .as_str()
            .map(|m| m.contains("label `team` is required on bad")),
        Some(true)
    );

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: b}\nspec:\n  validationFailureAction: Sometimes\n  rules: []\n").unwrap();
    let o = warden(&[
        "check",
        "--no-config",
        "--policy",
        broken.to_str().unwrap(),
        "--format",
        "json",
        &resources,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(doc["outcome"], "deny");
    assert!(
        doc["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("broken.yaml"),
        "{doc:#}"
    );
}

// ---- Rego policies (conftest conventions) and `warden test` for *_test.rego ----

#[test]
fn rego_policies_join_builtin_rules_in_one_decision() {
    let out = warden(&[
        "check",
        "examples/terraform/insecure-web-app/plan.json",
        "--no-config",
        "--select",
        "WD-AWS-001",
        "--policy",
        "examples/rego/policy",
        "--data",
        "examples/rego/data",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<(&str, &str)> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["resource"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        ids.contains(&("ORG-S3-001", "aws_s3_bucket_acl.assets")),
        "{ids:?}"
    );
    assert!(
        ids.contains(&("ORG-EC2-001", "aws_instance.web[0]")),
        "{ids:?}"
    );
    assert!(ids.iter().any(|(id, _)| *id == "WD-AWS-001"), "{ids:?}");
    // Without the data, the instance-type rule finds nothing to compare with: no warning.
    let out = warden(&[
        "check",
        "examples/terraform/insecure-web-app/plan.json",
        "--no-config",
        "--policy",
        "examples/rego/policy",
        "--namespace",
        "other",
        "--format",
        "json",
    ]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule_id"].as_str().unwrap().starts_with("ORG-")));
}

#[test]
fn bad_rego_policies_and_data_fail_closed_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.rego"),
        "package main\nwarn[m] { m := \"w\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.rego"),
        "package main\n\ndeny[m] {\n  m := \n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.json"), "{\"a\": }").unwrap();
    let policy = dir.path().to_str().unwrap();
    let data = dir.path().join("bad.json");
    let out = warden(&[
        "check",
        "examples/terraform/compliant/plan.json",
        "--no-config",
        "--policy",
        policy,
        "--data",
        data.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = d["errors"].to_string();
    assert!(errors.contains("bad.rego:"), "{errors}");
    assert!(errors.contains("bad.json:1:7: invalid JSON"), "{errors}");
    // The good policy still ran.
    assert!(d["findings"].to_string().contains("main.warn"));
}

#[test]
fn bundle_revision_is_recorded_in_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(bundle.join("limits")).unwrap();
    std::fs::write(
        bundle.join(".manifest"),
        r#"{"revision": "v7", "roots": ["main", "limits"]}"#,
    )
    .unwrap();
    std::fs::write(bundle.join("limits/data.json"), r#"{"max": 1}"#).unwrap();
    std::fs::write(
        bundle.join("p.rego"),
        "package main\ndeny[m] { count(input.resource_changes) > data.limits.max; m := \"too many\" }\n",
    )
    .unwrap();
    let out = warden(&[
        "check",
        "examples/terraform/insecure-web-app/plan.json",
        "--no-config",
        "--data",
        bundle.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["bundles"][0]["revision"], "v7", "{}", d["errors"]);
    assert!(d["findings"].to_string().contains("too many"));
}

#[test]
fn warden_test_runs_rego_tests_like_opa_test() {
    let out = warden(&["test", "examples/rego/policy"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.ends_with("3 passed, 0 failed\n"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p_test.rego"),
        "package t\n\ntest_ok { true }\ntest_bad { false }\ntodo_test_later { false }\n",
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let out = warden(&["test", path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("p_test.rego:4:1: t.test_bad"), "{text}");
    assert!(text.ends_with("1 passed, 1 failed\n"), "{text}");

    let out = warden(&["test", path, "--run", "test_ok", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (d["passed"].as_u64(), d["failed"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(d["rego"]["results"][0]["name"], "test_ok");

    std::fs::write(dir.path().join("broken.rego"), "package t\nx := \n").unwrap();
    let out = warden(&["test", path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("broken.rego:"), "{text}");
}
