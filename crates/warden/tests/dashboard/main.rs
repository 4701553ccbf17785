//! The dashboard in a real headless browser (Debian's `chromium` through `chromedriver`)
//! against the real `warden serve`: log in, see a decision made through the API appear in
//! the live list, open it, approve it from the approvals queue, see an agent refused and a
//! forged form refused, environments launched with the fake runner and one extended from its
//! page, a drift scan's open drift, and screenshot every page into `target/screenshots/`.
//!
//! Without chromium and chromedriver the test says it was skipped; under `CI=true` their
//! absence is a failure (`.ci/run` installs them).

#[path = "../common/mod.rs"]
mod common;
mod webdriver;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use serde_json::Value;
use webdriver::Browser;

const ADMIN: &str = "wdn_dash_admin_secret_0123456789";
const COMPLIANT: &str = include_str!("../../../../examples/terraform/compliant/plan.json");
const INSECURE: &str = include_str!("../../../../examples/terraform/insecure-web-app/plan.json");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/environments");
const DRIFTED: &str = include_str!("../../../warden-server/tests/fixtures/drift/sg-opened.json");
const CLEAN: &str = include_str!("../../../warden-server/tests/fixtures/drift/clean.json");

fn token(dir: &Path, args: &[&str]) -> String {
    common::server::create_token(dir, ADMIN, args)
}

/// A running `warden serve`, stopped when dropped (also when the test fails midway).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = common::server::terminate(&mut self.0, Duration::from_secs(10));
    }
}

/// Starts `warden serve` on a free port; returns it and its address.
fn serve(dir: &Path) -> (Server, String) {
    let (child, addr) = common::server::serve(dir, ADMIN, &[]);
    (Server(child), addr)
}

/// Evaluates a plan through the API; returns the decision.
fn evaluate(addr: &str, token: &str, query: &str, body: &str) -> Value {
    post(addr, token, &format!("/v1/evaluate?{query}"), body)
}

/// A POST to the API; returns the JSON answer.
fn post(addr: &str, token: &str, path: &str, body: &str) -> Value {
    common::server::http(addr, "POST", path, Some(token), body).1
}

/// `target/screenshots/` (kept as CI artifacts).
fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| unreachable!("{}: {e}", dir.display()));
    dir
}

fn login(b: &Browser, base: &str, secret: &str) {
    b.goto(&format!("{base}/ui/login"));
    b.find("#token").send_keys(secret);
    b.find("form button[type=submit]").click();
}

fn logout(b: &Browser) {
    b.find("form[action='/ui/logout'] button").click();
}

#[test]
fn dashboard_in_a_real_browser() {
    let Some((chromium, chromedriver)) = webdriver::installed() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium or chromedriver is missing (/usr/bin/chromium, /usr/bin/chromedriver)"
        );
        eprintln!("skipped: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let dir = tmp.path();
    // The environments example's fake runner and blueprint source, as the walk-through
    // (`tests/environments_e2e.rs`) sets them up.
    std::fs::create_dir_all(dir.join("examples/environments/sandbox"))
        .unwrap_or_else(|e| unreachable!("{e}"));
    for f in [
        "fake-runner.sh",
        "sandbox/plan-template.json",
        "sandbox/main.tf",
    ] {
        let to = if f.starts_with("sandbox/") {
            dir.join("examples/environments").join(f)
        } else {
            dir.join(f)
        };
        std::fs::copy(Path::new(EXAMPLE).join(f), to)
            .unwrap_or_else(|e| unreachable!("copy {f}: {e}"));
    }
    std::fs::write(
        dir.join("warden.toml"),
        "[rules.required-tags-missing]\nenforcement = \"require_approval\"\ntags = { Team = '.+' }\n\
         [environments]\nrunner = [\"./fake-runner.sh\"]\nworkdir = \"work\"\n\
         [spaces.dev.environments]\nbudget-monthly = 60.0\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let (server, addr) = serve(dir);
    let base = format!("http://{addr}");
    let approver = token(
        dir,
        &[
            "--role",
            "approver,viewer,requester",
            "--space",
            "*",
            "--name",
            "alice-ui",
            "--principal",
            "alice",
        ],
    );
    let requester = token(
        dir,
        &[
            "--role",
            "requester",
            "--space",
            "dev,prod",
            "--name",
            "bob-ci",
            "--principal",
            "bob",
        ],
    );
    let agent = token(
        dir,
        &[
            "--role",
            "agent",
            "--space",
            "dev",
            "--name",
            "claude-infra",
        ],
    );
    let shots = screenshots();
    let b = Browser::start(&chromium, &chromedriver, 1440, 1180);

    // No session: every page leads to the login form; a wrong token is refused.
    b.goto(&format!("{base}/ui/decisions"));
    assert!(b.url().ends_with("/ui/login"), "{}", b.url());
    b.screenshot(&shots.join("01-login.png"));
    login(&b, &base, "wdn_not_a_token_0000000000000000");
    assert!(b.text().contains("unknown or revoked"), "{}", b.text());

    // The approver logs in and watches the decision list.
    login(&b, &base, &approver);
    assert!(b.url().ends_with("/ui/"), "{}", b.url());
    b.goto(&format!("{base}/ui/decisions"));
    assert!(b.text().contains("No decisions yet"));
    assert!(!b.source().contains(&approver), "a token is never rendered");

    // An agent is denied, then a person's change needs approval: both show up live.
    let denied = evaluate(&addr, &agent, "space=dev&subject=web-app", INSECURE);
    assert_eq!(denied["outcome"], "deny", "{denied}");
    let held = evaluate(&addr, &requester, "space=dev&subject=storage", COMPLIANT);
    assert_eq!(held["outcome"], "require_approval", "{held}");
    let id = held["decision_id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{held}"));
    let approval = held["approval"]["id"]
        .as_i64()
        .or_else(|| held["approval_id"].as_i64())
        .unwrap_or_else(|| unreachable!("no approval id: {held}"));
    assert!(
        b.wait_for_text(&format!("#{id}"), Duration::from_secs(20)),
        "decision #{id} did not appear in the live list"
    );
    b.screenshot(&shots.join("02-decisions.png"));

    // The decision's page: the finding with why and fix, the approval, the audit record.
    b.find(&format!("a[href='/ui/decisions/{id}']")).click();
    let page = b.text().to_lowercase();
    for needle in [
        "wd-gov-003",
        "why",
        "missing required tag `team`",
        "approval",
        "decision.recorded",
        "pending",
    ] {
        assert!(
            page.contains(needle),
            "decision page lacks `{needle}`:\n{page}"
        );
    }
    b.screenshot(&shots.join("03-decision.png"));

    // The approvals queue: approve with a note.
    b.goto(&format!("{base}/ui/approvals"));
    assert!(b.text().contains(&format!("#{approval}")));
    b.screenshot(&shots.join("04-approvals.png"));
    b.find(&format!("#approval-{approval} input[name=note]"))
        .send_keys("Tagged later in SEC-42");
    b.find(&format!("#approval-{approval} button.approve"))
        .click();
    assert!(
        b.text()
            .contains(&format!("approval of request #{approval} is recorded")),
        "{}",
        b.text()
    );
    // The same change is now allowed, citing the approval; the agent's retry too.
    let allowed = evaluate(&addr, &requester, "space=dev&subject=storage", COMPLIANT);
    assert_eq!(allowed["outcome"], "allow", "{allowed}");
    let retried = evaluate(&addr, &agent, "space=dev&subject=web-app", COMPLIANT);
    assert_eq!(retried["outcome"], "allow", "{retried}");

    // A forged form (wrong CSRF token) is refused.
    b.goto(&format!("{base}/ui/exceptions"));
    b.find("form[action='/ui/exceptions'] input[name=rule]")
        .send_keys("WD-GOV-003");
    b.find("form[action='/ui/exceptions'] input[name=resource]")
        .send_keys("aws_s3_bucket.*");
    b.find("form[action='/ui/exceptions'] textarea[name=justification]")
        .send_keys("Tags are added by the landing zone");
    b.execute("document.querySelector(\"form[action='/ui/exceptions'] input[name=csrf]\").value = 'forged';");
    b.find("form[action='/ui/exceptions'] button[type=submit]")
        .click();
    assert!(
        b.text().contains("CSRF token does not match"),
        "{}",
        b.text()
    );
    // The real form works.
    b.goto(&format!("{base}/ui/exceptions"));
    b.find("form[action='/ui/exceptions'] input[name=rule]")
        .send_keys("WD-GOV-003");
    b.find("form[action='/ui/exceptions'] input[name=resource]")
        .send_keys("aws_s3_bucket.*");
    b.find("form[action='/ui/exceptions'] textarea[name=justification]")
        .send_keys("Tags are added by the landing zone");
    b.find("form[action='/ui/exceptions'] button[type=submit]")
        .click();
    assert!(b.text().contains("requested; an approver"), "{}", b.text());
    // Bob's request through the API, granted here.
    let asked = post(
        &addr,
        &requester,
        "/v1/exceptions?space=dev",
        r#"{"rule": "WD-AWS-002", "resource": "aws_s3_bucket.logs", "justification": "Public website bucket behind CloudFront", "ticket": "SEC-7", "days": 5}"#,
    );
    let asked = asked["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{asked}"));
    b.goto(&format!("{base}/ui/exceptions"));
    b.find(&format!("#exception-{asked} button.approve"))
        .click();
    assert!(
        b.text().contains(&format!("Exception #{asked} granted")),
        "{}",
        b.text()
    );
    b.screenshot(&shots.join("05-exceptions.png"));

    b.goto(&format!("{base}/ui/audit"));
    assert!(b.text().contains("Intact"), "{}", b.text());
    b.screenshot(&shots.join("06-audit.png"));

    // Environments launched through the API with the fake runner: two running, one past
    // the blueprint's maximum waiting for approval.
    let blueprint = std::fs::read_to_string(Path::new(EXAMPLE).join("sandbox.yaml"))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let published = post(&addr, ADMIN, "/v1/blueprints", &blueprint);
    assert_eq!(published["version"], 1, "{published}");
    let launch = |token: &str, body: &str| {
        let v = post(&addr, token, "/v1/environments", body);
        assert!(v["environment"]["id"].is_i64(), "{v}");
        v
    };
    let env = launch(
        &approver,
        r#"{"blueprint": "sandbox", "space": "dev", "duration": "8h"}"#,
    );
    assert_eq!(env["environment"]["state"], "active", "{env}");
    let env_id = env["environment"]["id"].as_i64().unwrap_or_default();
    launch(
        &requester,
        r#"{"blueprint": "sandbox", "space": "dev", "duration": "2h", "inputs": {"instance_type": "t3.small"}}"#,
    );
    let pending = launch(
        &requester,
        r#"{"blueprint": "sandbox", "space": "dev", "duration": "5d"}"#,
    );
    assert_eq!(pending["outcome"], "require_approval", "{pending}");
    // Drift scans: the sandbox's security group opened to the internet out of band, and
    // a clean scan of another target.
    let scan = post(
        &addr,
        &requester,
        &format!("/v1/drift/scans?space=dev&target=sandbox-{env_id}"),
        DRIFTED,
    );
    assert_eq!(scan["scan"]["result"], "drift", "{scan}");
    let clean = post(
        &addr,
        &requester,
        "/v1/drift/scans?space=dev&target=network",
        CLEAN,
    );
    assert_eq!(clean["scan"]["result"], "clean", "{clean}");

    b.goto(&format!("{base}/ui/environments"));
    let page = b.text();
    for needle in ["Cost per space", "sandbox@1", "$60.00/mo", "bob"] {
        assert!(
            page.contains(needle),
            "environments lack `{needle}`:\n{page}"
        );
    }
    b.screenshot(&shots.join("07-environments.png"));
    // Extend from the detail page: a decision, allowed within the blueprint's maximum.
    b.find(&format!("a[href='/ui/environments/{env_id}']"))
        .click();
    let by = b.find("#extend-by");
    by.clear();
    by.send_keys("6h");
    b.find(&format!(
        "form[action='/ui/environments/{env_id}/extend'] button"
    ))
    .click();
    let page = b.text();
    assert!(
        page.contains("Extension") && page.contains("now ends") && page.contains("extended"),
        "{page}"
    );
    b.screenshot(&shots.join("10-environment.png"));

    b.goto(&format!("{base}/ui/drift"));
    let page = b.text();
    for needle in [
        "aws_security_group.api",
        "WD-AWS-007",
        "out of band",
        "Revert",
        "50%",
    ] {
        assert!(page.contains(needle), "drift lacks `{needle}`:\n{page}");
    }
    b.screenshot(&shots.join("08-drift.png"));

    // Another change waits; the agent signs in and is refused when it tries to approve.
    let second = evaluate(
        &addr,
        &requester,
        "space=dev&subject=storage-v2",
        &format!("{COMPLIANT}\n"),
    );
    assert_eq!(second["outcome"], "require_approval", "{second}");
    logout(&b);
    assert!(b.url().ends_with("/ui/login"), "{}", b.url());
    b.goto(&format!("{base}/ui/approvals"));
    assert!(b.url().ends_with("/ui/login"), "logged out: {}", b.url());
    login(&b, &base, &agent);
    b.goto(&format!("{base}/ui/approvals"));
    assert!(b.text().contains("agents never approve"));
    b.find("article.request button.approve").click();
    let refused = b.text();
    assert!(
        refused.contains("Could not approve") && refused.contains("agents never approve"),
        "{refused}"
    );
    b.screenshot(&shots.join("09-agent-refused.png"));
    logout(&b);

    // The overview, with the day's activity.
    login(&b, &base, &approver);
    b.goto(&format!("{base}/ui/?range=24h"));
    let overview = b.text().to_lowercase();
    for needle in [
        "decisions by outcome",
        "top violated rules",
        "agent self-correction\n100%",
        "wd-gov-003",
        "intact",
    ] {
        assert!(
            overview.contains(needle),
            "overview lacks `{needle}`:\n{overview}"
        );
    }
    b.screenshot(&shots.join("00-overview.png"));

    drop(b);
    drop(server);
}
