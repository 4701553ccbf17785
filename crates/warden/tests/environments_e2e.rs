//! The environments walk-through against the real binary and the fake runner
//! (`examples/environments/fake-runner.sh`): publish a blueprint; an agent launches in an
//! unapproved region (deny with the reason), fixes the region (allow, outputs recorded),
//! exceeds the space's budget (deny); an extension beyond the maximum needs approval and is
//! applied once approved; a short environment is announced to the webhook and torn down —
//! across a server restart —; a teardown that keeps failing is retried, flagged, and torn
//! down on an operator's request. A running environment is scanned for drift as target
//! `env-<id>`: drift opened by hand opens an event, resolved when put back or at teardown.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::server::warden_in;
use serde_json::Value;

const ADMIN: &str = "wdn_env_e2e_admin_secret_0123456789";
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/environments");

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn token(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--space", "dev"];
    all.extend_from_slice(args);
    common::server::create_token(dir, ADMIN, &all)
}

fn serve(dir: &Path) -> (Child, String) {
    common::server::serve(dir, ADMIN, &[])
}

/// Stops the server within 20 s (its exit status is not checked here).
fn stop(mut child: Child) {
    if common::server::terminate(&mut child, Duration::from_secs(20)).is_none() {
        unreachable!("serve did not stop on SIGTERM");
    }
}

fn get(addr: &str, path: &str, token: &str) -> Value {
    common::server::http(addr, "GET", path, Some(token), "").1
}

/// Waits (up to 30 s) until environment `id` satisfies `done`; returns it.
fn wait_for(addr: &str, token: &str, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    common::server::poll(
        Duration::from_secs(30),
        &format!("environment {id} {what}"),
        || get(addr, &format!("/v1/environments/{id}"), token),
        done,
    )
}

/// A webhook receiver: every POST body it gets.
fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| unreachable!("{e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| unreachable!("{e}"))
        .to_string();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            if let Ok(v) = serde_json::from_slice(&body) {
                keep.lock().unwrap_or_else(|e| e.into_inner()).push(v);
            }
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    (addr, got)
}

fn launch(dir: &Path, server: &str, token: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "env", "launch", "sandbox", "--space", "dev", "--json", "--server", server,
    ];
    args.extend_from_slice(extra);
    let o = warden_in(dir, Some(token), &args);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| unreachable!("launch answer not JSON ({e}): {}", text(&o)));
    (o.status.code().unwrap_or(-1), v)
}

fn rule_ids(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule_id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn environments_walk_through() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path();
    let copy = |from: &str, to: &str| {
        std::fs::copy(Path::new(EXAMPLE).join(from), dir.join(to))
            .unwrap_or_else(|e| unreachable!("copy {from}: {e}"));
    };
    std::fs::create_dir_all(dir.join("examples/environments/sandbox"))
        .unwrap_or_else(|e| unreachable!("{e}"));
    copy("fake-runner.sh", "fake-runner.sh");
    copy("sandbox.yaml", "sandbox.yaml");
    for f in ["plan-template.json", "main.tf"] {
        copy(
            &format!("sandbox/{f}"),
            &format!("examples/environments/sandbox/{f}"),
        );
    }
    let (hook, notices) = webhook();
    std::fs::write(
        dir.join("warden.toml"),
        format!(
            "[rules.WD-GOV-001]\nallowed = {{ aws = [\"eu-west-1\", \"eu-central-1\"] }}\n\
             [environments]\nrunner = [\"./fake-runner.sh\"]\nworkdir = \"work\"\n\
             notify-url = \"http://{hook}/hooks/warden\"\nnotify-before-minutes = 30\n\
             reconcile-interval-seconds = 1\nteardown-max-attempts = 2\n\
             [spaces.dev.environments]\nbudget-monthly = 300.0\n"
        ),
    )
    .unwrap_or_else(|e| unreachable!("{e}"));

    let (child, addr) = serve(dir);
    let server = format!("http://{addr}");
    let o = warden_in(
        dir,
        Some(ADMIN),
        &["blueprint", "publish", "sandbox.yaml", "--server", &server],
    );
    assert!(
        o.status.success() && text(&o).contains("sandbox version 1"),
        "{}",
        text(&o)
    );
    let agent = token(
        dir,
        &[
            "--role",
            "requester",
            "--name",
            "agent",
            "--principal",
            "claude",
            "--kind",
            "agent",
        ],
    );
    let approver = token(
        dir,
        &[
            "--role",
            "approver",
            "--name",
            "carol",
            "--principal",
            "carol",
        ],
    );

    // An unapproved region: denied with the reason, nothing applied.
    let (code, v) = launch(dir, &server, &agent, &["--input", "region=us-east-2"]);
    assert_eq!((code, v["outcome"].as_str()), (1, Some("deny")), "{v:#}");
    assert!(rule_ids(&v).contains(&"WD-GOV-001".to_owned()), "{v:#}");
    assert_eq!(v["environment"]["state"], "denied");
    assert!(v["retry"]["change"].is_array(), "{v:#}");

    // The region fixed: allowed, applied, outputs recorded.
    let (code, v) = launch(dir, &server, &agent, &["--input", "region=eu-west-1"]);
    assert_eq!((code, v["outcome"].as_str()), (0, Some("allow")), "{v:#}");
    let kept = v["environment"]["id"].as_i64().unwrap_or_default();
    assert_eq!(v["environment"]["state"], "active");
    assert_eq!(
        v["environment"]["outputs"]["url"],
        "https://sandbox.eu-west-1.example.com"
    );

    // Over the space's budget: denied, naming the budget and the headroom.
    let (code, v) = launch(
        dir,
        &server,
        &agent,
        &["--input", "instance_type=m5.4xlarge"],
    );
    assert_eq!(code, 1, "{v:#}");
    let budget = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule_id"] == "WD-ENV-005")
        .unwrap_or_else(|| unreachable!("no WD-ENV-005: {v:#}"));
    let message = budget["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`budget-monthly` is $300.00") && message.contains("headroom"),
        "{message}"
    );

    // Beyond the blueprint's maximum: approval; once approved the loop moves the end.
    let o = warden_in(
        dir,
        Some(&agent),
        &[
            "env",
            "extend",
            &kept.to_string(),
            "--by",
            "80h",
            "--json",
            "--server",
            &server,
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert!(rule_ids(&v).contains(&"WD-ENV-002".to_owned()), "{v:#}");
    let approval = v["approval"]["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{v:#}"));
    let before = v["environment"]["ends_at"].clone();
    let o = warden_in(
        dir,
        Some(&agent),
        &["approvals", "approve", &approval.to_string()],
    );
    assert!(!o.status.success(), "an agent approved: {}", text(&o));
    let o = warden_in(
        dir,
        Some(&approver),
        &["approvals", "approve", &approval.to_string()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let env = wait_for(&addr, ADMIN, kept, "extended", |e| {
        e["ends_at"] != before && e["pending_ends_at"].is_null()
    });
    assert_eq!(env["state"], "active");

    // A short environment, the server restarted while it runs: the loop resumes, the
    // webhook hears of it, it is torn down.
    let (code, v) = launch(dir, &server, &agent, &["--duration", "2s"]);
    assert_eq!(code, 0, "{v:#}");
    let short = v["environment"]["id"].as_i64().unwrap_or_default();
    stop(child);
    std::thread::sleep(Duration::from_secs(2));
    let (child, addr) = serve(dir);
    let server = format!("http://{addr}");
    let env = wait_for(&addr, ADMIN, short, "terminated", |e| {
        e["state"] == "terminated"
    });
    let kinds: Vec<&str> = env["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"expired") && kinds.contains(&"terminated"),
        "{kinds:?}"
    );
    let heard = notices.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        heard
            .iter()
            .any(|n| n["environment"] == short && n["event"] == "environment.expiring"),
        "{heard:?}"
    );

    // A teardown that keeps failing: retried, then flagged; an operator's terminate retries.
    let (code, v) = launch(dir, &server, &agent, &["--duration", "2s"]);
    assert_eq!(code, 0, "{v:#}");
    let stuck = v["environment"]["id"].as_i64().unwrap_or_default();
    std::fs::write(dir.join(format!("work/{stuck}/FAIL_DESTROY")), "")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let env = wait_for(&addr, ADMIN, stuck, "flagged", |e| {
        e["state"] == "teardown_failed"
    });
    assert_eq!(env["teardown_attempts"], 2, "{env:#}");
    assert!(
        env["flagged_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("destroy failed"),
        "{env:#}"
    );
    let listed = get(&addr, "/v1/environments?state=teardown_failed", ADMIN);
    assert_eq!(listed["environments"].as_array().map(Vec::len), Some(1));
    let metrics = metrics(&addr);
    assert!(
        metrics.contains("warden_environments{state=\"teardown_failed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("warden_environment_teardown_attempts_total{result=\"failed\"} 2"),
        "{metrics}"
    );
    std::fs::remove_file(dir.join(format!("work/{stuck}/FAIL_DESTROY")))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let o = warden_in(
        dir,
        Some(&agent),
        &["env", "terminate", &stuck.to_string(), "--server", &server],
    );
    assert!(
        o.status.success() && text(&o).contains("terminated"),
        "{}",
        text(&o)
    );

    stop(child);
    let o = warden_in(dir, Some(ADMIN), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
}

/// All drift events of `target`, newest first.
fn drift_of(addr: &str, target: &str) -> Vec<Value> {
    get(addr, &format!("/v1/drift?target={target}"), ADMIN)["drift"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits (up to 30 s) until the drift events of `target` satisfy `done`; returns them.
fn wait_for_drift(
    addr: &str,
    target: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    common::server::poll(
        Duration::from_secs(30),
        &format!("the drift of {target} {what}"),
        || drift_of(addr, target),
        |events| done(events),
    )
}

fn metrics(addr: &str) -> String {
    common::server::request(addr, "GET", "/metrics", None, "").1
}

/// A running environment is a drift target `env-<id>`: someone opens its security group to
/// the internet by hand, the `[drift]` loop's scan through the runner opens an out-of-band
/// event; put back, the event resolves; drifted again and terminated, the teardown resolves
/// it (a terminated environment cannot drift).
#[test]
fn running_environments_are_scanned_for_drift() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("sandbox")).unwrap_or_else(|e| unreachable!("{e}"));
    for f in [
        "fake-runner.sh",
        "sandbox/plan-template.json",
        "sandbox/main.tf",
    ] {
        std::fs::copy(Path::new(EXAMPLE).join(f), dir.join(f))
            .unwrap_or_else(|e| unreachable!("copy {f}: {e}"));
    }
    let blueprint = std::fs::read_to_string(Path::new(EXAMPLE).join("sandbox.yaml"))
        .unwrap_or_else(|e| unreachable!("{e}"))
        .replace("examples/environments/sandbox", "sandbox");
    std::fs::write(dir.join("sandbox.yaml"), blueprint).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(
        dir.join("warden.toml"),
        "[environments]\nrunner = [\"./fake-runner.sh\"]\nworkdir = \"work\"\n\
         reconcile-interval-seconds = 1\n[drift]\ninterval-minutes = 0.02\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));

    let (child, addr) = serve(dir);
    let server = format!("http://{addr}");
    let o = warden_in(
        dir,
        Some(ADMIN),
        &["blueprint", "publish", "sandbox.yaml", "--server", &server],
    );
    assert!(o.status.success(), "{}", text(&o));
    let alice = token(
        dir,
        &[
            "--role",
            "requester",
            "--name",
            "alice",
            "--principal",
            "alice",
        ],
    );
    let (code, v) = launch(dir, &server, &alice, &[]);
    assert_eq!(code, 0, "{v:#}");
    let id = v["environment"]["id"].as_i64().unwrap_or_default();
    let target = format!("env-{id}");

    // Scanned while clean: no event.
    std::thread::sleep(Duration::from_secs(2));
    assert!(drift_of(&addr, &target).is_empty());

    // Opened to the internet by hand: an event on the environment's target, out of band.
    let marker = dir.join(format!("work/{id}/DRIFTED"));
    std::fs::write(&marker, "").unwrap_or_else(|e| unreachable!("{e}"));
    let events = wait_for_drift(&addr, &target, "opened", |e| {
        e.iter().any(|e| e["state"] == "open")
    });
    let event = &events[0];
    assert_eq!(
        (
            event["space"].as_str(),
            event["address"].as_str(),
            event["attribution"]["via"].as_str(),
            event["severity"].as_str()
        ),
        (
            Some("dev"),
            Some("aws_security_group.web"),
            Some("out-of-band"),
            Some("critical")
        ),
        "{event:#}"
    );
    assert!(
        event["introduced"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["rule_id"] == "WD-AWS-007"),
        "{event:#}"
    );
    let m = metrics(&addr);
    assert!(m.contains("warden_drift_open{space=\"dev\"} 1"), "{m}");
    assert!(
        m.contains("warden_drift_scans_total{space=\"dev\",result=\"drift\"}"),
        "{m}"
    );

    // Put back: the next scan resolves it.
    std::fs::remove_file(&marker).unwrap_or_else(|e| unreachable!("{e}"));
    wait_for_drift(&addr, &target, "resolved", |e| {
        !e.is_empty() && e.iter().all(|e| e["state"] == "resolved")
    });
    let m = metrics(&addr);
    assert!(m.contains("warden_drift_open{space=\"dev\"} 0"), "{m}");
    assert!(
        m.contains("warden_drift_time_to_remediation_seconds_count 1"),
        "{m}"
    );

    // Drifted again, then terminated: the teardown closes the open event.
    std::fs::write(&marker, "").unwrap_or_else(|e| unreachable!("{e}"));
    wait_for_drift(&addr, &target, "reopened", |e| {
        e.iter().any(|e| e["state"] == "open")
    });
    let o = warden_in(
        dir,
        Some(&alice),
        &["env", "terminate", &id.to_string(), "--server", &server],
    );
    assert!(o.status.success(), "{}", text(&o));
    let events = drift_of(&addr, &target);
    assert!(
        events.len() == 2 && events.iter().all(|e| e["state"] == "resolved"),
        "{events:#?}"
    );
    let m = metrics(&addr);
    assert!(m.contains("warden_drift_open{space=\"dev\"} 0"), "{m}");

    stop(child);
    let o = warden_in(dir, Some(ADMIN), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
}
