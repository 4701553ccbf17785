//! The walk-through against the real binary: `warden serve`, tokens, evaluate →
//! require_approval, an agent and the requester refused, another principal approves, the
//! same change → allow; graceful stop; the audit chain verifies and tampered copies do not.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use common::server::{http, revision, stop, wait_for_new_revision, warden_in};
use common::{stderr, stdout};
use serde_json::Value;

const ADMIN: &str = "wdn_e2e_admin_secret_0123456789";
const PLAN: &str = include_str!("../../../examples/terraform/compliant/plan.json");

fn token(dir: &Path, role: &str, name: &str) -> String {
    common::server::token(dir, ADMIN, role, name)
}

/// Starts `warden serve` on a free port; returns the child and the address.
fn serve(dir: &Path) -> (Child, String) {
    serve_with(dir, &[])
}

/// [`serve`] with more arguments.
fn serve_with(dir: &Path, extra: &[&str]) -> (Child, String) {
    common::server::serve(dir, ADMIN, extra)
}

#[test]
fn walk_through_serve_approve_allow_and_audit() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path();
    std::fs::write(
        dir.join("warden.toml"),
        "[rules.required-tags-missing]\nenforcement = \"require_approval\"\ntags = { Team = '.+' }\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let (child, addr) = serve(dir);

    let (s, v) = http(&addr, "GET", "/healthz", None, "");
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    let alice = token(dir, "requester", "alice");
    let bob = token(dir, "approver", "bob");
    let agent = token(dir, "agent,approver", "claude-infra");

    let (s, v) = http(&addr, "POST", "/v1/evaluate?space=dev", None, PLAN);
    assert_eq!(s, 401, "{v}");
    let (s, v) = http(&addr, "POST", "/v1/evaluate?space=dev", Some(&agent), PLAN);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "require_approval");
    let id = v["approval"]["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{v}"))
        .to_string();

    let o = warden_in(dir, Some(&agent), &["approvals", "approve", &id]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("agents never approve"),
        "{}",
        stderr(&o)
    );
    let (s, _) = http(
        &addr,
        "POST",
        &format!("/v1/approvals/{id}/approve"),
        Some(&agent),
        "",
    );
    assert_eq!(s, 403);
    let o = warden_in(dir, Some(&alice), &["approvals", "approve", &id]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("approver role"), "{}", stderr(&o));

    let o = warden_in(
        dir,
        Some(&bob),
        &["approvals", "list", "--state", "pending"],
    );
    assert!(stdout(&o).contains("claude-infra"), "{}", stdout(&o));
    let o = warden_in(
        dir,
        Some(&bob),
        &["approvals", "approve", &id, "--note", "Team tag follows"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("approved"), "{}", stdout(&o));

    let (s, polled) = http(
        &addr,
        "GET",
        &format!("/v1/approvals/{id}"),
        Some(&agent),
        "",
    );
    assert_eq!((s, polled["state"].as_str()), (200, Some("approved")));
    let (s, v) = http(&addr, "POST", "/v1/evaluate?space=dev", Some(&agent), PLAN);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "allow");
    assert_eq!(v["approved_by"]["id"].to_string(), id);
    let last_decision = v["decision_id"].as_i64();
    stop(child);

    // Every acknowledged decision is stored and the chain verifies.
    let o = warden_in(dir, None, &["audit", "verify", "--data", "warden-data"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("intact"), "{}", stdout(&o));
    let o = warden_in(
        dir,
        None,
        &[
            "audit",
            "export",
            "--since",
            "2026-01-01",
            "--format",
            "jsonl",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let export = stdout(&o);
    let records: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| unreachable!("{e}: {l}")))
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "approval.vote" && r["actor"] == "bob"),
        "{export}"
    );
    let decisions = records
        .iter()
        .filter(|r| {
            r["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("decision"))
        })
        .count();
    assert_eq!(Some(decisions as i64), last_decision, "{export}");

    // A tampered export does not verify, and names the record.
    let tampered = export.replacen("\"bob\"", "\"mallory\"", 1);
    assert_ne!(tampered, export);
    std::fs::write(dir.join("tampered.jsonl"), tampered).unwrap_or_else(|e| unreachable!("{e}"));
    let o = warden_in(dir, None, &["audit", "verify", "--jsonl", "tampered.jsonl"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("BROKEN at audit record"),
        "{}",
        stdout(&o)
    );

    // A tampered copy of the database does not verify either.
    copy_dir(&dir.join("warden-data"), &dir.join("copy"));
    tamper(&dir.join("copy"));
    let o = warden_in(dir, None, &["audit", "verify", "--data", "copy"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("audit record 2 "), "{}", stdout(&o));
    let o = warden_in(dir, None, &["audit", "verify", "--data", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| unreachable!("{e}"));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .flatten()
    {
        std::fs::copy(entry.path(), to.join(entry.file_name()))
            .unwrap_or_else(|e| unreachable!("{e}"));
    }
}

fn tamper(data: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"));
    rt.block_on(async {
        let store = warden_store::SqliteStore::open_dir(data, warden_store::OpenOptions::default())
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
            .execute(store.raw_pool())
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        store.close().await;
    });
}

/// An evaluation that reports a failed connection or a cut response instead of panicking.
fn try_http(addr: &str, token: &str, body: &str) -> Option<(u16, Value)> {
    let (status, body) =
        common::server::try_request(addr, "POST", "/v1/evaluate?space=dev", Some(token), body)
            .ok()?;
    Some((status, serde_json::from_str(&body).ok()?))
}

#[test]
fn kill_9_loses_no_acknowledged_decision_and_keeps_the_chain() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path().to_path_buf();
    let (mut child, addr) = serve(&dir);
    let alice = token(&dir, "requester", "alice");
    let insecure = include_str!("../../../examples/terraform/insecure-web-app/plan.json");

    // Four clients fire evaluations until the server dies; each keeps the ids it was given.
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let (addr, alice) = (addr.clone(), alice.clone());
            let plan = if i % 2 == 0 { PLAN } else { insecure };
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                while let Some((status, v)) = try_http(&addr, &alice, plan) {
                    assert_eq!(status, 200, "{v}");
                    acked.push(
                        v["decision_id"]
                            .as_i64()
                            .unwrap_or_else(|| unreachable!("{v}")),
                    );
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    child
        .kill()
        .unwrap_or_else(|e| unreachable!("kill -9: {e}")); // SIGKILL
    let _ = child.wait();
    let acked: Vec<i64> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_else(|_| unreachable!("worker panicked")))
        .collect();
    assert!(
        acked.len() >= 4,
        "too few requests answered before the kill: {acked:?}"
    );

    // Restart on the same data: it opens, serves, and stops cleanly.
    let (child, addr) = serve(&dir);
    let (s, _) = http(&addr, "GET", "/readyz", None, "");
    assert_eq!(s, 200);
    stop(child);

    let o = warden_in(&dir, None, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = warden_in(&dir, None, &["audit", "export"]);
    let recorded: std::collections::HashSet<String> = stdout(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["action"] == "decision.recorded")
        .filter_map(|r| r["subject"].as_str().map(str::to_owned))
        .collect();
    for id in &acked {
        assert!(
            recorded.contains(&format!("decision/{id}")),
            "acknowledged decision {id} lost"
        );
    }
}

/// Writes `text` beside `path` and renames it over `path`: readers see the old file or the new
/// one, never a truncated one.
fn replace_file(path: &std::path::Path, text: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, text).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::rename(&next, path).unwrap_or_else(|e| unreachable!("{e}"));
}

#[test]
fn policy_files_are_reloaded_while_serving_and_a_broken_one_is_not() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path();
    let config = dir.join("warden.toml");
    std::fs::write(&config, "").unwrap_or_else(|e| unreachable!("{e}"));
    let (child, addr) = serve_with(dir, &["--reload-interval", "0.1", "--log-format", "json"]);
    let alice = token(dir, "requester", "alice");
    let evaluate = || http(&addr, "POST", "/v1/evaluate?space=dev", Some(&alice), PLAN).1;
    assert_eq!(evaluate()["outcome"], "allow");
    let first = revision(&addr);

    // Written while serving: picked up by the file watch. Replaced whole (as editors and
    // configuration tools do), so a poll never reads a half-written file.
    replace_file(
        &config,
        "[rules.required-tags-missing]\nenforcement = \"require_approval\"\ntags = { Team = '.+' }\n",
    );
    let second = wait_for_new_revision(&addr, &first);
    let v = evaluate();
    assert_eq!(v["outcome"], "require_approval", "{v}");

    // A broken file is refused (logged), and SIGHUP forces a retry: the second stays.
    replace_file(&config, "bogus = 1\n");
    let _ = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(revision(&addr), second);
    assert_eq!(evaluate()["outcome"], "require_approval");
    stop(child);

    // Each revision in force is in the audit log, and the chain verifies.
    let o = warden_in(dir, None, &["audit", "export", "--format", "jsonl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let loaded: Vec<Value> = stdout(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["action"] == "policy.loaded")
        .collect();
    assert_eq!(loaded.len(), 2, "{loaded:?}");
    assert_eq!(loaded[1]["detail"]["previous"], Value::from(first));
    assert_eq!(loaded[1]["detail"]["revision"], Value::from(second));
    let o = warden_in(dir, None, &["audit", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn tokens_are_listed_without_secrets_and_a_revoked_one_stops_working() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path();
    let (child, addr) = serve(dir);
    let alice = token(dir, "requester", "alice");
    let (s, _) = http(&addr, "POST", "/v1/evaluate?space=dev", Some(&alice), PLAN);
    assert_eq!(s, 200);

    let o = warden_in(dir, Some(ADMIN), &["token", "list", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| unreachable!("{e}"));
    let names: Vec<&str> = list
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["bootstrap-admin", "alice"], "{list}");
    assert!(!stdout(&o).contains(&alice), "a secret was listed");

    let o = warden_in(dir, Some(&alice), &["token", "revoke", "alice"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("admin role"), "{}", stderr(&o));
    let o = warden_in(dir, Some(ADMIN), &["token", "revoke", "alice"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (s, v) = http(&addr, "POST", "/v1/evaluate?space=dev", Some(&alice), PLAN);
    assert_eq!(s, 401, "{v}");
    let o = warden_in(dir, Some(ADMIN), &["token", "list"]);
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.contains("alice") && l.contains("revoked")),
        "{}",
        stdout(&o)
    );
    let (s, v) = http(&addr, "GET", "/v1/audit/verify", Some(ADMIN), "");
    assert_eq!((s, &v["intact"]), (200, &Value::Bool(true)), "{v}");
    stop(child);
}
