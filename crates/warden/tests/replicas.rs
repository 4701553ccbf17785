//! Two real `warden serve` replicas on one PostgreSQL database behave as one: tokens made
//! through the database work on both, two approvers racing through the two replicas grant an
//! approval once, the approved change is allowed on either, a policy change reaches both, and
//! the audit log is one intact chain.
//!
//! Needs `WARDEN_TEST_POSTGRES_URL` (a database is created from it and dropped after);
//! without it the test says it is skipped and passes.

#![allow(clippy::panic, reason = "tests: a failed step is a failed test")]

mod common;

use std::path::Path;
use std::process::{Child, Output};

use common::server::{http, listening, revision, stop, wait_for_new_revision};
use common::{stderr, stdout};
use serde_json::Value;
use sqlx::Connection as _;

const URL_ENV: &str = "WARDEN_TEST_POSTGRES_URL";
const ADMIN: &str = "wdn_replicas_admin_secret_0123456789";
const PLAN: &str = include_str!("../../../examples/terraform/compliant/plan.json");
const APPROVAL_CONFIG: &str =
    "[rules.required-tags-missing]\nenforcement = \"require_approval\"\ntags = { Team = '.+' }\n";
const DENY_CONFIG: &str =
    "[rules.required-tags-missing]\nenforcement = \"deny\"\ntags = { Team = '.+' }\n";

/// A database made for this test, dropped (with its connections) when this is dropped.
struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    fn create() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(URL_ENV) else {
            eprintln!("skipped: {URL_ENV} is not set");
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("warden_replicas_{}_{nanos}", std::process::id());
        sql(&admin_url, &format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("{URL_ENV} is set but PostgreSQL is unreachable: {e}"));
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
        let _ = sql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement on the database at `url`.
fn sql(url: &str, statement: &str) -> Result<(), sqlx::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(sqlx::Error::Io)?;
    rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::raw_sql(statement).execute(&mut conn).await?;
        conn.close().await
    })
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url[start..].find('?') {
        Some(q) => url.split_at(start + q),
        None => (url, ""),
    };
    let host_end = base[start..].find('/').map_or(base.len(), |i| start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

fn warden(dir: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = common::server::command(dir, token, args);
    cmd.env_remove("WARDEN_DATABASE_URL");
    common::server::run(cmd)
}

/// Starts `warden serve` on a free port with the database given by `WARDEN_DATABASE_URL`
/// (the flag is tested by the other commands).
fn spawn_serve(dir: &Path, url: &str) -> Child {
    let mut cmd = common::server::serve_command(dir, ADMIN, &["--reload-interval", "0.1"]);
    cmd.env("WARDEN_DATABASE_URL", url);
    common::server::spawn(cmd)
}

fn token(dir: &Path, url: &str, role: &str, name: &str) -> String {
    let o = warden(
        dir,
        Some(ADMIN),
        &[
            "token",
            "create",
            "--database",
            url,
            "--role",
            role,
            "--space",
            "dev",
            "--name",
            name,
        ],
    );
    common::server::token_from(&o, name)
}

#[test]
fn two_replicas_on_one_database_behave_as_one() {
    let Some(db) = TestDb::create() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dirs = [tmp.path().join("a"), tmp.path().join("b")];
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("warden.toml"), APPROVAL_CONFIG).unwrap_or_else(|e| panic!("{e}"));
    }
    // Started together: they race to migrate and to create the bootstrap admin token.
    let mut children = [
        spawn_serve(&dirs[0], &db.url),
        spawn_serve(&dirs[1], &db.url),
    ];
    let addrs = [listening(&mut children[0]), listening(&mut children[1])];
    let first = revision(&addrs[0]);
    assert_eq!(revision(&addrs[1]), first);

    let dir = &dirs[0];
    let alice = token(dir, &db.url, "requester", "alice");
    let bob = token(dir, &db.url, "approver", "bob");
    let carol = token(dir, &db.url, "approver", "carol");

    let mut approvals = Vec::new();
    for round in 0..5 {
        // The same plan with different trailing whitespace: another document, another digest.
        let plan = format!("{PLAN}{}", "\n".repeat(round + 1));
        let (s, v) = http(
            &addrs[round % 2],
            "POST",
            "/v1/evaluate?space=dev",
            Some(&alice),
            &plan,
        );
        assert_eq!(
            (s, v["outcome"].as_str()),
            (200, Some("require_approval")),
            "{v}"
        );
        let id = v["approval"]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{v}"));

        // Bob through one replica, Carol through the other, at once.
        let path = format!("/v1/approvals/{id}/approve");
        let results: Vec<(u16, Value)> = std::thread::scope(|scope| {
            let racers: Vec<_> = [(&addrs[0], &bob), (&addrs[1], &carol)]
                .into_iter()
                .map(|(addr, who)| {
                    let path = &path;
                    scope.spawn(move || http(addr, "POST", path, Some(who), ""))
                })
                .collect();
            racers
                .into_iter()
                .map(|r| r.join().unwrap_or_else(|_| panic!("racer panicked")))
                .collect()
        });
        let granted: Vec<_> = results.iter().filter(|(s, _)| *s == 200).collect();
        assert_eq!(granted.len(), 1, "round {round}: {results:?}");
        assert_eq!(granted[0].1["state"], "approved", "{results:?}");
        let refused: Vec<u16> = results
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| *s != 200)
            .collect();
        assert_eq!(refused, vec![409], "round {round}: {results:?}");

        // The approved change is allowed through either replica.
        for addr in &addrs {
            let (s, v) = http(addr, "POST", "/v1/evaluate?space=dev", Some(&alice), &plan);
            assert_eq!((s, v["outcome"].as_str()), (200, Some("allow")), "{v}");
            assert_eq!(v["approved_by"]["id"].as_i64(), Some(id), "{v}");
        }
        approvals.push(id);
    }

    // A policy change reaches each replica through its own configuration files.
    for dir in &dirs {
        let next = dir.join("warden.toml.next");
        std::fs::write(&next, DENY_CONFIG).unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&next, dir.join("warden.toml")).unwrap_or_else(|e| panic!("{e}"));
    }
    let second = wait_for_new_revision(&addrs[0], &first);
    assert_eq!(wait_for_new_revision(&addrs[1], &first), second);
    for addr in &addrs {
        let (_, v) = http(addr, "POST", "/v1/evaluate?space=dev", Some(&alice), PLAN);
        assert_eq!(v["outcome"], "deny", "{v}");
    }
    let [a, b] = children;
    stop(a);
    stop(b);

    // One chain, intact, through `--database`.
    let o = warden(dir, None, &["audit", "verify", "--database", &db.url]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("intact"), "{}", stdout(&o));
    let o = warden(
        dir,
        None,
        &[
            "audit",
            "export",
            "--database",
            &db.url,
            "--format",
            "jsonl",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let records: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"].as_u64(), Some(i as u64 + 1), "{r}");
    }
    for id in approvals {
        let subject = format!("approval/{id}");
        let count = |action: &str| {
            records
                .iter()
                .filter(|r| r["action"] == action && r["subject"] == subject.as_str())
                .count()
        };
        assert_eq!(
            (count("approval.approved"), count("approval.vote")),
            (1, 1),
            "{subject}"
        );
    }
    // Each replica recorded the revision it started with and the one it reloaded.
    let loaded: Vec<(Value, Value)> = records
        .iter()
        .filter(|r| r["action"] == "policy.loaded")
        .map(|r| {
            (
                r["detail"]["previous"].clone(),
                r["detail"]["revision"].clone(),
            )
        })
        .collect();
    let started = (Value::Null, Value::from(first.clone()));
    let reloaded = (Value::from(first), Value::from(second));
    assert_eq!(
        loaded.iter().filter(|l| **l == started).count(),
        2,
        "{loaded:?}"
    );
    assert_eq!(
        loaded.iter().filter(|l| **l == reloaded).count(),
        2,
        "{loaded:?}"
    );
    let admins = records
        .iter()
        .filter(|r| r["action"] == "token.created" && r["detail"]["name"] == "bootstrap-admin")
        .count();
    assert_eq!(admins, 1, "one bootstrap admin token");
}
