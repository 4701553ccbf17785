//! Structured change requests: the body of `POST /v1/evaluate` when it says what is being
//! done, not only the change.
//!
//! ```json
//! {"operation": "launch",
//!  "change": {"format_version": "1.2", "resource_changes": [...]},
//!  "context": {"space": "dev", "environment": "pr-123", "actor": "claude-infra",
//!              "labels": {"ticket": "OPS-7"}, "subject": "env/pr-123"}}
//! ```
//!
//! - `operation`: `apply`, `launch`, `extend`, `terminate` or `scale`.
//! - `change`: what the operation does — a Terraform plan (object), a Kubernetes object or an
//!   array of them, or the document as text (YAML or JSON). Its digest, the one approvals are
//!   bound to, is that of this text: a string as given, an object or array as compact JSON
//!   (array items as YAML documents of JSON).
//! - `context` (optional): `space` (used when the query does not name one; both must agree),
//!   `environment`, `actor` (on whose behalf the token's principal asks), `labels` (strings),
//!   `subject` (as the `subject` query parameter).
//!
//! The operation must fit the change: a `launch` creates (no delete or replace), a
//! `terminate` only deletes. A request that does not fit is a 400, not a decision.
//! Unknown members anywhere are 400s naming them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};
use warden_core::{Action, ChangeSet};

use crate::error::ApiError;

/// What a change request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Apply a change to existing infrastructure.
    Apply,
    /// Create an environment.
    Launch,
    /// Extend an environment's life (its change, if any, is evaluated as given).
    Extend,
    /// Destroy an environment.
    Terminate,
    /// Change an environment's size.
    Scale,
}

impl Operation {
    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "apply",
            Operation::Launch => "launch",
            Operation::Extend => "extend",
            Operation::Terminate => "terminate",
            Operation::Scale => "scale",
        }
    }

    /// Checks that the operation fits the parsed change.
    pub fn check_fits(self, change: &ChangeSet) -> Result<(), ApiError> {
        let offending = |bad: &dyn Fn(Action) -> bool| {
            change
                .resources
                .iter()
                .find(|r| bad(r.action))
                .map(|r| format!("{} ({})", r.address, r.action.as_str()))
        };
        let problem = match self {
            Operation::Launch => {
                offending(&|a| matches!(a, Action::Delete | Action::Replace)).map(|r| {
                    format!(
                        "a `launch` creates an environment, but the change deletes or replaces {r}"
                    )
                })
            }
            Operation::Terminate => {
                if change.input.kind != warden_core::InputKind::TerraformPlan {
                    Some("a `terminate` carries the destroy plan (Terraform); manifests cannot say what is deleted".to_owned())
                } else {
                    offending(&|a| {
                        !matches!(
                            a,
                            Action::Delete | Action::Forget | Action::NoOp | Action::Read
                        )
                    })
                    .map(|r| format!("a `terminate` only deletes, but the change has {r}"))
                }
            }
            Operation::Apply | Operation::Extend | Operation::Scale => None,
        };
        match problem {
            Some(p) => Err(ApiError::bad_request(p)),
            None => Ok(()),
        }
    }
}

/// `context` of a change request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestContext {
    /// On whose behalf the token's principal asks.
    pub actor: Option<String>,
    /// The space (when the query names none).
    pub space: Option<String>,
    /// The environment the change is for.
    pub environment: Option<String>,
    /// Free labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// What the change is about, stable across re-plans.
    pub subject: Option<String>,
    /// Which attempt at the subject this is, as the agent counts (the agent retry contract:
    /// Warden counts too, and this can only raise its count).
    pub attempt: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    operation: Value,
    change: Option<Value>,
    #[serde(default)]
    context: RequestContext,
}

/// A structured change request, its change as the document text to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRequest {
    /// What is being done.
    pub operation: Operation,
    /// The change's document text.
    pub document: Vec<u8>,
    /// Who, where, what for.
    pub context: RequestContext,
}

impl ChangeRequest {
    /// The `request` member of the response.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "operation": self.operation.as_str(),
            "environment": self.context.environment,
            "on_behalf_of": self.context.actor,
            "labels": self.context.labels,
        })
    }
}

/// The structured change request in a body, or `None` when the body is a plain document (a
/// plan or manifests). Cheap for plain documents: only a body that mentions `"operation"`
/// is parsed here, and only a JSON object with an `operation` member and none of a plan's
/// or a manifest's top-level members is a change request.
pub fn parse(body: &[u8]) -> Result<Option<ChangeRequest>, ApiError> {
    const KEY: &[u8] = b"\"operation\"";
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    if start.is_none_or(|i| body[i] != b'{') || memchr::memmem::find(body, KEY).is_none() {
        return Ok(None);
    }
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return Ok(None); // not JSON: the document parser says why
    };
    let is_document = ["resource_changes", "format_version", "apiVersion", "kind"]
        .iter()
        .any(|k| top.contains_key(*k));
    if is_document || !top.contains_key("operation") {
        return Ok(None);
    }
    let raw: RawRequest = serde_json::from_value(Value::Object(top))
        .map_err(|e| ApiError::bad_request(format!("change request: {e}")))?;
    let operation: Operation = serde_json::from_value(raw.operation.clone()).map_err(|_| {
        ApiError::bad_request(format!(
            "change request: `operation` is {}; expected apply, launch, extend, terminate or scale",
            raw.operation
        ))
    })?;
    let document = match raw.change {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(format!(
                "change request: `change` is required: the plan or manifests the `{}` makes",
                operation.as_str()
            )))
        }
        Some(Value::String(text)) => text.into_bytes(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    return Err(ApiError::bad_request(format!(
                        "change request: `change[{i}]` is not an object (a Kubernetes manifest)"
                    )));
                }
                if i > 0 {
                    out.extend_from_slice(b"\n---\n");
                }
                out.extend(serde_json::to_vec(item).unwrap_or_default());
            }
            out
        }
        Some(v @ Value::Object(_)) => serde_json::to_vec(&v).unwrap_or_default(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "change request: `change` must be a plan or manifest object, an array of manifests, or the document as text; found {other}"
            )))
        }
    };
    if document.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("change request: `change` is empty"));
    }
    Ok(Some(ChangeRequest {
        operation,
        document,
        context: raw.context,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        match parse(body.as_bytes()) {
            Err(ApiError::BadRequest { message, .. }) => message,
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn plain_documents_are_not_change_requests() {
        for body in [
            r#"{"format_version":"1.2","resource_changes":[]}"#,
            r#"{"format_version":"1.2","resource_changes":[{"operation":"x"}]}"#,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: operation\n",
            r#"{"apiVersion":"v1","kind":"ConfigMap","data":{"operation":"x"}}"#,
            "{ not json \"operation\"",
        ] {
            assert_eq!(parse(body.as_bytes()).ok(), Some(None), "{body}");
        }
    }

    #[test]
    fn a_change_request_takes_an_object_an_array_or_text() {
        let r = parse(br#"{"operation":"launch","change":{"format_version":"1.2","resource_changes":[]},"context":{"environment":"pr-1","labels":{"t":"OPS-7"}}}"#)
            .ok()
            .flatten()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(r.operation, Operation::Launch);
        assert_eq!(
            String::from_utf8_lossy(&r.document),
            r#"{"format_version":"1.2","resource_changes":[]}"#
        );
        assert_eq!(r.context.environment.as_deref(), Some("pr-1"));
        assert_eq!(r.to_json()["labels"]["t"], "OPS-7");

        let r = parse(br#"{"operation":"scale","change":[{"kind":"A"},{"kind":"B"}]}"#)
            .ok()
            .flatten()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(
            String::from_utf8_lossy(&r.document),
            "{\"kind\":\"A\"}\n---\n{\"kind\":\"B\"}"
        );
        let r = parse(br#"{"operation":"apply","change":"apiVersion: v1\nkind: Pod\n"}"#)
            .ok()
            .flatten()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(r.document, b"apiVersion: v1\nkind: Pod\n");
    }

    #[test]
    fn malformed_change_requests_are_named() {
        assert!(err(r#"{"operation":"nuke","change":"x"}"#).contains("expected apply, launch"));
        assert!(err(r#"{"operation":"apply"}"#).contains("`change` is required"));
        assert!(err(r#"{"operation":"apply","change":3}"#).contains("`change` must be"));
        assert!(err(r#"{"operation":"apply","change":[1]}"#).contains("change[0]"));
        assert!(err(r#"{"operation":"apply","change":"x","extra":1}"#).contains("extra"));
        assert!(
            err(r#"{"operation":"apply","change":"x","context":{"team":"a"}}"#).contains("team")
        );
        assert!(err(r#"{"operation":"apply","change":"  "}"#).contains("empty"));
    }
}
