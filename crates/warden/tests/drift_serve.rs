//! Scheduled drift scans against the real binary: a `[[drift.targets]]` command (a script
//! printing a refresh-only plan) finds a security group opened by hand (WD-DRIFT-001, out of
//! band), then a clean plan resolves the event and time to remediation shows in /metrics; a
//! failing command is a failed scan, counted. `warden drift --server` submits a plan after a
//! change was evaluated through the API: the drift is attributed to that decision.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{request, stop, warden_in};
use serde_json::Value;

const ADMIN: &str = "wdn_drift_admin_secret_0123456789";
const OPENED: &str = include_str!("../../warden-server/tests/fixtures/drift/sg-opened.json");
const CLEAN: &str = include_str!("../../warden-server/tests/fixtures/drift/clean.json");
const CHANGE: &str = include_str!("../../warden-server/tests/fixtures/drift/sg-change.json");

fn token(dir: &Path, role: &str, name: &str) -> String {
    common::server::token(dir, ADMIN, role, name)
}

fn json(addr: &str, path: &str, token: &str) -> Value {
    let (s, body) = request(addr, "GET", path, Some(token), "");
    assert_eq!(s, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| unreachable!("not JSON ({e}): {body}"))
}

/// Polls until `check` holds (the scan loop runs every 1.2 s here).
fn wait_for<T: std::fmt::Debug>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    common::server::poll(Duration::from_secs(30), what, check, Option::is_some)
        .unwrap_or_else(|| unreachable!("{what}"))
}

fn metric(addr: &str, name: &str) -> Option<f64> {
    let (_, text) = request(addr, "GET", "/metrics", None, "");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn scheduled_scans_open_resolve_and_count_drift() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path();
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| unreachable!("{name}: {e}"));
    };
    write("opened.json", OPENED);
    write("clean.json", CLEAN);
    write("change.json", CHANGE);
    // The fake `tofu`: prints the plan the test names in `current`.
    write("current", "opened.json");
    std::fs::create_dir_all(dir.join("infra")).unwrap_or_else(|e| unreachable!("{e}"));
    write("infra/plan.sh", "cat \"../$(cat ../current)\"\n");
    write(
        "warden.toml",
        "[drift]\ninterval-minutes = 0.02\n\n[[drift.targets]]\nname = \"network\"\nspace = \"dev\"\n\
         workdir = \"infra\"\ncommand = [\"sh\", \"plan.sh\"]\ntimeout-seconds = 10\n",
    );
    let (child, addr) = common::server::serve(dir, ADMIN, &[]);
    let viewer = token(dir, "viewer", "val");
    let alice = token(dir, "requester", "alice");

    // The group opened to the internet: an open event, WD-AWS-007 introduced, out of band.
    let event = wait_for("an open drift event", || {
        let v = json(&addr, "/v1/drift?space=dev&state=open", &viewer);
        v["drift"].as_array()?.first().cloned()
    });
    assert_eq!(event["target"], "network");
    assert_eq!(event["address"], "aws_security_group.api");
    assert_eq!(event["introduced"][0]["rule_id"], "WD-AWS-007", "{event}");
    assert_eq!(event["attribution"]["via"], "out-of-band");
    assert_eq!(event["remediation"]["suggested"], "revert");
    let id = event["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{event}"));

    // Put back: the next scan resolves it, and time to remediation is exported.
    write("current", "clean.json");
    let resolved = wait_for("the event resolved", || {
        let v = json(&addr, &format!("/v1/drift/{id}"), &viewer);
        (v["state"] == "resolved").then_some(v)
    });
    assert!(resolved["resolved_at"].is_string(), "{resolved}");
    let count = wait_for("time to remediation", || {
        metric(&addr, "warden_drift_time_to_remediation_seconds_count")
    });
    assert!((count - 1.0).abs() < f64::EPSILON, "{count}");
    assert!(
        metric(
            &addr,
            "warden_drift_scans_total{space=\"dev\",result=\"drift\"}"
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        metric(
            &addr,
            "warden_drift_scans_total{space=\"dev\",result=\"clean\"}"
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert_eq!(metric(&addr, "warden_drift_open{space=\"dev\"}"), Some(0.0));

    // A command that fails is a failed scan, counted, and resolves nothing.
    write("current", "missing.json");
    wait_for("a failed scan", || {
        metric(
            &addr,
            "warden_drift_scans_total{space=\"dev\",result=\"error\"}",
        )
        .filter(|n| *n >= 1.0)
    });

    // A change evaluated through the API, then the drift submitted by `warden drift --server`:
    // attributed to that decision and its actor.
    let (s, decided) = request(
        &addr,
        "POST",
        "/v1/evaluate?space=dev",
        Some(&alice),
        CHANGE,
    );
    assert_eq!(s, 200, "{decided}");
    let decided: Value = serde_json::from_str(&decided).unwrap_or_else(|e| unreachable!("{e}"));
    let url = format!("http://{addr}");
    let o = warden_in(
        dir,
        Some(&alice),
        &[
            "drift",
            "opened.json",
            "--server",
            &url,
            "--space",
            "dev",
            "--target",
            "manual",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let answer: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| unreachable!("{e}"));
    let who = &answer["report"]["drifted"][0]["attribution"];
    assert_eq!(who["via"], "warden-api", "{answer}");
    assert_eq!(who["decision_id"], decided["decision_id"]);
    assert_eq!(who["actor"], "alice");
    // The text form is the server's report, with the attribution.
    let o = warden_in(
        dir,
        Some(&alice),
        &[
            "drift",
            "opened.json",
            "--server",
            &url,
            "--space",
            "dev",
            "--target",
            "manual",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("WD-DRIFT-001") && text.contains("by alice"),
        "{text}"
    );
    // Without a token: an error, exit 1.
    let o = warden_in(
        dir,
        None,
        &[
            "drift",
            "opened.json",
            "--server",
            &url,
            "--space",
            "dev",
            "--target",
            "manual",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("WARDEN_TOKEN"));

    stop(child);
}
