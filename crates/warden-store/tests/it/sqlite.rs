//! The SQLite store: the conformance suite, tampering with raw SQL, reopening, what lands on
//! disk.

use serde_json::json;
use warden_store::{
    Actor, AuditEvent, Break, NewDecision, NewInput, NewToken, OpenOptions, Role, SqliteStore,
    Store,
};

use crate::conformance::{self, ManualClock};

async fn open(dir: &std::path::Path, clock: &ManualClock) -> SqliteStore {
    SqliteStore::open_dir(
        dir,
        OpenOptions {
            clock: clock.clock(),
            ..OpenOptions::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = open(dir.path(), &clock).await;
    conformance::run(&store, &clock).await;
}

/// A store with `n` audit records (policy reload events).
async fn with_records(n: usize) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &ManualClock::new()).await;
    for i in 0..n {
        store
            .append_audit(
                &Actor::system(),
                &AuditEvent::new(
                    "policy.reloaded",
                    format!("policy/{i}"),
                    None,
                    json!({"i": i}),
                ),
            )
            .await
            .unwrap();
    }
    assert!(store.verify_audit().await.unwrap().is_intact());
    (dir, store)
}

async fn exec(store: &SqliteStore, sql: &str) {
    sqlx::raw_sql(sql).execute(store.raw_pool()).await.unwrap();
}

#[tokio::test]
async fn tamper_edit_is_named() {
    let (_dir, store) = with_records(6).await;
    exec(
        &store,
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 4",
    )
    .await;
    let v = store.verify_audit().await.unwrap();
    let b = v.broken.unwrap();
    assert_eq!(b.seq, 4);
    assert!(matches!(b.reason, Break::Edited { .. }), "{b}");
    assert_eq!(v.records, 3);

    // Editing the detail JSON is caught too, even when the hash is "fixed up" for that record:
    // the next record no longer links.
    let (_dir, store) = with_records(6).await;
    let mut r = store.audit_records(1, 1).await.unwrap().remove(0);
    r.detail = json!({"i": 99});
    let forged = r.compute_hash().unwrap();
    exec(
        &store,
        &format!("UPDATE audit_log SET detail = '{{\"i\":99}}', hash = '{forged}' WHERE seq = 2"),
    )
    .await;
    let b = store.verify_audit().await.unwrap().broken.unwrap();
    assert_eq!(b.seq, 3);
    assert!(matches!(b.reason, Break::Unlinked { .. }), "{b}");
}

#[tokio::test]
async fn tamper_delete_is_named() {
    let (_dir, store) = with_records(6).await;
    exec(&store, "DELETE FROM audit_log WHERE seq = 3").await;
    let b = store.verify_audit().await.unwrap().broken.unwrap();
    assert_eq!((b.seq, b.position), (4, 3));
    assert!(matches!(b.reason, Break::Gap { expected: 3 }), "{b}");

    // Deleting the last records leaves a chain that ends before the head.
    let (_dir, store) = with_records(6).await;
    exec(&store, "DELETE FROM audit_log WHERE seq >= 5").await;
    let b = store.verify_audit().await.unwrap().broken.unwrap();
    assert!(
        matches!(b.reason, Break::Truncated { head_seq: 6, .. }),
        "{b}"
    );

    // Deleting and renumbering the rest (so there is no gap) breaks the link.
    let (_dir, store) = with_records(6).await;
    exec(
        &store,
        "DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = seq - 1 WHERE seq > 2",
    )
    .await;
    let b = store.verify_audit().await.unwrap().broken.unwrap();
    assert_eq!(b.seq, 2);
    assert!(matches!(b.reason, Break::Unlinked { .. }), "{b}");
}

#[tokio::test]
async fn tamper_reorder_is_named() {
    let (_dir, store) = with_records(6).await;
    exec(
        &store,
        "UPDATE audit_log SET seq = -1 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 5;
         UPDATE audit_log SET seq = 5 WHERE seq = -1;",
    )
    .await;
    let b = store.verify_audit().await.unwrap().broken.unwrap();
    assert_eq!(b.position, 2);
    assert!(!matches!(b.reason, Break::Truncated { .. }), "{b}");
}

#[tokio::test]
async fn export_of_a_tampered_store_fails_offline_verification() {
    let (_dir, store) = with_records(5).await;
    exec(
        &store,
        "UPDATE audit_log SET action = 'policy.ignored' WHERE seq = 2",
    )
    .await;
    let mut out = Vec::new();
    store.export_audit(None, &mut out).await.unwrap();
    let v = warden_store::audit::verify_jsonl(&mut out.as_slice()).unwrap();
    assert_eq!(v.broken.unwrap().seq, 2);
}

#[tokio::test]
async fn reopening_keeps_everything_and_migrations_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = open(dir.path(), &clock).await;
    let secret = "wdn_secret-value-for-reopen-test";
    store
        .create_token(
            &Actor::system(),
            &NewToken {
                name: "admin".into(),
                principal: "root".into(),
                kind: warden_core::ActorKind::Human,
                roles: vec![Role::Admin],
                spaces: vec!["*".into()],
            },
            secret,
        )
        .await
        .unwrap();
    store.close().await;
    let store = open(dir.path(), &clock).await;
    assert_eq!(
        store.authenticate(secret).await.unwrap().unwrap().principal,
        "root"
    );
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_intact() && v.records == 1);
    let (migrations,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM warden_migrations")
        .fetch_one(store.raw_pool())
        .await
        .unwrap();
    assert_eq!(
        migrations, 5,
        "0001_init, 0002_agents, 0003_environments, 0004_drift and 0005_ui, once each"
    );
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(store.raw_pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_changed_migration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &ManualClock::new()).await;
    exec(
        &store,
        "UPDATE warden_migrations SET checksum = 'sha256:other' WHERE version = 1",
    )
    .await;
    store.close().await;
    let err = SqliteStore::open_dir(dir.path(), OpenOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("different contents"), "{err}");
}

#[tokio::test]
async fn secrets_never_reach_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), &ManualClock::new()).await;
    let token_secret = "wdn_TOKEN-SECRET-never-on-disk-1234";
    let plan_secret = "AKIAZZZZSECRETKEY1234";
    store
        .create_token(
            &Actor::system(),
            &NewToken {
                name: "ci".into(),
                principal: "ci".into(),
                kind: warden_core::ActorKind::Pipeline,
                roles: vec![Role::Requester],
                spaces: vec!["*".into()],
            },
            token_secret,
        )
        .await
        .unwrap();
    let d = conformance::decision("sha256:plan", warden_core::Outcome::Deny, plan_secret);
    store
        .record_decision(
            &Actor::system(),
            &NewDecision {
                decision: &d,
                text: None,
                space: None,
                inputs: vec![NewInput {
                    digest: "sha256:plan".into(),
                    kind: "terraform-plan".into(),
                    content: format!("{{\"access_key\":\"{plan_secret}\"}}").into(),
                }],
                secrets: vec![plan_secret.into()],
                exception_uses: vec![],
                approval_id: None,
                subject: None,
                attempt: None,
                cost_delta: None,
                resources: Vec::new(),
                follow_up: None,
            },
        )
        .await
        .unwrap();
    exec(&store, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    store.close().await;
    let mut bytes = std::fs::read(dir.path().join("warden.db")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("warden.db-wal")) {
        bytes.extend(wal);
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("sha256:plan"), "the file was read");
    assert!(!text.contains(token_secret));
    assert!(!text.contains(plan_secret));
}

#[tokio::test]
async fn concurrent_writers_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(open(dir.path(), &ManualClock::new()).await);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                store
                    .append_audit(
                        &Actor::system(),
                        &AuditEvent::new("test.event", format!("t{t}/{i}"), None, json!({})),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.records, 200);
}

async fn event(store: &SqliteStore, subject: String) -> warden_store::Result<()> {
    store
        .append_audit(
            &Actor::system(),
            &AuditEvent::new("test.event", subject, None, json!({})),
        )
        .await
        .map(|_| ())
}

/// A write dropped between `BEGIN IMMEDIATE` and the `Transaction` that would roll it back (a
/// client hanging up at the wrong moment) leaves the writer connection inside a transaction:
/// the store must not lend it again, or every later write fails ("attempted to call
/// begin_with at non-zero transaction depth") and the server answers 500 until restarted.
#[tokio::test]
async fn a_connection_left_inside_a_transaction_is_not_lent_again() {
    let (_dir, store) = with_records(2).await;
    {
        let mut conn = store.raw_pool().acquire().await.unwrap();
        let tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
            .await
            .unwrap();
        // What the cancelled begin leaves: no `Transaction` to roll back on drop.
        std::mem::forget(tx);
    }
    event(&store, "after".into()).await.unwrap();
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.records, 3);
}

/// Writes cancelled at every point (timeouts from 0 to 490 µs) leave a usable store and an
/// intact chain: each write landed whole or not at all.
#[tokio::test]
async fn cancelled_writes_leave_the_store_usable() {
    let (_dir, store) = with_records(1).await;
    let mut landed = 0;
    for i in 0..300_u64 {
        let wait = std::time::Duration::from_micros((i % 50) * 10);
        if let Ok(r) = tokio::time::timeout(wait, event(&store, format!("c/{i}"))).await {
            r.unwrap();
            landed += 1;
        }
    }
    event(&store, "last".into()).await.unwrap();
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    // Cancelled writes may still have committed (cancelled after COMMIT ran).
    assert!(
        v.records >= 2 + landed,
        "{} records, {landed} acknowledged",
        v.records
    );
}

/// Records a plain decision (no approval cited, no exception used): the path that opens its
/// transaction inside a multi-statement query.
async fn plain_decision(store: &SqliteStore, digest: &str) -> warden_store::Result<i64> {
    let d = conformance::decision(digest, warden_core::Outcome::Deny, "x");
    store
        .record_decision(
            &Actor::system(),
            &NewDecision {
                decision: &d,
                text: None,
                space: Some("dev".into()),
                inputs: vec![NewInput {
                    digest: digest.into(),
                    kind: "terraform-plan".into(),
                    content: format!("{{\"plan\":\"{digest}\"}}").into(),
                }],
                secrets: vec![],
                exception_uses: vec![],
                approval_id: None,
                subject: None,
                attempt: None,
                cost_delta: None,
                resources: Vec::new(),
                follow_up: None,
            },
        )
        .await
        .map(|r| r.id)
}

/// Counts rows of a table through the raw pool.
async fn count(store: &SqliteStore, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.raw_pool())
        .await
        .unwrap()
}

/// A plain decision whose audit insert fails (after the decision row went in, inside the
/// transaction) leaves nothing behind, and the next decision records normally.
#[tokio::test]
async fn a_failed_decision_write_leaves_nothing_and_the_store_usable() {
    let (_dir, store) = with_records(1).await;
    plain_decision(&store, "sha256:one").await.unwrap();
    exec(
        &store,
        "CREATE TRIGGER refuse BEFORE INSERT ON audit_log WHEN NEW.subject = 'decision/2'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .await;
    let err = plain_decision(&store, "sha256:two").await.unwrap_err();
    assert!(err.to_string().contains("refused by the test"), "{err}");
    assert_eq!(count(&store, "SELECT count(*) FROM decisions").await, 1);
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM inputs WHERE digest = 'sha256:two'"
        )
        .await,
        0
    );
    exec(&store, "DROP TRIGGER refuse").await;
    assert_eq!(plain_decision(&store, "sha256:two").await.unwrap(), 2);
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.records, 3);
}

/// Decision writes cancelled at every point leave a usable store, an intact chain, and every
/// stored decision with its `decision.recorded` record (whole or not at all).
#[tokio::test]
async fn cancelled_decision_writes_leave_the_store_usable() {
    let (_dir, store) = with_records(1).await;
    let mut landed = 0;
    for i in 0..300_u64 {
        let wait = std::time::Duration::from_micros((i % 50) * 10);
        let digest = format!("sha256:c{i}");
        if let Ok(r) = tokio::time::timeout(wait, plain_decision(&store, &digest)).await {
            r.unwrap();
            landed += 1;
        }
    }
    plain_decision(&store, "sha256:last").await.unwrap();
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    let decisions = count(&store, "SELECT count(*) FROM decisions").await;
    let recorded = count(
        &store,
        "SELECT count(*) FROM audit_log WHERE action = 'decision.recorded'",
    )
    .await;
    assert_eq!(decisions, recorded);
    assert!(
        decisions > landed,
        "{decisions} stored, {landed} acknowledged"
    );
}

/// The auditor's script from the `audit` module docs, run on a real export: it accepts the
/// export and names the record of a tampered copy. Skipped (with a note) without `python3`.
#[tokio::test]
async fn an_auditor_verifies_the_export_without_warden() {
    let docs = include_str!("../../src/audit.rs");
    let script: String = docs
        .split("```text\n")
        .find(|block| block.starts_with("//! import hashlib"))
        .and_then(|block| block.split("//! ```").next())
        .unwrap()
        .lines()
        .map(|l| {
            l.strip_prefix("//! ")
                .unwrap_or(l.trim_start_matches("//!"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (dir, store) = with_records(4).await;
    let mut out = Vec::new();
    store.export_audit(None, &mut out).await.unwrap();
    let good = dir.path().join("evidence.jsonl");
    std::fs::write(&good, &out).unwrap();
    let bad = dir.path().join("tampered.jsonl");
    let text = String::from_utf8(out)
        .unwrap()
        .replace("policy/2", "policy/X");
    std::fs::write(&bad, text).unwrap();
    let script_path = dir.path().join("verify.py");
    std::fs::write(&script_path, script).unwrap();
    let run = |file: &std::path::Path| {
        std::process::Command::new("python3")
            .arg(&script_path)
            .arg(file)
            .output()
    };
    let Ok(ok) = run(&good) else {
        eprintln!("python3 not found: auditor script not run");
        return;
    };
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "intact");
    let broken = run(&bad).unwrap();
    assert!(!broken.status.success());
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("record 3"),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );
}
