//! The PostgreSQL store: the conformance suite, two stores ("replicas") on one database racing
//! each other, migrations under the advisory lock, tampering.
//!
//! Each test makes its own database from `WARDEN_TEST_POSTGRES_URL` and drops it after. Unset:
//! the tests say they are skipped and pass; set but unreachable: they fail.

use std::sync::Arc;

use serde_json::json;
use sqlx::Connection as _;
use warden_store::{
    Actor, ApprovalState, AuditEvent, Break, NewApproval, OpenOptions, PostgresStore, Store,
    StoreError,
};

use crate::conformance::{self, alice, bob, carol, space, ManualClock};

/// The variable naming the PostgreSQL server the tests may create databases on.
const URL_ENV: &str = "WARDEN_TEST_POSTGRES_URL";

/// A database made for one test, dropped (with its connections) when this is dropped.
pub struct TestDb {
    admin_url: String,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl TestDb {
    /// A fresh database, or `None` (with a note on stderr) when `WARDEN_TEST_POSTGRES_URL` is
    /// unset. Panics when it is set but the server cannot be reached.
    pub async fn create(label: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(URL_ENV) else {
            eprintln!("skipped: {URL_ENV} is not set");
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("warden_{label}_{}_{nanos}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{URL_ENV} is set but PostgreSQL is unreachable: {e}"));
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let url = with_database(&admin_url, &name);
        Some(TestDb {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop has no runtime of its own to await in: a thread with one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                    let _ =
                        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url[start..].find('?') {
        Some(q) => url.split_at(start + q),
        None => (url, ""),
    };
    let host_end = base[start..].find('/').map_or(base.len(), |i| start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

async fn connect(url: &str, clock: &ManualClock) -> PostgresStore {
    PostgresStore::connect(
        url,
        OpenOptions {
            clock: clock.clock(),
            ..OpenOptions::default()
        },
    )
    .await
    .unwrap()
}

#[test]
fn database_names_replace_the_url_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}

#[tokio::test]
async fn conformance_suite() {
    let Some(db) = TestDb::create("conformance").await else {
        return;
    };
    let clock = ManualClock::new();
    let store = connect(&db.url, &clock).await;
    conformance::run(&store, &clock).await;
    store.close().await;
}

#[tokio::test]
async fn bad_urls_are_refused_without_echoing_them() {
    let e = PostgresStore::connect("mysql://u:hunter2@h/db", OpenOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

/// Two replicas start at once on an empty database: one migrates, the other waits for the
/// advisory lock and finds the schema applied; a third start changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    let Some(db) = TestDb::create("migrate").await else {
        return;
    };
    let clock = ManualClock::new();
    let (a, b) = tokio::join!(connect(&db.url, &clock), connect(&db.url, &clock));
    let c = connect(&db.url, &clock).await;
    let applied: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, name FROM warden_migrations ORDER BY version")
            .fetch_all(c.raw_pool())
            .await
            .unwrap();
    assert_eq!(
        applied,
        vec![
            (1, "0001_init".to_owned()),
            (2, "0002_agents".to_owned()),
            (3, "0003_environments".to_owned()),
            (4, "0004_drift".to_owned()),
            (5, "0005_ui".to_owned())
        ],
        "each migration once"
    );
    for s in [a, b, c] {
        s.close().await;
    }
}

/// Two stores on one database (two pools: two replicas) race: each of 20 requests needing
/// one approval is approved through both at once by two approvers — granted exactly once,
/// the other gets a conflict —, while both append audit events concurrently. One chain,
/// intact, every sequence number once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_race_approvals_and_appends() {
    let Some(db) = TestDb::create("race").await else {
        return;
    };
    let clock = ManualClock::new();
    let a = Arc::new(connect(&db.url, &clock).await);
    let b = Arc::new(connect(&db.url, &clock).await);
    a.put_space(&Actor::system(), &space("prod", 1))
        .await
        .unwrap();

    // Background appends from both replicas for the whole race.
    let mut appenders = Vec::new();
    for (r, store) in [a.clone(), b.clone()].into_iter().enumerate() {
        appenders.push(tokio::spawn(async move {
            for i in 0..40 {
                store
                    .append_audit(
                        &Actor::system(),
                        &AuditEvent::new("test.event", format!("r{r}/{i}"), None, json!({})),
                    )
                    .await
                    .unwrap();
            }
        }));
    }

    let mut granted = Vec::new();
    for round in 0..20 {
        let request = a
            .open_approval(
                &alice(),
                &NewApproval {
                    space: "prod".into(),
                    subject: format!("stack/{round}"),
                    change_digest: format!("sha256:change-{round}"),
                    decision_id: None,
                },
            )
            .await
            .unwrap();
        let (ra, rb) = (a.clone(), b.clone());
        let id = request.id;
        let (x, y) = tokio::join!(
            tokio::spawn(async move { ra.approve(&bob(), id, None).await }),
            tokio::spawn(async move { rb.approve(&carol(), id, None).await }),
        );
        let results = [x.unwrap(), y.unwrap()];
        let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 1, "round {round}: {results:?}");
        assert_eq!(ok[0].state, ApprovalState::Approved);
        assert_eq!(ok[0].approvers.len(), 1, "round {round}: {:?}", ok[0]);
        for r in &results {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::Conflict(_)), "round {round}: {e}");
            }
        }
        // Both replicas read the same outcome.
        for s in [&a, &b] {
            let seen = s.approval(id).await.unwrap().unwrap();
            assert_eq!(seen.state, ApprovalState::Approved);
            assert_eq!(seen.approvers, ok[0].approvers);
        }
        granted.push(id);
    }
    for t in appenders {
        t.await.unwrap();
    }

    for s in [&a, &b] {
        let v = s.verify_audit().await.unwrap();
        assert!(v.is_intact(), "{v:?}");
    }
    let records = b.audit_records(0, 100_000).await.unwrap();
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    let expected: Vec<i64> = (1..=i64::try_from(records.len()).unwrap()).collect();
    assert_eq!(seqs, expected, "one chain, no gaps, no duplicates");
    for pair in records.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash, "record {}", pair[1].seq);
    }
    let events = records.iter().filter(|r| r.action == "test.event").count();
    assert_eq!(events, 80);
    for id in granted {
        let subject = format!("approval/{id}");
        let approved = records
            .iter()
            .filter(|r| r.action == "approval.approved" && r.subject == subject)
            .count();
        let votes = records
            .iter()
            .filter(|r| r.action == "approval.vote" && r.subject == subject)
            .count();
        assert_eq!((approved, votes), (1, 1), "{subject}");
    }
    a.close().await;
    b.close().await;
}

/// Two replicas open an approval for the same change at once: one request, returned to both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_openings_of_one_change_make_one_request() {
    let Some(db) = TestDb::create("open").await else {
        return;
    };
    let clock = ManualClock::new();
    let a = Arc::new(connect(&db.url, &clock).await);
    let b = Arc::new(connect(&db.url, &clock).await);
    a.put_space(&Actor::system(), &space("prod", 1))
        .await
        .unwrap();
    for round in 0..10 {
        let request = NewApproval {
            space: "prod".into(),
            subject: "stack/web".into(),
            change_digest: format!("sha256:web-{round}"),
            decision_id: None,
        };
        let (ra, rb, r2) = (a.clone(), b.clone(), request.clone());
        let (x, y) = tokio::join!(
            tokio::spawn(async move { ra.open_approval(&alice(), &request).await }),
            tokio::spawn(async move { rb.open_approval(&alice(), &r2).await }),
        );
        let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
        assert_eq!(x.id, y.id, "round {round}");
    }
    let pending = a
        .approvals(&warden_store::ApprovalFilter {
            space: Some("prod".into()),
            state: Some(ApprovalState::Pending),
        })
        .await
        .unwrap();
    assert_eq!(
        pending.len(),
        1,
        "each opening supersedes the previous change's"
    );
    assert!(a.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn tamper_edit_is_named() {
    let Some(db) = TestDb::create("tamper").await else {
        return;
    };
    let store = connect(&db.url, &ManualClock::new()).await;
    for i in 0..5 {
        store
            .append_audit(
                &Actor::system(),
                &AuditEvent::new("test.event", format!("e/{i}"), None, json!({"i": i})),
            )
            .await
            .unwrap();
    }
    assert!(store.verify_audit().await.unwrap().is_intact());
    sqlx::raw_sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .execute(store.raw_pool())
        .await
        .unwrap();
    let v = store.verify_audit().await.unwrap();
    let broken = v.broken.unwrap();
    assert_eq!(broken.seq, 3);
    assert!(matches!(broken.reason, Break::Edited { .. }), "{broken}");
    store.close().await;
}
