//! `warden cost` as a user runs it, the estimate in `warden check`, WD-COST-001 in the rule
//! list, and the corpus: every resource priced, free, or unpriced with a reason.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "test helpers abort the test on failure"
)]

use std::path::PathBuf;

mod common;
use common::{json, root, stderr, stdout, warden};

/// The fixtures: `web.json` (a plan in eu-west-1), `usage.yaml`, `prices.json`, and the
/// `warden.toml` beside them (`[cost]` with the usage file and thresholds 100 / 1000).
const DIR: &str = "crates/warden/tests/fixtures/cost";
const WEB: &str = "crates/warden/tests/fixtures/cost/web.json";

/// An empty configuration, so a test sees the embedded catalog alone.
fn no_config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warden.toml");
    std::fs::write(&path, "").unwrap();
    let path = path.display().to_string();
    (dir, path)
}

fn resource<'a>(doc: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("{address} not priced: {doc}"))
}

/// The figures of `web.json` with its `warden.toml` (usage file), eu-west-1 prices:
///
/// - `aws_instance.app` (create): m5.large 0.107 × 730 = 78.11; root gp3 20 GB × 0.088 =
///   1.76; after 79.87
/// - `aws_instance.old` (delete): t3.micro 0.0114 × 730 = 8.322 → 8.32; root gp2 8 GB ×
///   0.11 = 0.88; before 9.20
/// - `aws_db_instance.db` (update): db.t3.micro postgres 0.02 × 730 = 14.60, gp2 20 GB ×
///   0.127 = 2.54: before 17.14; db.t3.small 0.04 × 730 = 29.20 + 2.54: after 31.74
/// - `aws_nat_gateway.nat` (create): 0.048 × 730 = 35.04; 500 GB × 0.048 = 24.00; 59.04
/// - `aws_s3_bucket.logs` (create): 100 GB × 0.023 = 2.30
///
/// before 9.20 + 17.14 = 26.34; after 79.87 + 31.74 + 59.04 + 2.30 = 172.95; delta 146.61.
#[test]
fn the_json_estimate_pins_hand_computed_figures() {
    let o = warden(&["cost", "--format", "json", WEB]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["before"], 26.34);
    assert_eq!(doc["after"], 172.95);
    assert_eq!(doc["delta"], 146.61);
    assert_eq!(
        doc["counts"],
        serde_json::json!({"priced": 5, "free": 1, "unpriced": 1})
    );
    assert_eq!(doc["as_of"], "2025-01");
    assert_eq!(doc["currency"], "USD");
    assert!(doc["usage"].as_str().unwrap().ends_with("usage.yaml"));

    let app = resource(&doc, "aws_instance.app");
    assert_eq!(
        (app["before"].clone(), app["after"].clone()),
        (0.0.into(), 79.87.into())
    );
    assert_eq!(app["region"], "eu-west-1");
    assert_eq!(app["region_source"], "provider");
    assert_eq!(app["components"][0]["unit_price"], 0.107);
    assert_eq!(app["components"][0]["quantity"], 730.0);
    assert_eq!(app["components"][0]["monthly"], 78.11);
    assert_eq!(app["components"][1]["monthly"], 1.76);

    let old = resource(&doc, "aws_instance.old");
    assert_eq!(
        (old["before"].clone(), old["after"].clone()),
        (9.2.into(), 0.0.into())
    );
    let db = resource(&doc, "aws_db_instance.db");
    assert_eq!(
        (
            db["before"].clone(),
            db["after"].clone(),
            db["delta"].clone()
        ),
        (17.14.into(), 31.74.into(), 14.6.into())
    );
    assert_eq!(
        db["components_before"][0]["description"],
        "db.t3.micro postgres instance (single-AZ)"
    );
    assert_eq!(resource(&doc, "aws_nat_gateway.nat")["after"], 59.04);
    assert_eq!(resource(&doc, "aws_s3_bucket.logs")["after"], 2.3);

    assert_eq!(doc["free"][0]["address"], "aws_security_group.web");
    assert_eq!(doc["unpriced"][0]["address"], "aws_sqs_queue.jobs");
    assert_eq!(
        doc["unpriced"][0]["reason"],
        "the catalog does not price `aws_sqs_queue`"
    );
    // The thresholds of the configuration, with the headroom.
    assert_eq!(doc["limits"][0]["name"], "cost.approval-above");
    assert_eq!(doc["limits"][0]["headroom"], -46.61);
    assert_eq!(doc["limits"][1]["headroom"], 853.39);
}

#[test]
fn the_text_table_has_totals_the_unpriced_and_the_date() {
    let o = warden(&["cost", WEB]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let line = |start: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start}: {text}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        line("ADDRESS"),
        ["ADDRESS", "KIND", "ACTION", "BEFORE", "AFTER", "DELTA"]
    );
    assert_eq!(
        line("aws_db_instance.db"),
        [
            "aws_db_instance.db",
            "aws_db_instance",
            "update",
            "$17.14",
            "$31.74",
            "+$14.60"
        ]
    );
    assert_eq!(line("TOTAL"), ["TOTAL", "$26.34", "$172.95", "+$146.61"]);
    assert!(text.contains("Unpriced (1), not in the totals:"), "{text}");
    assert!(
        text.contains("aws_sqs_queue.jobs (aws_sqs_queue, create): the catalog does not price `aws_sqs_queue`"),
        "{text}"
    );
    assert!(
        text.contains("cost.approval-above = $100.00: exceeded (headroom -$46.61)"),
        "{text}"
    );
    assert!(
        text.contains("5 priced · 1 free · 1 unpriced · USD per month · prices as of 2025-01"),
        "{text}"
    );
}

#[test]
fn a_catalog_and_a_usage_file_from_the_command_line() {
    let (_dir, empty) = no_config();
    // Without usage, the bucket is unpriced and the NAT gateway's data is left out.
    let o = warden(&["cost", "--format", "json", "--config", &empty, WEB]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(resource(&doc, "aws_nat_gateway.nat")["after"], 35.04);
    let bucket = doc["unpriced"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["address"] == "aws_s3_bucket.logs")
        .unwrap();
    assert!(bucket["reason"].as_str().unwrap().contains("storage_gb"));
    assert!(doc.get("limits").is_none());

    // Negotiated m5.large at 0.08: 0.08 × 730 = 58.40 + root 1.76 = 60.16.
    let prices = format!("{DIR}/prices.json");
    let usage = format!("{DIR}/usage.yaml");
    let o = warden(&[
        "cost",
        "--format",
        "json",
        "--config",
        &empty,
        "--catalog",
        &prices,
        "--usage",
        &usage,
        WEB,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(resource(&doc, "aws_instance.app")["after"], 60.16);
    assert_eq!(resource(&doc, "aws_s3_bucket.logs")["after"], 2.3);
    let catalogs: Vec<&str> = doc["catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(catalogs[0], "embedded (2025-01)");
    assert!(
        catalogs[1].ends_with("prices.json (2025-06)"),
        "{catalogs:?}"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_exit_2() {
    let (dir, empty) = no_config();
    let malformed = format!("{DIR}/malformed.json");
    let o = warden(&["cost", "--config", &empty, &malformed]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("malformed.json"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    let o = warden(&["cost", "--config", &empty, "no/such/plan.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/plan.json"), "{}", stderr(&o));

    let usage = dir.path().join("usage.yaml");
    std::fs::write(&usage, "aws_s3_bucket.logs: { storage: 100 }\n").unwrap();
    let o = warden(&[
        "cost",
        "--config",
        &empty,
        "--usage",
        usage.to_str().unwrap(),
        WEB,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("usage.yaml: aws_s3_bucket.logs.storage:") && err.contains("storage_gb"),
        "{err}"
    );

    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[cost]\napproval-above = \"a lot\"\n").unwrap();
    let o = warden(&["cost", "--config", config.to_str().unwrap(), WEB]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.toml:2: cost.approval-above:"), "{err}");

    let o = warden(&["cost", "--config", &empty, "--format", "yaml", WEB]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_carries_the_estimate_and_the_threshold_finding() {
    // web.json's delta +146.61 is above approval-above 100, under deny-above 1000.
    let o = warden(&["check", WEB, "--select", "WD-COST-001"]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Cost: +$146.61/month (before $26.34, after $172.95); 1 resource unpriced"),
        "{text}"
    );
    assert!(text.contains("WD-COST-001"), "{text}");

    let o = warden(&["check", "--format", "json", WEB, "--select", "WD-COST-001"]);
    let doc = json(&o);
    assert_eq!(doc["outcome"], "require_approval");
    assert_eq!(doc["cost"]["delta"], 146.61);
    let finding = &doc["findings"][0];
    assert_eq!(finding["rule_id"], "WD-COST-001");
    assert_eq!(finding["resource"], WEB);
    assert_eq!(
        finding["message"],
        "the monthly cost delta of this change is +$146.61 (before $26.34, after $172.95): above `cost.approval-above` = $100.00 by $46.61 (headroom -$46.61); $853.39 below `cost.deny-above` = $1,000.00; 1 resource is not priced and not counted (`warden cost` lists them)"
    );
    // The JSON still matches its schema.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/schemas/decision.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");

    let o = warden(&[
        "check",
        "--format",
        "markdown",
        WEB,
        "--select",
        "WD-COST-001",
    ]);
    assert!(
        stdout(&o).contains(
            "**Cost:** \\+\\$146.61/month (before \\$26.34, after \\$172.95); 1 resource unpriced."
        ),
        "{}",
        stdout(&o)
    );
    // Without thresholds: the estimate, no finding.
    let (_dir, empty) = no_config();
    let o = warden(&[
        "check",
        "--config",
        &empty,
        "--select",
        "WD-COST-001",
        "--format",
        "json",
        WEB,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["outcome"], "allow");
    assert!(doc["cost"]["after"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_rule_is_listed_and_explained() {
    let o = warden(&["rules"]);
    assert!(stdout(&o).contains("WD-COST-001"), "{}", stdout(&o));
    let o = warden(&["explain", "WD-COST-001"]);
    assert_eq!(o.status.code(), Some(0));
    for heading in [
        "## What it checks",
        "## Why it matters",
        "## Example",
        "## Fix",
        "## Parameters",
    ] {
        assert!(stdout(&o).contains(heading), "{heading}");
    }
    let o = warden(&["explain", "cost-delta-above-threshold", "--format", "json"]);
    let doc = json(&o);
    assert_eq!(doc["id"], "WD-COST-001");
    assert!(!doc["why"].as_str().unwrap().is_empty());
}

/// Decodes a plan as `warden` does: UTF-8 (BOM or not) or UTF-16 with a BOM.
fn plan_text(bytes: &[u8]) -> String {
    match bytes {
        [0xFF, 0xFE, rest @ ..] => String::from_utf16_lossy(
            &rest
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        ),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Every managed resource of every corpus plan is priced (with a non-zero component, or
/// deleted), free, or unpriced with a reason; never priced at zero silently.
#[test]
fn corpus_plans_are_priced_free_or_unpriced_with_a_reason() {
    let corpus = root().join("../shared/corpus/tfplan");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let (_dir, empty) = no_config();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let (mut plans, mut total, mut priced, mut free, mut unpriced) = (0, 0, 0, 0, 0);
    let mut kinds_unpriced: std::collections::BTreeMap<String, usize> = Default::default();
    for plan in dirs
        .iter()
        .map(|d| d.join("plan.json"))
        .filter(|p| p.is_file())
    {
        let doc: serde_json::Value =
            serde_json::from_str(&plan_text(&std::fs::read(&plan).unwrap())).unwrap();
        let mut expected: Vec<String> = doc["resource_changes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|r| {
                r["mode"] == "managed" && r["change"]["actions"] != serde_json::json!(["read"])
            })
            .map(|r| r["address"].as_str().unwrap().to_owned())
            .collect();
        expected.sort();

        let o = warden(&[
            "cost",
            "--format",
            "json",
            "--config",
            &empty,
            plan.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            plan.display(),
            stderr(&o)
        );
        let e = json(&o);
        let list = |key: &str| e[key].as_array().cloned().unwrap_or_default();
        let mut seen: Vec<String> = Vec::new();
        for r in list("resources") {
            let address = r["address"].as_str().unwrap().to_owned();
            let components = r["components"].as_array().cloned().unwrap_or_default();
            let deleted = r["action"] == "delete" && r["before"].as_f64().unwrap() > 0.0;
            assert!(
                deleted
                    || components
                        .iter()
                        .any(|c| c["monthly"].as_f64().unwrap() > 0.0),
                "{}: {address} priced at zero: {r}",
                plan.display()
            );
            seen.push(address);
        }
        for f in list("free") {
            seen.push(f["address"].as_str().unwrap().to_owned());
        }
        for u in list("unpriced") {
            assert!(
                !u["reason"].as_str().unwrap_or_default().is_empty(),
                "{}: {u} has no reason",
                plan.display()
            );
            *kinds_unpriced
                .entry(u["kind"].as_str().unwrap().to_owned())
                .or_default() += 1;
            seen.push(u["address"].as_str().unwrap().to_owned());
        }
        seen.sort();
        assert_eq!(
            seen,
            expected,
            "{}: every resource accounted for once",
            plan.display()
        );
        let counts = &e["counts"];
        let n = |k: &str| counts[k].as_u64().unwrap() as usize;
        eprintln!(
            "{:<70} {:>3} resources: {:>3} priced, {:>3} free, {:>3} unpriced, {}/month",
            plan.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy(),
            expected.len(),
            n("priced"),
            n("free"),
            n("unpriced"),
            e["after"]
        );
        plans += 1;
        total += expected.len();
        priced += n("priced");
        free += n("free");
        unpriced += n("unpriced");
    }
    assert!(plans >= 30, "only {plans} corpus plans");
    eprintln!(
        "coverage: {plans} plans, {total} managed resources: {priced} priced, {free} free, {unpriced} unpriced ({:.0}% priced or free)",
        100.0 * (priced + free) as f64 / total.max(1) as f64
    );
    eprintln!("unpriced kinds: {kinds_unpriced:?}");
}
