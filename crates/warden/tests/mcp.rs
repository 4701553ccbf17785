//! `warden mcp` driven over stdio by an MCP client (rmcp, child process): the tools are
//! listed with their schemas, a denied plan comes back with what to change first and the
//! decision JSON after, rules are explained and listed, and bad input is a tool error.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    reason = "a test: a step that fails fails the test"
)]

mod common;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{json, Value};

const PLAN: &str = include_str!("../../../examples/terraform/insecure-web-app/plan.json");

async fn start(args: &[&str]) -> RunningService<RoleClient, ()> {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_warden")).configure(|cmd| {
        cmd.arg("mcp")
            .args(&args)
            .current_dir(common::root())
            .env("WARDEN_NOW", "2026-03-01T12:00:00Z")
            .env("WARDEN_LOG", "warn")
            .env_remove("WARDEN_TOKEN");
    });
    let transport = TokioChildProcess::new(command).unwrap();
    ().serve(transport).await.unwrap()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_tools_answer_for_self_correction() {
    let client = start(&[
        "--config",
        "examples/terraform/insecure-web-app/warden.toml",
    ])
    .await;

    // The tools, each with a description and an input schema whose members are described.
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "approval_status",
            "evaluate_change",
            "explain_rule",
            "list_environments",
            "list_rules",
            "request_environment",
            "request_exception"
        ]
    );
    for t in &tools {
        assert!(
            t.description.as_deref().is_some_and(|d| d.len() > 40),
            "{}",
            t.name
        );
    }
    // docs/mcp.md documents every tool and every member of its input.
    let docs = std::fs::read_to_string(common::root().join("docs/mcp.md")).unwrap();
    for t in &tools {
        let section = docs
            .split(&format!("### `{}`", t.name))
            .nth(1)
            .unwrap_or_else(|| panic!("docs/mcp.md has no section for {}", t.name));
        let section = section.split("\n### ").next().unwrap_or_default();
        let members = t.input_schema["properties"].as_object().unwrap();
        for m in members.keys() {
            assert!(
                section.contains(&format!("| `{m}` |")),
                "docs/mcp.md: {} lacks `{m}`",
                t.name
            );
        }
    }
    let evaluate = tools.iter().find(|t| t.name == "evaluate_change").unwrap();
    let document = &evaluate.input_schema["properties"]["document"];
    assert_eq!(document["type"], json!(["string", "null"]));
    assert!(document["description"]
        .as_str()
        .is_some_and(|d| d.contains("terraform show -json")));
    assert_eq!(
        evaluate.input_schema["properties"]["path"]["type"],
        json!(["string", "null"])
    );

    // A denied plan: not a tool error; the first lines say what to change and why.
    let r = call(&client, "evaluate_change", json!({ "document": PLAN })).await;
    assert_eq!(r.is_error, Some(false));
    let out = text(&r);
    let mut lines = out.lines();
    assert!(
        lines.next().is_some_and(|l| l.starts_with("deny: ")),
        "{out}"
    );
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("- WD-") && first.contains(" on ") && first.contains(" — "),
        "{first}"
    );
    let decision = decision_json(&out);
    assert_eq!(decision["outcome"], "deny");
    let findings = decision["findings"].as_array().unwrap();
    let denied: Vec<&Value> = findings
        .iter()
        .filter(|f| f["enforcement"] == "deny")
        .collect();
    assert!(!denied.is_empty());
    // Each denied finding has its line, and one at least carries a fix.
    for f in &denied {
        let head = format!(
            "- {} on {}",
            f["rule_id"].as_str().unwrap(),
            f["resource"].as_str().unwrap()
        );
        assert!(out.lines().any(|l| l.starts_with(&head)), "{head} in {out}");
    }
    let fixed = denied
        .iter()
        .find(|f| f["fix"]["description"].is_string())
        .unwrap();
    assert!(out.contains(fixed["fix"]["description"].as_str().unwrap()));
    assert!(decision["retry"]["change"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    // Exactly as `warden check` decides.
    let check = common::warden(&[
        "check",
        "--config",
        "examples/terraform/insecure-web-app/warden.toml",
        "-f",
        "json",
        "examples/terraform/insecure-web-app/plan.json",
    ]);
    let check = common::json(&check);
    assert_eq!(
        check["findings"].as_array().map(Vec::len),
        Some(findings.len())
    );
    assert_eq!(check["policy_revision"], decision["policy_revision"]);

    // The same plan by path (read by `warden mcp`, relative to where it runs): the same
    // findings.
    let r = call(
        &client,
        "evaluate_change",
        json!({ "path": "examples/terraform/insecure-web-app/plan.json" }),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    let by_path = decision_json(&text(&r));
    let ids = |d: &Value| -> Vec<(Value, Value)> {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["rule_id"].clone(), f["resource"].clone()))
            .collect()
    };
    assert_eq!(ids(&by_path), ids(&decision));
    // Findings point into the file by its path.
    assert_eq!(
        by_path["findings"][0]["location"]["file"],
        "examples/terraform/insecure-web-app/plan.json"
    );
    assert_eq!(
        by_path["inputs"][0]["digest"],
        decision["inputs"][0]["digest"]
    );

    // The rule of the first finding, explained.
    let id = denied[0]["rule_id"].as_str().unwrap();
    let r = call(&client, "explain_rule", json!({ "rule": id })).await;
    assert_eq!(r.is_error, Some(false));
    let out = text(&r);
    assert!(out.starts_with(id), "{out}");
    assert!(out.contains("\nwhy: "), "{out}");

    // Rules, filtered.
    let r = call(&client, "list_rules", json!({ "filter": "wd-k8s" })).await;
    let out = text(&r);
    let rules: Vec<&str> = out.lines().filter(|l| l.starts_with("WD-")).collect();
    assert!(!rules.is_empty());
    assert!(rules.iter().all(|l| l.starts_with("WD-K8S-")), "{out}");
    assert!(out.contains(&format!("{} rule(s) matching `wd-k8s`", rules.len())));

    // Bad input: tool errors saying what is wrong.
    let r = call(
        &client,
        "evaluate_change",
        json!({ "document": "just some words" }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).starts_with("error: bad input: "), "{}", text(&r));
    let r = call(&client, "evaluate_change", json!({ "document": "  " })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("`document` is empty"), "{}", text(&r));
    let r = call(
        &client,
        "evaluate_change",
        json!({ "path": "no/such/plan.json" }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("no/such/plan.json"), "{}", text(&r));
    let r = call(&client, "evaluate_change", json!({ "path": "-" })).await;
    assert_eq!(r.is_error, Some(true));
    let r = call(
        &client,
        "evaluate_change",
        json!({ "path": "a.json", "document": PLAN }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("not both"), "{}", text(&r));
    let r = call(&client, "evaluate_change", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    let r = call(&client, "explain_rule", json!({ "rule": "WD-NOPE-999" })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("no rule `WD-NOPE-999`"), "{}", text(&r));
    // Without a server there are no exceptions or approvals.
    let r = call(&client, "approval_status", json!({ "id": 1 })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("--server URL"), "{}", text(&r));
    // Nor environments: each tool says they need a server.
    for (tool, args) in [
        ("list_environments", json!({})),
        (
            "request_environment",
            json!({ "operation": "launch", "blueprint": "sandbox", "space": "dev" }),
        ),
    ] {
        let r = call(&client, tool, args).await;
        assert_eq!(r.is_error, Some(true), "{tool}");
        let out = text(&r);
        assert!(
            out.starts_with("error: environments are launched and run by a Warden server")
                && out.contains("--server URL"),
            "{tool}: {out}"
        );
    }

    client.cancel().await.unwrap();
}

#[test]
fn server_url_is_checked_before_serving() {
    let o = common::warden(&["mcp", "--server", "https://warden.example"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o).contains("WARDEN_TOKEN"),
        "{}",
        common::stderr(&o)
    );
}
