//! `/mcp` on a loopback port with a SQLite store in a tempdir, driven by an MCP client over
//! streamable HTTP: an agent's evaluation is recorded as the agent, reads are audited as the
//! agent, no token is a 401. And the `Remote` backend of `warden mcp --server`, over an
//! in-memory stdio pair, forwarding to the same server.
#![allow(
    clippy::unwrap_used,
    reason = "a test: a step that fails fails the test"
)]

mod common;

use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use warden_core::ActorKind;
use warden_policy::{Config, PolicySet};
use warden_server::mcp::{remote::Remote, Backend, WardenMcp};
use warden_server::AppState;
use warden_store::{Actor, OpenOptions, Role, SqliteStore, Store};

const INSECURE: &str = include_str!("../../../examples/terraform/insecure-web-app/plan.json");
const COMPLIANT: &str = include_str!("../../../examples/terraform/compliant/plan.json");

struct Server {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    addr: std::net::SocketAddr,
    agent: String,
}

/// A SQLite store in a tempdir holding the agent's token (`claude-infra`, requester in `dev`).
async fn store_with_agent() -> (tempfile::TempDir, Arc<SqliteStore>, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite(dir.path(), OpenOptions::default()).await;
    let agent = common::token(
        store.as_ref(),
        "claude-infra",
        ActorKind::Agent,
        &[Role::Requester],
        "dev",
    )
    .await;
    (dir, store, agent)
}

/// Serves `state` on a loopback port until the test ends.
async fn listen(
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    agent: String,
    state: AppState,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warden_server::serve(
        listener,
        state,
        std::future::pending::<()>(),
    ));
    Server {
        _dir: dir,
        store,
        addr,
        agent,
    }
}

async fn server() -> Server {
    let (dir, store, agent) = store_with_agent().await;
    let state = AppState::new(
        PolicySet::load(Config::default()).unwrap(),
        store.clone() as Arc<dyn Store>,
    );
    listen(dir, store, agent, state).await
}

async fn call(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        unreachable!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap()
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn decision_json(out: &str) -> Value {
    serde_json::from_str(out.split("Decision JSON:\n").nth(1).unwrap()).unwrap()
}

/// Evaluates the insecure plan in `dev` and checks the answer and the record.
async fn evaluate_as_agent(client: &RunningService<RoleClient, ()>, store: &SqliteStore) {
    let r = call(
        client,
        "evaluate_change",
        json!({ "document": INSECURE, "space": "dev" }),
    )
    .await;
    let out = text(&r);
    assert_eq!(r.is_error, Some(false), "{out}");
    assert!(out.starts_with("deny: "), "{out}");
    let decision = decision_json(&out);
    let id = decision["decision_id"].as_i64().unwrap();
    assert!(out.contains(&format!("decision {id} recorded in space \"dev\"")));
    assert!(decision["retry"]["change"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    let record = store.decision(id).await.unwrap().unwrap();
    assert_eq!(record.actor, "claude-infra");
    assert_eq!(record.actor_kind, "agent");
    assert_eq!(record.outcome.as_str(), "deny");
    assert_eq!(record.space.as_deref(), Some("dev"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_as_the_agent() {
    let s = server().await;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("http://{}/mcp", s.addr))
            .auth_header(s.agent.clone()),
    );
    let client = ().serve(transport).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 7);

    evaluate_as_agent(&client, &s.store).await;

    // A read is audited as the agent.
    let r = call(&client, "explain_rule", json!({ "rule": "WD-AWS-001" })).await;
    assert_eq!(r.is_error, Some(false));
    assert!(text(&r).starts_with("WD-AWS-001 "));
    let audit = s.store.audit_records(0, 1000).await.unwrap();
    let read = audit
        .iter()
        .find(|a| a.action == "mcp.explain_rule")
        .unwrap();
    assert_eq!(
        (
            read.actor.as_str(),
            read.actor_kind.as_str(),
            read.subject.as_str()
        ),
        ("claude-infra", "agent", "WD-AWS-001")
    );

    // Refusals and bad input are tool errors naming the problem.
    let r = call(&client, "evaluate_change", json!({ "document": INSECURE })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("`space` is required"), "{}", text(&r));
    let r = call(
        &client,
        "evaluate_change",
        json!({ "document": INSECURE, "space": "prod" }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("may not act in space `prod`"),
        "{}",
        text(&r)
    );
    let r = call(
        &client,
        "evaluate_change",
        json!({ "path": "/etc/passwd", "space": "dev" }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("cannot read"), "{}", text(&r));
    let r = call(&client, "approval_status", json!({ "id": 999 })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("approval request 999 not found"));

    // An exception request, as the agent.
    let r = call(
        &client,
        "request_exception",
        json!({ "space": "dev", "rule": "WD-AWS-001", "resource": "aws_s3_bucket.*",
                "justification": "public website bucket", "days": 7 }),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert!(text(&r).starts_with("exception "), "{}", text(&r));
    let exceptions = s.store.exceptions("dev").await.unwrap();
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].requested_by, "claude-infra");

    client.cancel().await.unwrap();
}

/// The self-correcting loop over MCP: a bad plan is denied with what to change, the fixed
/// plan is allowed, and an agent that keeps failing is handed to a person on its fourth
/// failing attempt (the default `max-attempts` is 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_corrects_itself_over_mcp_and_is_escalated_after_three_failures() {
    let s = server().await;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("http://{}/mcp", s.addr))
            .auth_header(s.agent.clone()),
    );
    let client = ().serve(transport).await.unwrap();
    let evaluate = |document: &'static str| {
        let client = &client;
        async move {
            let r = call(
                client,
                "evaluate_change",
                json!({ "document": document, "space": "dev", "subject": "web-app" }),
            )
            .await;
            assert_eq!(r.is_error, Some(false), "{}", text(&r));
            text(&r)
        }
    };

    // Denied, with the fix to apply first.
    let out = evaluate(INSECURE).await;
    assert!(out.starts_with("deny: "), "{out}");
    let fix = decision_json(&out)["retry"]["change"][0]["fix"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        out.contains(&fix),
        "the fix is in the text the agent reads first: {out}"
    );
    assert_eq!(decision_json(&out)["retry"]["attempt"], 1);

    // The fixed plan is allowed; that ends the series of attempts.
    let out = evaluate(COMPLIANT).await;
    assert!(out.starts_with("allow"), "{out}");

    // Three failing attempts in a row are denied, the fourth goes to a person.
    for attempt in 1..=3 {
        let out = evaluate(INSECURE).await;
        assert!(out.starts_with("deny: "), "{out}");
        let d = decision_json(&out);
        assert_eq!(d["retry"]["attempt"], attempt, "{out}");
        assert_eq!(d["retry"]["remaining_attempts"], 3 - attempt, "{out}");
    }
    let out = evaluate(INSECURE).await;
    assert!(out.starts_with("require_approval"), "{out}");
    let d = decision_json(&out);
    assert_eq!(d["retry"]["escalated"], true, "{out}");
    assert_eq!(d["retry"]["history"].as_array().map(Vec::len), Some(3));
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule_id"] == "WD-AGENT-001"));
    let approval = d["approval"]["id"].as_i64().unwrap();
    let pending = s.store.approval(approval).await.unwrap().unwrap();
    assert_eq!(pending.requested_by, "claude-infra");
    client.cancel().await.unwrap();
}

/// A raw HTTP/1.1 POST to `/mcp`; the status code.
async fn post_mcp(addr: std::net::SocketAddr, auth: Option<&str>) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_needs_a_bearer_token() {
    let s = server().await;
    assert_eq!(post_mcp(s.addr, None).await, 401);
    assert_eq!(post_mcp(s.addr, Some("Bearer wdn_not_a_token")).await, 401);
    assert_eq!(
        post_mcp(s.addr, Some(&format!("Bearer {}", s.agent))).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_backend_forwards_as_the_token() {
    let s = server().await;
    let remote = Remote::new(
        &format!("http://{}", s.addr),
        s.agent.clone(),
        PolicySet::load(Config::default()).unwrap(),
    )
    .unwrap();
    let handler = WardenMcp::new(Backend::Remote(Arc::new(remote)));
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = handler.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.unwrap();

    evaluate_as_agent(&client, &s.store).await;
    let r = call(&client, "approval_status", json!({ "id": 42 })).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(text(&r), "error (404): approval request 42 not found");

    // A token the server does not know: the server's 401, as a tool error.
    let remote = Remote::new(
        &format!("http://{}", s.addr),
        "wdn_unknown".into(),
        PolicySet::load(Config::default()).unwrap(),
    )
    .unwrap();
    let handler = WardenMcp::new(Backend::Remote(Arc::new(remote)));
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = handler.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let other = ().serve(client_io).await.unwrap();
    let r = call(
        &other,
        "evaluate_change",
        json!({ "document": INSECURE, "space": "dev" }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).starts_with("error (401): "), "{}", text(&r));

    client.cancel().await.unwrap();
    other.cancel().await.unwrap();
}

const ENVIRONMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/environments");

/// A server with environments on: the fake runner, EU regions only, the sandbox blueprint.
async fn environments_server() -> Server {
    let (dir, store, agent) = store_with_agent().await;
    let policies = common::policies(&format!(
        "[rules.WD-GOV-001]\nallowed = {{ aws = [\"eu-west-1\"] }}\n[environments]\nrunner = [\"{ENVIRONMENTS}/fake-runner.sh\"]\nworkdir = \"{}\"\n",
        dir.path().join("work").display()
    ));
    let blueprint = std::fs::read_to_string(format!("{ENVIRONMENTS}/sandbox.yaml"))
        .unwrap()
        .replace(
            "examples/environments/sandbox",
            &format!("{ENVIRONMENTS}/sandbox"),
        );
    store
        .publish_blueprint(
            &Actor::system(),
            &warden_store::NewBlueprint {
                name: "sandbox".into(),
                document: blueprint,
            },
        )
        .await
        .unwrap();
    let state = AppState::with_policies(policies, store.clone());
    listen(dir, store, agent, state).await
}

/// An agent lists and requests environments over MCP: a launch in an unapproved region is
/// denied with the rule, the fix and the reason; the fixed one is allowed and runs; it is
/// extended and terminated; every request is a decision recorded as the agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_requests_environments_over_mcp() {
    let s = environments_server().await;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("http://{}/mcp", s.addr))
            .auth_header(s.agent.clone()),
    );
    let client = ().serve(transport).await.unwrap();
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(
        names.contains(&"list_environments".to_owned())
            && names.contains(&"request_environment".to_owned()),
        "{names:?}"
    );

    // An unapproved region: denied, the first lines name the rule, what to change and why.
    let r = call(
        &client,
        "request_environment",
        json!({ "operation": "launch", "blueprint": "sandbox", "space": "dev",
                "inputs": { "region": "us-east-2" } }),
    )
    .await;
    let out = text(&r);
    assert_eq!(r.is_error, Some(false), "{out}");
    assert!(out.starts_with("deny: "), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("- WD-GOV-001 on "))
        .unwrap_or_else(|| panic!("no WD-GOV-001 line: {out}"));
    assert!(
        line.contains(" — ") && line.contains("to `eu-west-1`"),
        "{line}"
    );
    let denied = decision_json(&out);
    assert_eq!(denied["environment"]["state"], "denied", "{out}");
    assert!(out.contains(&format!(
        "environment {} (sandbox version 1) in space dev: denied",
        denied["environment"]["id"]
    )));
    let record = s
        .store
        .decision(denied["decision_id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (record.actor.as_str(), record.actor_kind.as_str()),
        ("claude-infra", "agent")
    );

    // The region fixed: allowed, applied, the outputs shown.
    let r = call(
        &client,
        "request_environment",
        json!({ "operation": "launch", "blueprint": "sandbox", "space": "dev",
                "inputs": { "region": "eu-west-1" }, "duration": "2h" }),
    )
    .await;
    let out = text(&r);
    assert!(out.starts_with("allow: "), "{out}");
    let launched = decision_json(&out);
    let id = launched["environment"]["id"].as_i64().unwrap();
    assert!(
        out.contains(&format!(
            "environment {id} (sandbox version 1) in space dev: active"
        )) && out.contains("outputs: url = https://sandbox.eu-west-1.example.com"),
        "{out}"
    );

    // Listed (the read audited as the agent); a bad filter is a tool error naming it.
    let r = call(
        &client,
        "list_environments",
        json!({ "space": "dev", "state": "active" }),
    )
    .await;
    let out = text(&r);
    assert!(out.starts_with("1 environment(s).\n"), "{out}");
    assert!(out.contains(&format!("- environment {id} ")), "{out}");
    let audit = s.store.audit_records(0, 1000).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "mcp.list_environments" && a.actor == "claude-infra"));
    let r = call(&client, "list_environments", json!({ "state": "bogus" })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("`state` is `bogus`"), "{}", text(&r));
    let r = call(&client, "list_environments", json!({ "space": "prod" })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("may not act in space `prod`"),
        "{}",
        text(&r)
    );

    // Bad requests name the argument.
    let r = call(
        &client,
        "request_environment",
        json!({ "operation": "extend", "duration": "1h" }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("extend needs `id`"), "{}", text(&r));
    let r = call(
        &client,
        "request_environment",
        json!({ "operation": "terminate", "id": id, "blueprint": "sandbox" }),
    )
    .await;
    assert!(
        text(&r).contains("`blueprint` does not apply to terminate"),
        "{}",
        text(&r)
    );

    // Extended within the blueprint's maximum, then terminated.
    let r = call(
        &client,
        "request_environment",
        json!({ "operation": "extend", "id": id, "duration": "1h" }),
    )
    .await;
    let out = text(&r);
    assert!(out.starts_with("allow: "), "{out}");
    let extended = decision_json(&out);
    assert_ne!(
        extended["environment"]["ends_at"],
        launched["environment"]["ends_at"]
    );
    let r = call(
        &client,
        "request_environment",
        json!({ "operation": "terminate", "id": id }),
    )
    .await;
    let out = text(&r);
    assert_eq!(r.is_error, Some(false), "{out}");
    assert!(
        out.contains(&format!(
            "environment {id} (sandbox version 1) in space dev: terminated"
        )),
        "{out}"
    );

    // Through `warden mcp --server` (the Remote backend): the same list.
    let remote = Remote::new(
        &format!("http://{}", s.addr),
        s.agent.clone(),
        PolicySet::load(Config::default()).unwrap(),
    )
    .unwrap();
    let handler = WardenMcp::new(Backend::Remote(Arc::new(remote)));
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = handler.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let other = ().serve(client_io).await.unwrap();
    let r = call(
        &other,
        "list_environments",
        json!({ "space": "dev", "state": "terminated" }),
    )
    .await;
    let out = text(&r);
    assert!(out.starts_with("1 environment(s).\n"), "{out}");
    assert!(out.contains(&format!("- environment {id} ")), "{out}");
    let r = call(
        &other,
        "request_environment",
        json!({ "operation": "launch", "blueprint": "sandbox", "space": "dev",
                "inputs": { "region": "us-east-2" } }),
    )
    .await;
    assert!(text(&r).starts_with("deny: "), "{}", text(&r));

    client.cancel().await.unwrap();
    other.cancel().await.unwrap();
}
