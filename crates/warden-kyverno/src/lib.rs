//! A Kyverno-compatible policy engine: `ClusterPolicy`/`Policy` validate rules evaluated over
//! Kubernetes resources, and a runner for `kyverno-test.yaml` files.
//!
//! The pieces, each one module with one job:
//!
//! ```text
//! policy.rs      YAML → typed policies (kyverno.io/v1, v2beta1), load errors with file and place
//! matching.rs    match / exclude (kinds, names, namespaces, selectors, operations, userinfo)
//! autogen.rs     pod-controller rules generated from Pod rules (autogen-, autogen-cronjob-)
//! variables.rs   {{ }} substitution, JMESPath with Kyverno's custom functions, context entries
//! conditions.rs  preconditions and deny conditions: every documented operator
//! pattern.rs     pattern / anyPattern with anchors and value operators
//! pod_security.rs podSecurity sub-rule: level, excludes; the checks are injected (PodSecurity)
//! engine.rs      one rule on one resource → pass | fail | skip | error; the warden Engine
//! cel.rs         CEL expressions: validate.cel, celPreconditions, ValidatingPolicy
//! vpol.rs        ValidatingPolicy: matchConstraints, autogen, validations
//! test_runner.rs kyverno-test.yaml → expected vs actual results
//! ```
//!
//! Everything works on `serde_json::Value`: Kyverno's semantics are JSON's, and policies and
//! resources are small.

pub mod autogen;
pub mod cel;
pub mod conditions;
pub mod engine;
pub mod error;
pub mod matching;
pub mod pattern;
pub mod pod_security;
pub mod policy;
pub mod test_runner;
pub mod values;
pub mod variables;
pub mod vpol;

pub use error::KyvernoError;

/// `value.pointer(path)` for plain paths (`/metadata/name`) without allocating per segment
/// (serde_json's unescapes each one into a new `String`); paths with `~` escapes take
/// serde_json's way.
pub(crate) fn at<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    if path.contains('~') {
        return value.pointer(path);
    }
    let mut node = value;
    for segment in path.split('/').skip(1) {
        node = match node {
            serde_json::Value::Object(map) => map.get(segment)?,
            serde_json::Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}
