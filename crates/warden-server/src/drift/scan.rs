//! One drift scan: the bytes a target gave → the comparison `warden drift` makes → the drift
//! report under the space's policies → attribution → the scan and its events stored.
//!
//! A scan whose input could not be had or read (a command that failed, a body that is not a
//! plan) and a scan whose verdict is incomplete (an engine error) are recorded as failed
//! scans: they change no event, since an untrustworthy verdict must not resolve drift.

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use warden_core::drift::{self, Comparison, DriftReport, DriftedResource};
use warden_core::inputs::{self, InputBytes};
use warden_core::{InputKind, Severity};
use warden_store::{Actor, DriftFilter, DriftScanResult, DriftState, NewDriftEvent, NewDriftScan};

use super::attribution;
use crate::error::ApiError;
use crate::ops::AppState;

/// What a scan is of.
#[derive(Debug, Clone, Copy)]
pub struct ScanOf<'a> {
    /// The space.
    pub space: &'a str,
    /// The target.
    pub target: &'a str,
    /// `api` or `schedule`.
    pub source: &'a str,
    /// When the scan started.
    pub started_at: OffsetDateTime,
}

/// A recorded scan: the report (none when the input could not be read) and what the store
/// did with it.
#[derive(Debug)]
pub struct Scanned {
    /// The drift report.
    pub report: Option<DriftReport>,
    /// The scan and its events.
    pub result: DriftScanResult,
}

/// The Kubernetes form of a scan body: desired manifests and live objects, as
/// `warden drift --desired --live` reads them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KubernetesBody {
    /// Manifests: YAML or JSON text, or JSON (one object, an array, a `List`).
    manifests: Value,
    /// `kubectl get -o json` output: one object or a `List`.
    live: Value,
    /// The namespace of manifests that set none (`default`).
    #[serde(default)]
    default_namespace: Option<String>,
    /// Report live objects the manifests do not describe.
    #[serde(default)]
    include_extra: bool,
}

/// The comparison of a scan body: a refresh-only plan (`terraform show -json`), or
/// `{"manifests": ..., "live": ...}`. Errors name what is wrong, for a 400 or a failed scan.
pub fn compare(body: &[u8]) -> Result<Comparison, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(
            "the body is empty: send a refresh-only plan (JSON) or {\"manifests\", \"live\"}"
                .into(),
        );
    }
    // Only a body mentioning "manifests" can be the Kubernetes form; a plan that mentions it
    // (a helm_release) fails to parse as one and is read as a plan.
    if memchr::memmem::find(body, b"\"manifests\"").is_some() {
        if let Ok(k) = serde_json::from_slice::<KubernetesBody>(body) {
            return kubernetes(k);
        }
    }
    let parsed = inputs::parse(&InputBytes {
        name: "plan".into(),
        bytes: body.to_vec(),
    })
    .map_err(|e| e.to_string())?;
    drift::terraform::compare(&parsed).map_err(|e| e.to_string())
}

fn kubernetes(body: KubernetesBody) -> Result<Comparison, String> {
    let manifests = match body.manifests {
        Value::String(text) => text.into_bytes(),
        other => serde_json::to_vec(&other).map_err(|e| e.to_string())?,
    };
    let desired = inputs::parse(&InputBytes {
        name: "manifests".into(),
        bytes: manifests,
    })
    .map_err(|e| e.to_string())?;
    if desired.input.kind != InputKind::KubernetesManifests {
        return Err("`manifests`: expected Kubernetes manifests, found a Terraform plan".into());
    }
    let live_bytes = serde_json::to_vec(&body.live).map_err(|e| e.to_string())?;
    let live = drift::kubernetes::parse_live("live", &live_bytes).map_err(|e| {
        format!("`live`: {e} (expected `kubectl get -o json` output: one object or a List)")
    })?;
    Ok(drift::kubernetes::compare(
        &[desired],
        &[live],
        &drift::kubernetes::Options {
            default_namespace: body
                .default_namespace
                .unwrap_or_else(|| "default".to_owned()),
            include_extra: body.include_extra,
        },
    ))
}

/// The drift report of a comparison under the space's policies in force, evaluated off the
/// async workers (one evaluation per core at most, shared with decisions).
pub async fn report(
    state: &AppState,
    space: &str,
    comparison: Comparison,
    now: OffsetDateTime,
) -> Result<DriftReport, ApiError> {
    let internal = |e: String| ApiError::Internal {
        public: "the drift scan could not be evaluated".into(),
        detail: e,
    };
    let _slot = state
        .evaluations
        .acquire()
        .await
        .map_err(|e| internal(e.to_string()))?;
    let policies = state.policies.current();
    let space = space.to_owned();
    tokio::task::spawn_blocking(move || policies.layered(&space).drift(comparison, now))
        .await
        .map_err(|e| internal(e.to_string()))
}

/// Records a scan of `of` whose outcome is `report` (or why there is none), attributing each
/// newly drifted resource.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    of: ScanOf<'_>,
    report: Result<DriftReport, String>,
) -> Result<Scanned, ApiError> {
    let store = state.store.as_ref();
    let err = |doing: &'static str| move |e| ApiError::store(doing, e);
    let mut new = NewDriftScan {
        space: of.space.to_owned(),
        target: of.target.to_owned(),
        source: of.source.to_owned(),
        started_at: of.started_at,
        compared: 0,
        error: None,
        summary: Value::Object(serde_json::Map::new()),
        drifted: Vec::new(),
    };
    let report = match report {
        Err(message) => {
            new.error = Some(message);
            None
        }
        Ok(report) => Some(report),
    };
    if let Some(report) = &report {
        new.compared = report.summary.compared as u64;
        new.summary = serde_json::to_value(&report.summary).map_err(|e| ApiError::Internal {
            public: "the drift report could not be serialized".into(),
            detail: e.to_string(),
        })?;
        if report.errors.is_empty() {
            let open = store
                .drift_events(&DriftFilter {
                    space: Some(of.space.to_owned()),
                    target: Some(of.target.to_owned()),
                    state: Some(DriftState::Open),
                    limit: 0,
                })
                .await
                .map_err(err("reading open drift"))?;
            let fresh: Vec<String> = report
                .drifted
                .iter()
                .filter(|r| !open.iter().any(|e| e.address == r.address))
                .map(|r| r.address.clone())
                .collect();
            let since = store
                .last_drift_scan(of.space, of.target)
                .await
                .map_err(err("reading the last drift scan"))?
                .map(|s| s.started_at);
            let attributed = attribution::attribute(store, of.space, &fresh, since)
                .await
                .map_err(err("attributing drift"))?;
            for r in &report.drifted {
                let attribution = attributed
                    .get(&r.address)
                    .cloned()
                    .unwrap_or_else(attribution::out_of_band);
                new.drifted.push(event(r, attribution)?);
            }
        } else {
            let errors: Vec<String> = report
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.engine, e.message))
                .collect();
            new.error = Some(format!("the verdict is incomplete: {}", errors.join("; ")));
        }
    }
    let result = store
        .record_drift_scan(actor, &new)
        .await
        .map_err(|e| match e {
            warden_store::StoreError::NotFound { .. } => {
                ApiError::NotFound(format!("space `{}` does not exist", of.space))
            }
            warden_store::StoreError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::store("recording the drift scan", other),
        })?;
    tracing::info!(
        scan_id = result.scan.id,
        space = of.space,
        target = of.target,
        source = of.source,
        result = result.scan.result(),
        drifted = result.scan.drifted,
        opened = result.opened.len(),
        resolved = result.resolved.len(),
        error = result.scan.error.as_deref().unwrap_or(""),
        "drift scan recorded"
    );
    Ok(Scanned { report, result })
}

/// A drifted resource as the store keeps it.
fn event(r: &DriftedResource, attribution: Value) -> Result<NewDriftEvent, ApiError> {
    let json = |v: serde_json::Result<Value>| {
        v.map_err(|e| ApiError::Internal {
            public: "the drift report could not be serialized".into(),
            detail: e.to_string(),
        })
    };
    let severity = r.introduced.iter().map(|v| v.severity).max();
    Ok(NewDriftEvent {
        address: r.address.clone(),
        resource_kind: r.resource_kind.clone(),
        status: r.status.as_str().to_owned(),
        changes: json(serde_json::to_value(&r.changes))?,
        introduced: json(serde_json::to_value(&r.introduced))?,
        severity: severity.map(|s: Severity| s.as_str().to_owned()),
        attribution,
        remediation: json(serde_json::to_value(&r.remediation))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_told_apart() {
        let plan = br#"{"format_version":"1.2","resource_drift":[
          {"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","name":"b",
           "change":{"actions":["update"],"before":{"acl":"private"},"after":{"acl":"public-read"}}}]}"#;
        let c = compare(plan).unwrap();
        assert_eq!(c.report.source, drift::Source::Terraform);
        assert_eq!(c.report.drifted.len(), 1);
        let k8s = br#"{"manifests": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\n",
                      "live": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}, "data": {"a": "2"}}}"#;
        let c = compare(k8s).unwrap();
        assert_eq!(c.report.source, drift::Source::Kubernetes);
        assert_eq!(c.report.drifted.len(), 1);
        assert!(compare(b"  ").unwrap_err().contains("empty"));
        let e = compare(br#"{"manifests": 1, "live": {}}"#).unwrap_err();
        assert!(!e.is_empty());
        assert!(compare(b"{\"resource_changes\": [}").is_err());
    }
}
