//! The Kubernetes validating admission webhook: `POST /v1/admission?space=NAME`.
//!
//! kube-apiserver sends an `AdmissionReview` (`admission.k8s.io/v1`) for every object the
//! `ValidatingWebhookConfiguration` matches; the object (the `oldObject` for a `DELETE`) is
//! evaluated by the same layered policies as `warden check` and `/v1/evaluate` in the space
//! (`?space=`, else [`AdmissionSettings::default_space`]), the decision is recorded with
//! its audit record, and the answer is an `AdmissionReview` carrying the request's `uid`:
//!
//! - `deny` → `allowed: false`, `status {code: 403, message}` naming the blocking findings
//!   with their fix summaries;
//! - `require_approval` → `allowed: false`, the message naming the approval request opened
//!   (bound to the object's digest: once approved, the same object is admitted);
//! - `warn` → `allowed: true` with each warn finding in `warnings` (Kyverno `Audit`
//!   policies give warn findings: they never block);
//! - `allow` → `allowed: true`.
//!
//! The actor is `userInfo.username`: an agent when it is in [`AdmissionSettings::agents`]
//! (`system:serviceaccount:NS:NAME` of an agent's service account), a pipeline when in
//! [`AdmissionSettings::pipelines`], else a human. A `dryRun` request is evaluated and
//! recorded like any other, but opens no approval request; every request is followed by an
//! `admission.reviewed` audit record (uid, operation, resource, user, groups, `dry_run`,
//! `allowed`, the decision id).
//!
//! Authentication is the TLS connection kube-apiserver makes (it sends no bearer token), so
//! the endpoint answers only when the server runs with TLS ([`AdmissionSettings::enabled`]);
//! no other endpoint is opened without a token.
//!
//! An `AdmissionReview` that is not one (wrong `apiVersion`/`kind`, no `request.uid`, an
//! object that is not an object, an unknown operation) is a 400 naming the field.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use warden_core::{Action, ActorKind, Enforcement, Finding, Outcome};
use warden_store::{Actor, AuditEvent};

use crate::error::ApiError;
use crate::ops::{self, AppState, EvaluateRequest};

/// The AdmissionReview version served.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// The space admission requests are evaluated in unless the query names one.
pub const DEFAULT_SPACE: &str = "cluster";

/// Longest warning sent back (kube-apiserver may truncate longer ones).
const MAX_WARNING: usize = 256;

/// Most warning text sent back in all (kube-apiserver drops warnings past 4 KiB).
const MAX_WARNINGS_TOTAL: usize = 4000;

/// Blocking findings named in a denial's message before "and N more".
const MAX_BLOCKING_NAMED: usize = 5;

/// Metadata the API server sets on an object; removed before evaluation so the same
/// manifest applied again has the same digest (approvals are bound to it).
const SERVER_SET_METADATA: [&str; 5] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
];

/// How the webhook maps requests to spaces and users to actors.
#[derive(Debug, Clone)]
pub struct AdmissionSettings {
    /// Whether `/v1/admission` answers at all (only behind TLS: it takes no token).
    pub enabled: bool,
    /// The space used when the request's query names none.
    pub default_space: String,
    /// Usernames (globs with `*`) that are AI agents, e.g.
    /// `system:serviceaccount:agents:claude-infra`.
    pub agents: Vec<String>,
    /// Usernames (globs with `*`) that are pipelines, e.g. `system:serviceaccount:ci:*`.
    pub pipelines: Vec<String>,
}

impl Default for AdmissionSettings {
    fn default() -> AdmissionSettings {
        AdmissionSettings {
            enabled: false,
            default_space: DEFAULT_SPACE.to_owned(),
            agents: Vec::new(),
            pipelines: Vec::new(),
        }
    }
}

impl AdmissionSettings {
    /// The actor kind of a username.
    #[must_use]
    pub fn kind_of(&self, username: &str) -> ActorKind {
        let listed = |list: &[String]| {
            list.iter()
                .any(|p| warden_core::exceptions::glob_matches(p, username))
        };
        if listed(&self.agents) {
            ActorKind::Agent
        } else if listed(&self.pipelines) {
            ActorKind::Pipeline
        } else {
            ActorKind::Human
        }
    }
}

/// The operation of an admission request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `CREATE`.
    Create,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl Operation {
    /// As the API server writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }

    fn action(self) -> Action {
        match self {
            Operation::Create => Action::Create,
            Operation::Update => Action::Update,
            Operation::Delete => Action::Delete,
        }
    }
}

/// `request.userInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// `username` (`system:serviceaccount:NS:NAME` for a service account).
    pub username: String,
    /// `uid`.
    pub uid: Option<String>,
    /// `groups`.
    pub groups: Vec<String>,
}

/// The parts of an `AdmissionReview` request the webhook uses (unknown fields ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct AdmissionRequest {
    /// `request.uid`, echoed in the response.
    pub uid: String,
    /// `request.kind` as `group/version/Kind` (`v1/Pod` for the core group).
    pub kind: String,
    /// `request.resource` as `group/version/resource`.
    pub resource: String,
    /// `request.subResource`, when the request is for one.
    pub sub_resource: Option<String>,
    /// `request.namespace`.
    pub namespace: Option<String>,
    /// `request.name`.
    pub name: Option<String>,
    /// `request.operation`.
    pub operation: Operation,
    /// `request.userInfo`.
    pub user: UserInfo,
    /// `request.object` (`None` for a `DELETE`).
    pub object: Option<Value>,
    /// `request.oldObject` (for `UPDATE` and `DELETE`).
    pub old_object: Option<Value>,
    /// `request.dryRun`.
    pub dry_run: bool,
    /// The whole request as sent (Rego policies read it as `input.review`).
    pub raw: Value,
}

/// Reads an `AdmissionReview` body; errors name the field.
pub fn parse(body: &[u8]) -> Result<AdmissionRequest, ApiError> {
    let review: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the AdmissionReview is not valid JSON: {e}"))
    })?;
    let Value::Object(mut review) = review else {
        return Err(ApiError::bad_request(
            "the AdmissionReview is not a JSON object",
        ));
    };
    match review.get("apiVersion").and_then(Value::as_str) {
        Some(API_VERSION) => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`apiVersion` is `{other}`; this webhook serves `{API_VERSION}` (set admissionReviewVersions: [v1])"
            )))
        }
        None => {
            return Err(ApiError::bad_request(format!(
                "`apiVersion` is missing (expected `{API_VERSION}`)"
            )))
        }
    }
    if review.get("kind").and_then(Value::as_str) != Some("AdmissionReview") {
        return Err(ApiError::bad_request("`kind` must be `AdmissionReview`"));
    }
    let raw = match review.remove("request") {
        Some(Value::Object(r)) => r,
        Some(_) => return Err(ApiError::bad_request("`request` is not an object")),
        None => return Err(ApiError::bad_request("`request` is missing")),
    };
    let text = |field: &str| -> Result<Option<String>, ApiError> {
        match raw.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad_request(format!(
                "`request.{field}` is not a string"
            ))),
        }
    };
    let uid = text("uid")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::bad_request("`request.uid` is missing"))?;
    let operation = match text("operation")?.as_deref() {
        Some("CREATE") => Operation::Create,
        Some("UPDATE") => Operation::Update,
        Some("DELETE") => Operation::Delete,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`request.operation` is `{other}`; the webhook evaluates CREATE, UPDATE and DELETE"
            )))
        }
        None => return Err(ApiError::bad_request("`request.operation` is missing")),
    };
    let gvk = |field: &str, last: &str| -> Result<String, ApiError> {
        let Some(v) = raw.get(field) else {
            return Ok(String::new());
        };
        let part = |name: &str| match v.get(name) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(_) => Err(ApiError::bad_request(format!(
                "`request.{field}.{name}` is not a string"
            ))),
        };
        if !v.is_object() {
            return Err(ApiError::bad_request(format!(
                "`request.{field}` is not an object"
            )));
        }
        let (group, version, name) = (part("group")?, part("version")?, part(last)?);
        Ok(if group.is_empty() {
            format!("{version}/{name}")
        } else {
            format!("{group}/{version}/{name}")
        })
    };
    let kind = gvk("kind", "kind")?;
    let resource = gvk("resource", "resource")?;
    let object = |field: &str| match raw.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(ApiError::bad_request(format!(
            "`request.{field}` is not an object"
        ))),
    };
    let (object, old_object) = (object("object")?, object("oldObject")?);
    match operation {
        Operation::Create | Operation::Update if object.is_none() => {
            return Err(ApiError::bad_request(format!(
                "`request.object` is missing (required for {})",
                operation.as_str()
            )))
        }
        Operation::Delete if old_object.is_none() => {
            return Err(ApiError::bad_request(
                "`request.oldObject` is missing (required for DELETE)",
            ))
        }
        _ => {}
    }
    let user = match raw.get("userInfo") {
        None | Some(Value::Null) => UserInfo::default(),
        Some(Value::Object(u)) => UserInfo {
            username: match u.get("username") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "`request.userInfo.username` is not a string",
                    ))
                }
            },
            uid: u.get("uid").and_then(Value::as_str).map(str::to_owned),
            groups: match u.get("groups") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(g)) => g
                    .iter()
                    .map(|g| {
                        g.as_str().map(str::to_owned).ok_or_else(|| {
                            ApiError::bad_request(
                                "`request.userInfo.groups` holds something that is not a string",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "`request.userInfo.groups` is not a list",
                    ))
                }
            },
        },
        Some(_) => return Err(ApiError::bad_request("`request.userInfo` is not an object")),
    };
    let dry_run = match raw.get("dryRun") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("`request.dryRun` is not a boolean")),
    };
    Ok(AdmissionRequest {
        uid,
        kind,
        resource,
        sub_resource: text("subResource")?.filter(|s| !s.is_empty()),
        namespace: text("namespace")?.filter(|s| !s.is_empty()),
        name: text("name")?.filter(|s| !s.is_empty()),
        operation,
        user,
        object,
        old_object,
        dry_run,
        raw: Value::Object(raw),
    })
}

/// The object as evaluated: `apiVersion`/`kind` from `request.kind` and
/// `metadata.namespace` from `request.namespace` when the object leaves them out, and the
/// metadata the API server sets removed ([`SERVER_SET_METADATA`]).
fn normalized(mut object: Value, request: &AdmissionRequest) -> Value {
    let Value::Object(map) = &mut object else {
        return object;
    };
    if !map.contains_key("kind") || !map.contains_key("apiVersion") {
        if let Some((api, kind)) = request.kind.rsplit_once('/') {
            map.entry("apiVersion").or_insert_with(|| json!(api));
            map.entry("kind").or_insert_with(|| json!(kind));
        }
    }
    let metadata = map.entry("metadata").or_insert_with(|| json!({}));
    if let Value::Object(metadata) = metadata {
        for key in SERVER_SET_METADATA {
            metadata.remove(key);
        }
        if let Some(ns) = &request.namespace {
            metadata.entry("namespace").or_insert_with(|| json!(ns));
        }
        if let Some(name) = &request.name {
            metadata.entry("name").or_insert_with(|| json!(name));
        }
    }
    object
}

/// The actor an admission request is made by.
#[must_use]
pub fn actor(settings: &AdmissionSettings, user: &UserInfo) -> Actor {
    let principal = if user.username.is_empty() {
        "system:anonymous".to_owned()
    } else {
        user.username.clone()
    };
    Actor {
        kind: Some(settings.kind_of(&principal)),
        principal,
        roles: Vec::new(),
    }
}

/// Handles one `AdmissionReview` body: evaluates, records and answers (see the module
/// documentation). The answer is the response `AdmissionReview`.
pub async fn review(state: &AppState, space: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    let settings = Arc::clone(&state.admission);
    if !settings.enabled {
        return Err(ApiError::NotFound(
            "the admission webhook is served only over TLS (warden serve --tls-cert FILE --tls-key FILE)"
                .into(),
        ));
    }
    let request = parse(body)?;
    let space = space
        .filter(|s| !s.is_empty())
        .unwrap_or(&settings.default_space)
        .to_owned();
    let actor = actor(&settings, &request.user);
    let evaluated = match request.operation {
        Operation::Delete => request.old_object.clone(),
        Operation::Create | Operation::Update => request.object.clone(),
    }
    .map(|o| normalized(o, &request))
    .ok_or_else(|| ApiError::bad_request("`request.object` is missing"))?;
    let document = serde_json::to_vec(&evaluated).map_err(|e| ApiError::Internal {
        public: "the object could not be serialized".into(),
        detail: e.to_string(),
    })?;
    let old = match request.operation {
        Operation::Update => request
            .old_object
            .clone()
            .map(|o| warden_core::Value::from_json(&normalized(o, &request))),
        Operation::Create | Operation::Delete => None,
    };
    let operation = request.operation;
    let review = warden_core::Value::from_json(&request.raw);
    let (principal, kind) = (actor.principal.clone(), actor.kind.unwrap_or_default());
    let prepare: ops::Prepare = Box::new(move |change: &mut warden_core::ChangeSet| {
        if change.resources.len() != 1 {
            return Err(ApiError::bad_request(
                "`request.object` must be one Kubernetes object (a List is not admitted)",
            ));
        }
        for r in &mut change.resources {
            r.action = operation.action();
            match operation {
                Operation::Create => {}
                Operation::Update => r.before = old.clone().unwrap_or_default(),
                Operation::Delete => r.before = std::mem::take(&mut r.after),
            }
        }
        change.context.actor = Some(principal);
        change.context.actor_kind = kind;
        change.context.operation = Some(operation.as_str().to_ascii_lowercase());
        change.context.review = Some(review);
        Ok(())
    });
    let subject = format!(
        "admission:{}/{}/{}",
        request.kind,
        request.namespace.as_deref().unwrap_or("-"),
        request.name.as_deref().unwrap_or("-")
    );
    let reviewed = {
        let (uid, operation, kind) = (
            request.uid.clone(),
            request.operation.as_str(),
            request.kind.clone(),
        );
        let (resource, sub_resource) = (request.resource.clone(), request.sub_resource.clone());
        let (namespace, name) = (request.namespace.clone(), request.name.clone());
        let (user, user_uid, groups) = (
            actor.principal.clone(),
            request.user.uid.clone(),
            request.user.groups.clone(),
        );
        let (dry_run, space) = (request.dry_run, space.clone());
        // Stored in the decision's transaction: a review is never recorded without its
        // decision, or the other way round.
        let make: ops::FollowUp = Box::new(move |decision: &warden_core::Decision| {
            AuditEvent::new(
                "admission.reviewed",
                "decision",
                Some(&space),
                json!({
                    "uid": uid,
                    "operation": operation,
                    "kind": kind,
                    "resource": resource,
                    "sub_resource": sub_resource,
                    "namespace": namespace,
                    "name": name,
                    "user": user,
                    "user_uid": user_uid,
                    "groups": groups,
                    "dry_run": dry_run,
                    "allowed": matches!(decision.outcome, Outcome::Allow | Outcome::Warn),
                    "outcome": decision.outcome.as_str(),
                }),
            )
        });
        make
    };
    let decided = ops::decide(
        state,
        &actor,
        EvaluateRequest {
            space: &space,
            subject: Some(&subject),
            body: &document,
            request: None,
            open_approval: !request.dry_run,
            checkpoint: None,
        },
        Some(prepare),
        Some(reviewed),
    )
    .await?;
    let response = response(&request, &space, &decided);
    Ok(response)
}

/// The response `AdmissionReview` for a recorded decision.
#[must_use]
pub fn response(request: &AdmissionRequest, space: &str, decided: &ops::Decided) -> Value {
    let decision = &decided.decision;
    let mut response = Map::new();
    response.insert("uid".into(), json!(request.uid));
    let allowed = matches!(decision.outcome, Outcome::Allow | Outcome::Warn);
    response.insert("allowed".into(), json!(allowed));
    if !allowed {
        response.insert(
            "status".into(),
            json!({ "code": 403, "message": denial(request, space, decided) }),
        );
    }
    let warnings = warnings(&decision.findings);
    if !warnings.is_empty() {
        response.insert("warnings".into(), json!(warnings));
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": "AdmissionReview",
        "response": response,
    })
}

/// `RULE: message (fix: summary)` for a finding.
fn line(f: &Finding) -> String {
    match &f.fix {
        Some(fix) => format!("{}: {} (fix: {})", f.rule_id, f.message, fix.description),
        None => format!("{}: {}", f.rule_id, f.message),
    }
}

/// The message of a refusal: what blocks, how to fix it, where the decision is.
fn denial(request: &AdmissionRequest, space: &str, decided: &ops::Decided) -> String {
    let decision = &decided.decision;
    let blocking = match decision.outcome {
        Outcome::RequireApproval => Enforcement::RequireApproval,
        _ => Enforcement::Deny,
    };
    let found: Vec<&Finding> = decision
        .findings
        .iter()
        .filter(|f| f.enforcement == blocking)
        .collect();
    let mut parts: Vec<String> = found
        .iter()
        .take(MAX_BLOCKING_NAMED)
        .map(|f| line(f))
        .collect();
    if found.len() > MAX_BLOCKING_NAMED {
        parts.push(format!("and {} more", found.len() - MAX_BLOCKING_NAMED));
    }
    parts.extend(
        decision
            .errors
            .iter()
            .map(|e| format!("{} engine error: {}", e.engine, e.message)),
    );
    let what = format!(
        "{} {}{}",
        request.operation.as_str(),
        request.kind,
        request
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default()
    );
    let head = match (decision.outcome, &decided.opened) {
        (Outcome::RequireApproval, Some(a)) => format!(
            "warden: {what} requires approval: approval request {} in space {space} (`warden approvals approve {}`); once approved, the same object is admitted",
            a.id, a.id
        ),
        (Outcome::RequireApproval, None) => format!(
            "warden: {what} requires approval (dry run: no approval request opened)"
        ),
        _ => format!("warden: {what} denied"),
    };
    let mut message = format!(
        "{head} (decision {}): {}",
        decided.record_id,
        parts.join("; ")
    );
    truncate(&mut message, 1024);
    message
}

/// Each warn finding as a warning, within kube-apiserver's limits.
fn warnings(findings: &[Finding]) -> Vec<String> {
    let mut out = Vec::new();
    let mut total = 0;
    for f in findings
        .iter()
        .filter(|f| f.enforcement == Enforcement::Warn)
    {
        let mut w = line(f);
        truncate(&mut w, MAX_WARNING);
        total += w.len();
        if total > MAX_WARNINGS_TOTAL {
            break;
        }
        out.push(w);
    }
    out
}

/// Cuts `s` to at most `max` bytes on a character boundary, ending in `…`.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: &Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": API_VERSION, "kind": "AdmissionReview", "request": request
        }))
        .unwrap_or_default()
    }

    fn error(body: &[u8]) -> String {
        parse(body).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn malformed_reviews_name_the_field() {
        assert!(error(b"[").contains("not valid JSON"));
        assert!(error(br#"{"kind": "AdmissionReview"}"#).contains("`apiVersion` is missing"));
        assert!(
            error(br#"{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}"#)
                .contains("admission.k8s.io/v1beta1")
        );
        assert!(error(&review(&json!({"operation": "CREATE"}))).contains("`request.uid`"));
        assert!(error(&review(&json!({"uid": "u", "operation": "PATCH"})))
            .contains("`request.operation` is `PATCH`"));
        assert!(error(&review(
            &json!({"uid": "u", "operation": "CREATE", "object": 3})
        ))
        .contains("`request.object` is not an object"));
        assert!(error(&review(&json!({"uid": "u", "operation": "DELETE"})))
            .contains("`request.oldObject` is missing"));
        assert!(error(&review(&json!({
            "uid": "u", "operation": "CREATE", "object": {},
            "userInfo": {"groups": "system:masters"}
        })))
        .contains("`request.userInfo.groups`"));
        assert!(error(&review(&json!({
            "uid": "u", "operation": "CREATE", "object": {}, "kind": {"kind": 1}
        })))
        .contains("`request.kind.kind`"));
    }

    #[test]
    fn requests_are_read_and_objects_normalized() {
        let body = review(&json!({
            "uid": "705ab4f5", "operation": "CREATE", "namespace": "shop",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "userInfo": {"username": "system:serviceaccount:agents:bot", "groups": ["a"]},
            "object": {"metadata": {"name": "web", "uid": "x", "managedFields": []}},
            "dryRun": true, "unknown": {"ignored": true}
        }));
        let r = parse(&body).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(r.kind, "apps/v1/Deployment");
        assert_eq!(r.resource, "apps/v1/deployments");
        assert!(r.dry_run);
        let object = normalized(r.object.clone().unwrap_or_default(), &r);
        assert_eq!(
            object,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "shop"}})
        );
        let settings = AdmissionSettings {
            agents: vec!["system:serviceaccount:agents:*".into()],
            pipelines: vec!["system:serviceaccount:ci:deployer".into()],
            ..AdmissionSettings::default()
        };
        assert_eq!(actor(&settings, &r.user).kind, Some(ActorKind::Agent));
        assert_eq!(
            settings.kind_of("system:serviceaccount:ci:deployer"),
            ActorKind::Pipeline
        );
        assert_eq!(settings.kind_of("alice"), ActorKind::Human);
        assert_eq!(
            actor(&settings, &UserInfo::default()).principal,
            "system:anonymous"
        );
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        let mut s = "ééééé".to_owned();
        truncate(&mut s, 6);
        assert_eq!(s, "é…");
        let mut s = "short".to_owned();
        truncate(&mut s, 6);
        assert_eq!(s, "short");
    }
}
