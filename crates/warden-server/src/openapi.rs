//! The OpenAPI 3.1 document of the API, served at `/openapi.json` and checked in as
//! `docs/openapi.json` (a test fails when they differ; `WARDEN_UPDATE_GENERATED=1 cargo test
//! -p warden-server --test openapi` rewrites the file).
//!
//! Built by hand as a `serde_json::Value` rather than with a derive crate: the responses are
//! themselves built as JSON values (`ops::approval_json`, the decision document of
//! `warden-core`), so there are no response types to derive schemas from, and utoipa would
//! add proc-macro dependencies and derives on core types for ten endpoints. What keeps the
//! document honest is that it is generated from the router's own table ([`crate::endpoints`]):
//! every served endpoint gets an operation, and a test fails on one described here but not
//! known by [`operation`].

use axum::http::Method;
use serde_json::{json, Map, Value};

/// The decision document's schema, which the evaluate response extends.
const DECISION_SCHEMA: &str =
    "https://raw.githubusercontent.com/warden-dev/warden/main/docs/schemas/decision.schema.json";

/// The whole document, one operation per endpoint the router serves.
#[must_use]
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path) in crate::endpoints() {
        let item = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        if let (Value::Object(item), Some(mut op)) = (item, operation(&method, path)) {
            if path.starts_with("/v1/") && path != "/v1/admission" {
                // Every token-authenticated endpoint counts against the token's rate limit.
                if let Some(Value::Object(r)) = op.get_mut("responses") {
                    r.insert("429".into(), too_many_requests());
                }
            }
            item.insert(method.as_str().to_ascii_lowercase(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Warden control plane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Ask whether a change may be applied and get one recorded answer; approvals bound to the exact change; governed exceptions; health and metrics. Every /v1 endpoint needs `Authorization: Bearer <token>` (`warden token create`); errors are `{\"error\": \"...\"}`.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "servers": [{ "url": "http://127.0.0.1:8080" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": components(),
    })
}

/// The operation for a routed endpoint, `None` for one this module does not know (a test
/// makes that a failure).
#[must_use]
pub fn operation(method: &Method, path: &str) -> Option<Value> {
    let space_query = |required: bool, what: &str| {
        json!({ "name": "space", "in": "query", "required": required,
                "schema": { "type": "string" }, "description": what })
    };
    let op = match (method.as_str(), path) {
        ("POST", "/v1/evaluate") => json!({
            "operationId": "evaluate",
            "tags": ["decisions"],
            "summary": "Evaluate a change and record the decision",
            "description": "Needs the requester role in the space. The body is a Terraform plan (JSON), Kubernetes manifests (YAML or JSON), or a structured change request (`ChangeRequest`: operation, change, context). The decision is recorded with its audit record before it is returned; if it cannot be recorded the answer is a 500, never a decision. A `require_approval` outcome opens an approval request bound to the change digest; an approved request for the same digest turns the outcome into `allow` and is cited in `approved_by`. The same request twice gives the same decision (the second time usually from memory: `memoized`).",
            "parameters": [
                space_query(false, "The space the change is evaluated in (required unless a change request's `context.space` names it; both must agree)."),
                { "name": "subject", "in": "query", "required": false, "schema": { "type": "string" },
                  "description": "What the change is about, stable across re-plans: a newer digest for the same subject supersedes a pending approval request. Defaults to the change digest." }
            ],
            "requestBody": {
                "required": true,
                "content": {
                    "application/json": { "schema": { "oneOf": [
                        { "description": "A Terraform plan (`terraform show -json`) or Kubernetes manifests as JSON." },
                        { "$ref": "#/components/schemas/ChangeRequest" }
                    ] } },
                    "application/yaml": { "schema": { "type": "string", "description": "Kubernetes manifests." } }
                }
            },
            "responses": responses(&[
                ("200", "The recorded decision.", Some("EvaluateResponse")),
                ("400", "The body is empty, not a plan, manifests or a valid change request (unknown member, unknown operation, an operation the change does not fit), or `space` is missing.", Some("Error")),
                ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("404", "The space does not exist.", Some("Error")),
                ("413", "The body is larger than the server accepts.", Some("Error")),
                ("500", "The decision could not be recorded, so it is not given (fail closed).", Some("Error")),
            ]),
        }),
        ("POST", "/v1/admission") => json!({
            "operationId": "admissionReview",
            "tags": ["decisions"],
            "summary": "Kubernetes validating admission webhook (AdmissionReview v1)",
            "description": "kube-apiserver posts an `admission.k8s.io/v1` AdmissionReview; the object (the `oldObject` for a DELETE) is evaluated by the space's layered policies and the decision recorded like `/v1/evaluate`'s, as the request's `userInfo.username` (an agent or pipeline when `warden serve --admission-agent/--admission-pipeline` lists it), followed by an `admission.reviewed` audit record. The answer is an AdmissionReview with the request's `uid`: `deny` and `require_approval` give `allowed: false` and `status {code: 403, message}` naming the blocking findings with their fix summaries (and the approval request opened, bound to the object's digest); `warn` findings come back as `warnings`; `dryRun` requests are recorded but open no approval request. No bearer token: served only over TLS (`warden serve --tls-cert/--tls-key`), which authenticates the API server; 404 otherwise. See docs/admission.md.",
            "security": [],
            "parameters": [space_query(false, "The space (default: `warden serve --admission-space`, `cluster`).")],
            "requestBody": body_ref("AdmissionReview", true),
            "responses": responses(&[
                ("200", "The review's response.", Some("AdmissionReview")),
                ("400", "Not an `admission.k8s.io/v1` AdmissionReview: the message names the field (`request.uid`, `request.operation`, `request.object` ...).", Some("Error")),
                ("404", "The space does not exist, or the server runs without TLS.", Some("Error")),
                ("413", "The body is larger than the server accepts.", Some("Error")),
                ("500", "The decision could not be recorded, so none is given (with failurePolicy Fail the API server refuses the request).", Some("Error")),
            ]),
        }),
        ("GET", "/v1/approvals") => json!({
            "operationId": "listApprovals",
            "tags": ["approvals"],
            "summary": "Approval requests in the token's spaces, newest first",
            "parameters": [
                space_query(false, "Only this space."),
                { "name": "state", "in": "query", "required": false,
                  "schema": { "$ref": "#/components/schemas/ApprovalState" } }
            ],
            "responses": responses(&[
                ("200", "The requests.", Some("ApprovalList")),
                ("400", "Unknown state.", Some("Error")),
                ("401", "", Some("Error")), ("403", "", Some("Error")),
            ]),
        }),
        ("GET", "/v1/approvals/{id}") => json!({
            "operationId": "getApproval",
            "tags": ["approvals"],
            "summary": "One approval request (agents poll this)",
            "parameters": [id_param("The approval request's id.")],
            "responses": responses(&[
                ("200", "The request.", Some("Approval")),
                ("400", "The id is not a number.", Some("Error")),
                ("401", "", Some("Error")),
                ("404", "No such request in the token's spaces.", Some("Error")),
            ]),
        }),
        ("POST", "/v1/approvals/{id}/approve") => json!({
            "operationId": "approve",
            "tags": ["approvals"],
            "summary": "Add the token's approval to a pending request",
            "description": "Needs the approver role (and any role the space requires) and a human or pipeline token: agents never approve. Never the requester.",
            "parameters": [id_param("The approval request's id.")],
            "requestBody": body_ref("ApproveBody", false),
            "responses": responses(&[
                ("200", "The request after the approval (approved once enough approvers agreed).", Some("Approval")),
                ("400", "", Some("Error")), ("401", "", Some("Error")),
                ("403", "An agent, the requester, or a token without the role.", Some("Error")),
                ("404", "", Some("Error")),
                ("409", "The request is no longer pending.", Some("Error")),
            ]),
        }),
        ("POST", "/v1/approvals/{id}/reject") => json!({
            "operationId": "reject",
            "tags": ["approvals"],
            "summary": "Reject a pending request, with a reason",
            "description": "Same rules as approving.",
            "parameters": [id_param("The approval request's id.")],
            "requestBody": body_ref("RejectBody", true),
            "responses": responses(&[
                ("200", "The rejected request.", Some("Approval")),
                ("400", "No reason.", Some("Error")), ("401", "", Some("Error")),
                ("403", "", Some("Error")), ("404", "", Some("Error")),
                ("409", "The request is no longer pending.", Some("Error")),
            ]),
        }),
        ("POST", "/v1/exceptions") => json!({
            "operationId": "requestException",
            "tags": ["exceptions"],
            "summary": "Request a governed exception",
            "description": "Needs the requester role in the space (agents included). It applies only once an approver who is not the requester grants it, until it expires.",
            "parameters": [space_query(true, "The space the exception applies in.")],
            "requestBody": body_ref("ExceptionRequest", true),
            "responses": responses(&[
                ("201", "The requested exception.", Some("Exception")),
                ("400", "", Some("Error")), ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("404", "", Some("Error")),
            ]),
        }),
        ("GET", "/v1/exceptions/{id}") => json!({
            "operationId": "getException",
            "tags": ["exceptions"],
            "summary": "One exception",
            "parameters": [id_param("The exception's id.")],
            "responses": responses(&[
                ("200", "The exception.", Some("Exception")),
                ("400", "", Some("Error")), ("401", "", Some("Error")),
                ("404", "No such exception in the token's spaces.", Some("Error")),
            ]),
        }),
        ("POST", "/v1/exceptions/{id}/grant") => json!({
            "operationId": "grantException",
            "tags": ["exceptions"],
            "summary": "Grant a requested exception",
            "description": "Needs the approver role and a human or pipeline token; never the requester.",
            "parameters": [id_param("The exception's id.")],
            "responses": responses(&[
                ("200", "The granted exception.", Some("Exception")),
                ("400", "", Some("Error")), ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("404", "", Some("Error")), ("409", "It is not pending.", Some("Error")),
            ]),
        }),
        ("POST", "/v1/exceptions/{id}/reject") => json!({
            "operationId": "rejectException",
            "tags": ["exceptions"],
            "summary": "Reject a requested exception, with a reason",
            "parameters": [id_param("The exception's id.")],
            "requestBody": body_ref("RejectBody", true),
            "responses": responses(&[
                ("200", "The rejected exception.", Some("Exception")),
                ("400", "No reason.", Some("Error")), ("401", "", Some("Error")),
                ("403", "", Some("Error")), ("404", "", Some("Error")),
                ("409", "It is not pending.", Some("Error")),
            ]),
        }),
        ("POST", "/v1/drift/scans") => json!({
            "operationId": "submitDriftScan",
            "tags": ["drift"],
            "summary": "Scan a target for drift and record the scan",
            "description": "The body is a refresh-only plan (`terraform show -json` of `terraform plan -refresh-only -out p`), or `{\"manifests\", \"live\"}` for Kubernetes. Evaluated under the space's policies as `warden drift` does: each violation the drift introduces is a WD-DRIFT-001 finding. Newly drifted resources open drift events (attributed to the Warden decision that touched them since the target's last scan, or out of band), resources still drifted keep theirs, and the target's open events no longer drifted are resolved. An incomplete verdict (an engine error) is recorded as a failed scan that changes no event. Needs the requester role in the space.",
            "parameters": [
                space_query(true, "The space the target belongs to."),
                { "name": "target", "in": "query", "required": true, "schema": { "type": "string" },
                  "description": "The target scanned (a workspace, a set of manifests): 1-64 letters, digits, `-`, `_`, `.`." }
            ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": {
                "oneOf": [
                    { "type": "object", "description": "A refresh-only plan (`terraform show -json`)." },
                    { "$ref": "#/components/schemas/KubernetesDriftBody" }
                ] } } } },
            "responses": responses(&[
                ("201", "The scan recorded, its report and its events.", Some("DriftScanResult")),
                ("400", "Missing space or target, or a body that is not a plan or {manifests, live}.", Some("Error")),
                ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("404", "The space does not exist.", Some("Error")),
                ("413", "The body is larger than the server accepts.", Some("Error")),
            ]),
        }),
        ("GET", "/v1/drift") => json!({
            "operationId": "listDrift",
            "tags": ["drift"],
            "summary": "Drift events in the token's spaces, newest first",
            "parameters": [
                space_query(false, "Only this space."),
                { "name": "target", "in": "query", "required": false, "schema": { "type": "string" }, "description": "Only this target." },
                { "name": "state", "in": "query", "required": false, "schema": { "enum": ["open", "resolved"] } },
                { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 },
                  "description": "At most this many (500 by default; 0: all)." }
            ],
            "responses": responses(&[
                ("200", "The events.", Some("DriftList")),
                ("400", "Unknown state.", Some("Error")),
                ("401", "", Some("Error")), ("403", "", Some("Error")),
            ]),
        }),
        ("GET", "/v1/drift/{id}") => json!({
            "operationId": "getDrift",
            "tags": ["drift"],
            "summary": "One drift event",
            "parameters": [id_param("The drift event's id.")],
            "responses": responses(&[
                ("200", "The event.", Some("DriftEvent")),
                ("400", "The id is not a number.", Some("Error")),
                ("401", "", Some("Error")),
                ("404", "No such event in the token's spaces.", Some("Error")),
            ]),
        }),
        ("GET", "/v1/blueprints") => json!({
            "operationId": "listBlueprints",
            "tags": ["environments"],
            "summary": "The blueprint catalog: each blueprint's latest version",
            "responses": responses(&[
                ("200", "`{\"blueprints\": [...]}`.", Some("BlueprintList")),
                ("401", "", Some("Error")), ("403", "", Some("Error")),
            ]),
        }),
        ("POST", "/v1/blueprints") => json!({
            "operationId": "publishBlueprint",
            "tags": ["environments"],
            "summary": "Publish a blueprint file (a new version when it changed)",
            "description": "Needs the policy-author role. The body is the blueprint file (YAML, docs/environments.md); errors name the line.",
            "requestBody": { "required": true, "content": { "application/yaml": { "schema": { "type": "string" } } } },
            "responses": responses(&[
                ("200", "The published version.", Some("Blueprint")),
                ("400", "The file is not a valid blueprint.", Some("Error")),
                ("401", "", Some("Error")), ("403", "", Some("Error")),
            ]),
        }),
        ("GET", "/v1/blueprints/{name}") => json!({
            "operationId": "getBlueprint",
            "tags": ["environments"],
            "summary": "A blueprint's latest version",
            "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": responses(&[
                ("200", "The blueprint.", Some("Blueprint")),
                ("401", "", Some("Error")), ("404", "", Some("Error")),
            ]),
        }),
        ("GET", "/v1/environments") => json!({
            "operationId": "listEnvironments",
            "tags": ["environments"],
            "summary": "Environments in the token's spaces",
            "parameters": [
                space_query(false, "Only this space."),
                { "name": "state", "in": "query", "required": false,
                  "schema": { "$ref": "#/components/schemas/EnvironmentState" } }
            ],
            "responses": responses(&[
                ("200", "`{\"environments\": [...]}`.", Some("EnvironmentList")),
                ("400", "", Some("Error")), ("401", "", Some("Error")), ("403", "", Some("Error")),
            ]),
        }),
        ("POST", "/v1/environments") => json!({
            "operationId": "launchEnvironment",
            "tags": ["environments"],
            "summary": "Launch an environment from a blueprint",
            "description": "Needs the requester role in the space. The consumption and lifecycle checkpoints (WD-ENV-001..005) and the runner's plan are one recorded decision (operation `launch`); the runner applies only on allow or warn, or once the approval opened for this exact plan is granted (the reconcile loop then applies it).",
            "requestBody": body_ref("LaunchRequest", true),
            "responses": responses(&[
                ("200", "The decision (as /v1/evaluate answers) with `environment`; `error` when the runner failed.", Some("EnvironmentAnswer")),
                ("400", "", Some("Error")), ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("404", "No such blueprint or space.", Some("Error")),
                ("409", "Environments are off (no runner configured).", Some("Error")),
            ]),
        }),
        ("GET", "/v1/environments/{id}") => json!({
            "operationId": "getEnvironment",
            "tags": ["environments"],
            "summary": "An environment with its lifecycle events",
            "parameters": [id_param("The environment's id.")],
            "responses": responses(&[
                ("200", "The environment and `events`.", Some("Environment")),
                ("400", "", Some("Error")), ("401", "", Some("Error")), ("404", "", Some("Error")),
            ]),
        }),
        ("POST", "/v1/environments/{id}/extend") => json!({
            "operationId": "extendEnvironment",
            "tags": ["environments"],
            "summary": "Move an environment's end",
            "description": "Beyond the blueprint's maximum the decision is require_approval (WD-ENV-002): the end moves once the approval is granted.",
            "parameters": [id_param("The environment's id.")],
            "requestBody": body_ref("ExtendRequest", true),
            "responses": responses(&[
                ("200", "The decision with `environment`.", Some("EnvironmentAnswer")),
                ("400", "", Some("Error")), ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("404", "", Some("Error")), ("409", "It is not active.", Some("Error")),
            ]),
        }),
        ("POST", "/v1/environments/{id}/terminate") => json!({
            "operationId": "terminateEnvironment",
            "tags": ["environments"],
            "summary": "Tear an environment down",
            "description": "The destroy plan is decided (operation `terminate`) and applied when allowed. A flagged environment (`teardown_failed`) is retried.",
            "parameters": [id_param("The environment's id.")],
            "responses": responses(&[
                ("200", "The decision with `environment`; `error` when the teardown failed.", Some("EnvironmentAnswer")),
                ("400", "", Some("Error")), ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("404", "", Some("Error")), ("409", "", Some("Error")),
            ]),
        }),
        ("POST", "/v1/exceptions/{id}/revoke") => json!({
            "operationId": "revokeException",
            "tags": ["exceptions"],
            "summary": "Revoke a granted exception, with a reason",
            "description": "Needs the approver role and a human or pipeline token (agents never revoke); the requester may revoke their own, since revoking tightens.",
            "parameters": [id_param("The exception's id.")],
            "requestBody": body_ref("RejectBody", true),
            "responses": responses(&[
                ("200", "The revoked exception.", Some("Exception")),
                ("400", "No reason.", Some("Error")), ("401", "", Some("Error")),
                ("403", "", Some("Error")), ("404", "", Some("Error")),
                ("409", "It is not granted, or it has expired.", Some("Error")),
            ]),
        }),
        ("GET", "/v1/decisions") => json!({
            "operationId": "listDecisions",
            "tags": ["decisions"],
            "summary": "Recorded decisions in the token's spaces, newest first",
            "description": "Filtered by space, outcome, actor, actor kind and time; paged by id: pass the response's `next_before` as `before` for the next page.",
            "parameters": [
                space_query(false, "Only this space."),
                { "name": "outcome", "in": "query", "required": false,
                  "schema": { "enum": ["allow", "warn", "require_approval", "deny"] } },
                { "name": "actor", "in": "query", "required": false, "schema": { "type": "string" },
                  "description": "Only this principal." },
                { "name": "actor_kind", "in": "query", "required": false,
                  "schema": { "enum": ["human", "agent", "pipeline", "system"] } },
                { "name": "since", "in": "query", "required": false,
                  "schema": { "type": "string", "format": "date-time" }, "description": "Made at or after (RFC 3339)." },
                { "name": "until", "in": "query", "required": false,
                  "schema": { "type": "string", "format": "date-time" }, "description": "Made before (RFC 3339)." },
                { "name": "before", "in": "query", "required": false,
                  "schema": { "type": "integer", "format": "int64" }, "description": "Only ids below this one (the previous page's `next_before`)." },
                { "name": "limit", "in": "query", "required": false,
                  "schema": { "type": "integer", "minimum": 1, "maximum": 500, "default": 50 } }
            ],
            "responses": responses(&[
                ("200", "A page of decisions.", Some("DecisionList")),
                ("400", "Unknown outcome or actor kind, or a time that is not RFC 3339.", Some("Error")),
                ("401", "", Some("Error")), ("403", "The token may not read that space.", Some("Error")),
            ]),
        }),
        ("GET", "/v1/decisions/{id}") => json!({
            "operationId": "getDecision",
            "tags": ["decisions"],
            "summary": "One recorded decision with its document (secrets masked)",
            "parameters": [id_param("The decision's id.")],
            "responses": responses(&[
                ("200", "The decision.", Some("StoredDecision")),
                ("400", "The id is not a number.", Some("Error")),
                ("401", "", Some("Error")),
                ("404", "No such decision in the token's spaces.", Some("Error")),
            ]),
        }),
        ("GET", "/v1/audit/verify") => json!({
            "operationId": "verifyAudit",
            "tags": ["audit"],
            "summary": "Walk the audit log's hash chain and name the first broken link",
            "description": "Needs the viewer role over every space (`*`): the log covers them all. The same walk as `warden audit verify --data DIR`, on the server's live database (one read snapshot).",
            "responses": responses(&[
                ("200", "The walk's result (a broken chain is still a 200: `intact` is false).", Some("AuditVerification")),
                ("401", "", Some("Error")), ("403", "", Some("Error")),
                ("500", "The store could not be read.", Some("Error")),
            ]),
        }),
        ("GET", "/healthz") => json!({
            "operationId": "healthz",
            "tags": ["operations"],
            "summary": "The process is up",
            "security": [],
            "responses": { "200": { "description": "`{\"status\": \"ok\"}`",
                "content": { "application/json": { "schema": { "type": "object",
                    "properties": { "status": { "const": "ok" } } } } } } },
        }),
        ("GET", "/readyz") => json!({
            "operationId": "readyz",
            "tags": ["operations"],
            "summary": "The store is reachable; names the policy revision",
            "security": [],
            "responses": {
                "200": { "description": "Ready.", "content": { "application/json": { "schema": {
                    "type": "object", "properties": {
                        "status": { "const": "ready" },
                        "policy_revision": { "type": "string" } } } } } },
                "503": ref_response("The store is not reachable.", "Error"),
            },
        }),
        ("GET", "/metrics") => json!({
            "operationId": "metrics",
            "tags": ["operations"],
            "summary": "Prometheus metrics (counts, no content)",
            "security": [],
            "responses": {
                "200": { "description": "Prometheus text format 0.0.4: decisions by outcome, space and actor kind; findings per rule; evaluation latency; approvals pending and time to approval; exceptions active; drift open, scans by result, drift rate and time to remediation.",
                         "content": { "text/plain": { "schema": { "type": "string" } } } },
                "503": ref_response("The store could not be read.", "Error"),
            },
        }),
        ("GET", "/openapi.json") => json!({
            "operationId": "openapi",
            "tags": ["operations"],
            "summary": "This document",
            "security": [],
            "responses": { "200": { "description": "OpenAPI 3.1.",
                "content": { "application/json": { "schema": { "type": "object" } } } } },
        }),
        _ => return None,
    };
    Some(op)
}

fn too_many_requests() -> Value {
    json!({
        "description": "The token is over its rate limit (`warden serve --rate-limit`); nothing was done.",
        "headers": { "Retry-After": {
            "description": "Whole seconds until the token may make a request again.",
            "schema": { "type": "integer", "minimum": 1 } } },
        "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn id_param(what: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true,
            "schema": { "type": "integer", "format": "int64" }, "description": what })
}

fn body_ref(schema: &str, required: bool) -> Value {
    json!({ "required": required, "content": { "application/json": {
        "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn ref_response(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": {
        "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// Responses by status; an empty description gets the status's usual meaning.
fn responses(list: &[(&str, &str, Option<&str>)]) -> Value {
    let mut out = Map::new();
    for (status, description, schema) in list {
        let description = if description.is_empty() {
            match *status {
                "400" => "The request is malformed.",
                "401" => "No bearer token, or an unknown or revoked one.",
                "403" => "The token may not do this (role, kind or space).",
                "404" => "Not found.",
                "409" => "The object's state does not allow this.",
                _ => "",
            }
        } else {
            description
        };
        let value = match schema {
            Some(s) => ref_response(description, s),
            None => json!({ "description": description }),
        };
        out.insert((*status).to_owned(), value);
    }
    Value::Object(out)
}

fn components() -> Value {
    let mut out = base_components();
    if let Some(Value::Object(schemas)) = out.get_mut("schemas") {
        if let Value::Object(more) = environment_schemas() {
            schemas.extend(more);
        }
    }
    out
}

/// The schemas of the environment endpoints.
fn environment_schemas() -> Value {
    let string = json!({ "type": "string" });
    let nullable_string = json!({ "type": ["string", "null"] });
    let time = json!({ "type": ["string", "null"], "format": "date-time" });
    json!({
            "EnvironmentState": { "enum": ["pending_approval", "launching", "active", "expiring", "expired", "terminating", "terminated", "teardown_failed", "denied", "failed"] },
            "Blueprint": {
                "type": "object",
                "description": "A blueprint version: the parsed file (name, description, source, inputs, duration, spaces, cost) plus version, digest, published_by, published_at and the file as `document`.",
                "properties": {
                    "name": string, "version": { "type": "integer" }, "digest": string,
                    "published_by": string, "published_at": time, "document": string,
                    "inputs": { "type": "object" }, "duration": { "type": "object" },
                    "spaces": { "type": "array", "items": string }
                }
            },
            "BlueprintList": { "type": "object", "properties": { "blueprints": { "type": "array", "items": { "$ref": "#/components/schemas/Blueprint" } } } },
            "Environment": {
                "type": "object",
                "properties": {
                    "id": { "type": "integer", "format": "int64" }, "blueprint": string,
                    "version": { "type": "integer" }, "space": string, "owner": string,
                    "owner_kind": string, "inputs": { "type": "object" },
                    "state": { "$ref": "#/components/schemas/EnvironmentState" },
                    "created_at": time, "updated_at": time, "ends_at": time, "pending_ends_at": time,
                    "outputs": { "type": ["object", "null"] },
                    "monthly_cost": { "type": ["number", "null"] },
                    "decision_id": { "type": ["integer", "null"] }, "approval_id": { "type": ["integer", "null"] },
                    "teardown_attempts": { "type": "integer" }, "next_attempt_at": time,
                    "flagged_reason": nullable_string,
                    "events": { "type": "array", "items": { "type": "object" } }
                }
            },
            "EnvironmentList": { "type": "object", "properties": { "environments": { "type": "array", "items": { "$ref": "#/components/schemas/Environment" } } } },
            "EnvironmentAnswer": {
                "description": "The decision document (as /v1/evaluate answers, with decision_id, approval, approved_by, retry) plus the environment.",
                "allOf": [{ "$ref": DECISION_SCHEMA }],
                "properties": { "environment": { "$ref": "#/components/schemas/Environment" }, "error": string }
            },
            "LaunchRequest": {
                "type": "object", "required": ["blueprint", "space"], "additionalProperties": false,
                "properties": {
                    "blueprint": string, "space": string,
                    "inputs": { "type": "object", "description": "Input values by name; text is read as the declared type." },
                    "duration": { "type": "string", "description": "`30m`, `8h`, `3d`; the blueprint's default when absent." }
                }
            },
            "ExtendRequest": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "until": { "type": "string", "format": "date-time" },
                    "by": { "type": "string", "description": "A duration added to the current end." }
                }
            }
    })
}

fn base_components() -> Value {
    let string = json!({ "type": "string" });
    let nullable_string = json!({ "type": ["string", "null"] });
    let time = json!({ "type": ["string", "null"], "format": "date-time" });
    let mut components = json!({
        "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer",
                        "description": "A token from `warden token create` (only its hash is stored)." }
        },
        "schemas": {
            "Error": {
                "type": "object", "required": ["error"],
                "properties": { "error": { "type": "string", "description": "What went wrong." } }
            },
            "Operation": { "enum": ["apply", "launch", "extend", "terminate", "scale"] },
            "AuditVerification": {
                "type": "object",
                "required": ["intact", "records", "head", "broken"],
                "properties": {
                    "intact": { "type": "boolean" },
                    "records": { "type": "integer", "description": "Records checked up to the first break (all when intact)." },
                    "head": { "type": ["object", "null"], "description": "`seq` and `hash` of the last intact record.",
                              "properties": { "seq": { "type": "integer" }, "hash": { "type": "string" } } },
                    "broken": { "type": ["object", "null"], "description": "The first broken link.",
                                "properties": { "seq": { "type": "integer" }, "position": { "type": "integer" }, "reason": { "type": "string" } } }
                }
            },
            "ChangeRequest": {
                "type": "object",
                "description": "A change with what it does. A `launch` must not delete or replace; a `terminate` carries a Terraform destroy plan and only deletes. Approvals bind to the digest of `change` as text (a string as given; an object or array as compact JSON).",
                "required": ["operation", "change"],
                "additionalProperties": false,
                "properties": {
                    "operation": { "$ref": "#/components/schemas/Operation" },
                    "change": { "description": "A Terraform plan object, a Kubernetes object, an array of Kubernetes objects, or the document as text (YAML or JSON)." },
                    "context": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "space": { "type": "string" },
                            "environment": { "type": "string" },
                            "actor": { "type": "string", "description": "On whose behalf the token's principal asks (recorded as given)." },
                            "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                            "subject": { "type": "string", "description": "As the `subject` query parameter." },
                            "attempt": { "type": "integer", "minimum": 1, "description": "Which attempt at the subject this is, as the agent counts; it can only raise Warden's own count." }
                        }
                    }
                }
            },
            "AdmissionReview": {
                "type": "object",
                "description": "`admission.k8s.io/v1` AdmissionReview: a request from kube-apiserver (only the members Warden reads are listed; others are ignored) or Warden's response.",
                "required": ["apiVersion", "kind"],
                "properties": {
                    "apiVersion": { "const": "admission.k8s.io/v1" },
                    "kind": { "const": "AdmissionReview" },
                    "request": { "type": "object", "required": ["uid", "operation"], "properties": {
                        "uid": { "type": "string" },
                        "kind": { "type": "object", "properties": { "group": { "type": "string" }, "version": { "type": "string" }, "kind": { "type": "string" } } },
                        "resource": { "type": "object", "properties": { "group": { "type": "string" }, "version": { "type": "string" }, "resource": { "type": "string" } } },
                        "subResource": { "type": "string" },
                        "namespace": { "type": "string" },
                        "name": { "type": "string" },
                        "operation": { "enum": ["CREATE", "UPDATE", "DELETE"] },
                        "userInfo": { "type": "object", "properties": { "username": { "type": "string" }, "uid": { "type": "string" }, "groups": { "type": "array", "items": { "type": "string" } } } },
                        "object": { "type": ["object", "null"] },
                        "oldObject": { "type": ["object", "null"] },
                        "dryRun": { "type": "boolean" },
                        "options": { "type": ["object", "null"] }
                    } },
                    "response": { "type": "object", "required": ["uid", "allowed"], "properties": {
                        "uid": { "type": "string", "description": "The request's uid." },
                        "allowed": { "type": "boolean" },
                        "status": { "type": "object", "properties": {
                            "code": { "const": 403 },
                            "message": { "type": "string", "description": "The blocking findings with their fix summaries, the decision id and, for require_approval, the approval request." }
                        } },
                        "warnings": { "type": "array", "items": { "type": "string" }, "description": "One per warn finding (`RULE: message (fix: ...)`), at most 256 characters each." }
                    } }
                }
            },
            "EvaluateResponse": {
                "type": "object",
                "description": format!("The decision document ({DECISION_SCHEMA}: outcome, findings with why and fix, waived findings, unknowns, input digest) with the members the server adds."),
                "externalDocs": { "url": DECISION_SCHEMA },
                "required": ["outcome", "decision_id", "space"],
                "properties": {
                    "outcome": { "enum": ["allow", "warn", "require_approval", "deny"] },
                    "decision_id": { "type": "integer", "format": "int64", "description": "The recorded decision." },
                    "space": string,
                    "approval": { "$ref": "#/components/schemas/Approval", "description": "The approval request a `require_approval` decision opened." },
                    "approved_by": { "$ref": "#/components/schemas/Approval", "description": "The approved request that turned this change's `require_approval` into `allow`." },
                    "retry": { "$ref": "#/components/schemas/RetryHint" },
                    "memoized": { "type": "boolean", "description": "Present (true) when the same change (document digest, policy revision, space, operation, date) was evaluated before and its evaluation was given again without parsing it; exceptions, approvals and the record applied as to any request. Never under Rego or Kyverno policies (they may read the clock); `warden serve --decision-memo 0` turns it off." },
                    "request": {
                        "type": "object",
                        "description": "For a change request: what it said it does.",
                        "properties": {
                            "operation": { "$ref": "#/components/schemas/Operation" },
                            "environment": { "type": ["string", "null"] },
                            "on_behalf_of": { "type": ["string", "null"], "description": "`context.actor`, as the requester gave it." },
                            "labels": { "type": "object", "additionalProperties": { "type": "string" } }
                        }
                    }
                },
                "additionalProperties": true
            },
            "RetryHint": {
                "type": "object",
                "description": "Only for agent tokens, and only when the outcome is not `allow`: what to change before evaluating again.",
                "required": ["change"],
                "properties": {
                    "change": {
                        "type": "array",
                        "description": "One entry per active finding that holds the outcome above `allow` (advisory and waived findings left out).",
                        "items": {
                            "type": "object",
                            "properties": {
                                "rule_id": string,
                                "resource": string,
                                "attribute": nullable_string,
                                "enforcement": { "enum": ["warn", "require_approval", "deny"] },
                                "fix": { "type": ["string", "null"], "description": "The rule's fix summary; null when the rule has none." }
                            }
                        }
                    },
                    "approval_id": { "type": "integer", "format": "int64", "description": "The approval request opened for this exact change; once approved, the same change is allowed unchanged." },
                    "subject": { "type": "string", "description": "What the attempts are counted on: the request's subject, or `resources:sha256:…` derived from the addresses the change touches." },
                    "attempt": { "type": "integer", "description": "This attempt's number at the subject (1 for the first): Warden's count of this agent's decisions on it not allowed in a row, plus one, or `context.attempt` when higher." },
                    "max_attempts": { "type": "integer", "description": "`[agents] max-attempts` (0: never escalates)." },
                    "remaining_attempts": { "type": ["integer", "null"], "description": "Attempts left before a denied one escalates to require_approval; null without a cap." },
                    "escalated": { "type": "boolean", "description": "The deny findings were held for approval instead (WD-AGENT-001)." },
                    "history": {
                        "type": "array",
                        "description": "The earlier attempts not allowed, newest first.",
                        "items": {
                            "type": "object",
                            "properties": {
                                "decision_id": { "type": "integer", "format": "int64" },
                                "input_digest": string,
                                "outcome": { "enum": ["allow", "warn", "require_approval", "deny"] },
                                "at": string
                            }
                        }
                    }
                }
            },
            "ApprovalState": { "enum": ["pending", "approved", "rejected", "expired", "superseded"] },
            "Approval": {
                "type": "object",
                "properties": {
                    "id": { "type": "integer", "format": "int64" },
                    "space": string,
                    "subject": string,
                    "change_digest": { "type": "string", "description": "The digest of the exact change the request is bound to." },
                    "decision_id": { "type": ["integer", "null"], "format": "int64" },
                    "state": { "$ref": "#/components/schemas/ApprovalState" },
                    "requested_by": string,
                    "requester_kind": { "enum": ["human", "agent", "pipeline"] },
                    "required": { "type": "integer", "description": "How many approvers it needs." },
                    "approver_roles": { "type": "array", "items": string },
                    "approvers": { "type": "array", "items": string },
                    "created_at": time,
                    "expires_at": time,
                    "resolved_at": time,
                    "resolved_by": nullable_string,
                    "reason": nullable_string
                }
            },
            "DecisionSummary": {
                "type": "object",
                "properties": {
                    "id": { "type": "integer", "format": "int64" },
                    "space": nullable_string,
                    "actor": string,
                    "actor_kind": { "enum": ["human", "agent", "pipeline", "system"] },
                    "outcome": { "enum": ["allow", "warn", "require_approval", "deny"] },
                    "input_digest": string,
                    "policy_revision": string,
                    "approval_id": { "type": ["integer", "null"], "description": "The approved request the decision cites." },
                    "subject": nullable_string,
                    "attempt": { "type": ["integer", "null"] },
                    "cost_delta": { "type": ["number", "null"], "description": "Monthly cost delta in USD, when estimated." },
                    "created_at": time,
                }
            },
            "DecisionList": {
                "type": "object", "required": ["decisions", "next_before"],
                "properties": {
                    "decisions": { "type": "array", "items": { "$ref": "#/components/schemas/DecisionSummary" } },
                    "next_before": { "type": ["integer", "null"], "description": "`before` for the next page; null on the last." }
                }
            },
            "StoredDecision": {
                "type": "object",
                "description": "A decision's columns (as `DecisionSummary`, without subject, attempt and cost_delta) and its document.",
                "properties": {
                    "id": { "type": "integer", "format": "int64" },
                    "outcome": { "enum": ["allow", "warn", "require_approval", "deny"] },
                    "decision": { "$ref": DECISION_SCHEMA }
                }
            },
            "ApprovalList": {
                "type": "object", "required": ["approvals"],
                "properties": { "approvals": { "type": "array", "items": { "$ref": "#/components/schemas/Approval" } } }
            },
            "ApproveBody": {
                "type": "object", "additionalProperties": false,
                "properties": { "note": string }
            },
            "RejectBody": {
                "type": "object", "additionalProperties": false, "required": ["reason"],
                "properties": { "reason": string }
            },
            "ExceptionRequest": {
                "type": "object", "additionalProperties": false,
                "required": ["rule", "resource", "justification", "days"],
                "properties": {
                    "rule": { "type": "string", "description": "Rule id, name, id prefix or `*`." },
                    "resource": { "type": "string", "description": "Resource address glob." },
                    "justification": string,
                    "ticket": nullable_string,
                    "days": { "type": "integer", "minimum": 1, "description": "How long it lasts, at most the space's maximum." }
                }
            },
            "Exception": {
                "type": "object",
                "properties": {
                    "id": { "type": "integer", "format": "int64" },
                    "space": string,
                    "rule": string,
                    "resource": string,
                    "justification": string,
                    "ticket": nullable_string,
                    "state": { "enum": ["requested", "granted", "rejected", "revoked", "expired"] },
                    "requested_by": string,
                    "requester_kind": { "enum": ["human", "agent", "pipeline"] },
                    "created_at": time,
                    "expires_at": time,
                    "decided_by": nullable_string,
                    "decided_at": time,
                    "reason": nullable_string
                }
            }
        }
    });
    if let (Some(Value::Object(schemas)), Value::Object(drift)) =
        (components.get_mut("schemas"), drift_schemas())
    {
        schemas.extend(drift);
    }
    components
}

/// The schemas of the drift endpoints.
fn drift_schemas() -> Value {
    let string = json!({ "type": "string" });
    let nullable_string = json!({ "type": ["string", "null"] });
    let time = json!({ "type": ["string", "null"], "format": "date-time" });
    json!({
        "KubernetesDriftBody": {
            "type": "object", "additionalProperties": false, "required": ["manifests", "live"],
            "properties": {
                "manifests": { "description": "The desired manifests: YAML or JSON text, or JSON (an object, an array, a List)." },
                "live": { "description": "`kubectl get -o json` output: one object or a List." },
                "default_namespace": { "type": "string", "description": "The namespace of manifests that set none (`default`)." },
                "include_extra": { "type": "boolean", "description": "Report live objects the manifests do not describe." }
            }
        },
        "DriftScan": {
            "type": "object",
            "properties": {
                "id": { "type": "integer", "format": "int64" },
                "space": string, "target": string,
                "source": { "enum": ["api", "schedule", "teardown"] },
                "actor": string,
                "started_at": time, "finished_at": time,
                "compared": { "type": "integer" },
                "drifted": { "type": "integer" },
                "result": { "enum": ["clean", "drift", "error"] },
                "error": nullable_string,
                "summary": { "type": "object", "description": "The report's counts." }
            }
        },
        "Attribution": {
            "type": "object",
            "description": "Who made the change as far as Warden's records tell: the newest decision in the space that touched the address since the target's last successful scan, or out of band.",
            "properties": {
                "via": { "enum": ["warden-api", "admission", "out-of-band"] },
                "decision_id": { "type": "integer", "format": "int64" },
                "actor": nullable_string,
                "actor_kind": string,
                "at": time,
                "outcome": string,
                "summary": string
            }
        },
        "DriftEvent": {
            "type": "object",
            "properties": {
                "id": { "type": "integer", "format": "int64" },
                "space": string, "target": string, "address": string, "resource_kind": string,
                "status": { "enum": ["changed", "deleted", "missing", "extra"] },
                "state": { "enum": ["open", "resolved"] },
                "changes": { "type": "array", "description": "The attribute diff as last seen (secrets masked)." },
                "introduced": { "type": "array", "description": "The violations the drift introduces." },
                "severity": nullable_string,
                "attribution": { "$ref": "#/components/schemas/Attribution" },
                "remediation": { "type": "object", "description": "`suggested` (revert or adopt), `reason`, `revert`, `adopt`." },
                "opened_scan": { "type": "integer", "format": "int64" },
                "opened_at": time,
                "last_scan": { "type": "integer", "format": "int64" },
                "last_seen_at": time,
                "resolved_scan": { "type": ["integer", "null"], "format": "int64" },
                "resolved_at": time
            }
        },
        "DriftList": {
            "type": "object", "required": ["drift"],
            "properties": { "drift": { "type": "array", "items": { "$ref": "#/components/schemas/DriftEvent" } } }
        },
        "DriftScanResult": {
            "type": "object", "required": ["scan", "resolved", "text"],
            "properties": {
                "scan": { "$ref": "#/components/schemas/DriftScan" },
                "report": { "type": "object", "description": "The drift report (docs/schemas/drift.schema.json); each drifted resource also carries `event_id`, `event` (`opened` or `kept`) and `attribution`." },
                "resolved": { "type": "array", "items": { "$ref": "#/components/schemas/DriftEvent" } },
                "text": { "type": "string", "description": "The report as `warden drift` prints it, with attribution and resolutions." }
            }
        }
    })
}
