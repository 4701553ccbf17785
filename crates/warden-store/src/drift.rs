//! Drift scans and drift events as stored, what a scan changes, and the reads behind drift
//! attribution and metrics.
//!
//! Recording a scan of a target (a Terraform workspace, a set of manifests) opens an event per
//! newly drifted resource, keeps the open events of resources still drifted (their diff and
//! last sighting updated) and resolves the open events of resources no longer drifted, all
//! in one transaction with the audit records `drift.scan`, `drift.opened` and
//! `drift.resolved`. A scan that failed is stored with its error and changes no event.

use std::collections::HashSet;

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::error::{Result, StoreError};
use crate::model::{from_millis, parse_outcome};
use crate::shared::{opt_time, valid_name, StoreRow};

/// A scan to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDriftScan {
    /// The space the target belongs to.
    pub space: String,
    /// The target scanned (letters, digits, `-`, `_`, `.`).
    pub target: String,
    /// What ran it: `api` (submitted), `schedule` (the server's loop).
    pub source: String,
    /// When it started (it finishes when recorded).
    pub started_at: OffsetDateTime,
    /// Resources compared.
    pub compared: u64,
    /// Why the scan failed; a failed scan changes no event.
    pub error: Option<String>,
    /// The report's counts (a JSON object).
    pub summary: Value,
    /// One entry per drifted resource (ignored when `error` is set).
    pub drifted: Vec<NewDriftEvent>,
}

/// One drifted resource found by a scan.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDriftEvent {
    /// Terraform address, or `apiVersion/Kind/namespace/name`.
    pub address: String,
    /// Resource type.
    pub resource_kind: String,
    /// `changed`, `deleted`, `missing` or `extra`.
    pub status: String,
    /// The attribute diff (already masked), a JSON array.
    pub changes: Value,
    /// The violations the drift introduced, a JSON array.
    pub introduced: Value,
    /// The strictest severity among them.
    pub severity: Option<String>,
    /// Who made the change, as far as Warden knows (a JSON object); kept from the scan that
    /// opened the event.
    pub attribution: Value,
    /// What to do about it (a JSON object).
    pub remediation: Value,
}

/// A stored scan.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftScan {
    /// Id.
    pub id: i64,
    /// Space.
    pub space: String,
    /// Target.
    pub target: String,
    /// `api` or `schedule`.
    pub source: String,
    /// Who recorded it.
    pub actor: String,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it was recorded.
    pub finished_at: OffsetDateTime,
    /// Resources compared.
    pub compared: i64,
    /// Resources drifted.
    pub drifted: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// The report's counts.
    pub summary: Value,
}

impl DriftScan {
    /// `error`, `drift` or `clean`.
    #[must_use]
    pub fn result(&self) -> &'static str {
        if self.error.is_some() {
            "error"
        } else if self.drifted > 0 {
            "drift"
        } else {
            "clean"
        }
    }
}

/// A stored drift event: one resource of a target, from the scan that found it drifted to
/// the scan that found it back in line.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftEvent {
    /// Id.
    pub id: i64,
    /// Space.
    pub space: String,
    /// Target.
    pub target: String,
    /// Resource address.
    pub address: String,
    /// Resource type.
    pub resource_kind: String,
    /// `changed`, `deleted`, `missing` or `extra` (as last seen).
    pub status: String,
    /// The attribute diff as last seen.
    pub changes: Value,
    /// The violations it introduces, as last seen.
    pub introduced: Value,
    /// Their strictest severity.
    pub severity: Option<String>,
    /// Who made the change, as far as Warden knows.
    pub attribution: Value,
    /// What to do about it, as last seen.
    pub remediation: Value,
    /// The scan that opened it.
    pub opened_scan: i64,
    /// When.
    pub opened_at: OffsetDateTime,
    /// The last scan that saw it drifted.
    pub last_scan: i64,
    /// When.
    pub last_seen_at: OffsetDateTime,
    /// The scan that found it resolved.
    pub resolved_scan: Option<i64>,
    /// When.
    pub resolved_at: Option<OffsetDateTime>,
}

impl DriftEvent {
    /// True while not resolved.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}

/// What recording a scan did.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftScanResult {
    /// The scan.
    pub scan: DriftScan,
    /// Events it opened.
    pub opened: Vec<DriftEvent>,
    /// Open events it saw still drifted.
    pub kept: Vec<DriftEvent>,
    /// Open events it resolved.
    pub resolved: Vec<DriftEvent>,
}

/// Open or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftState {
    /// Not resolved yet.
    Open,
    /// Resolved by a later scan.
    Resolved,
}

/// Which drift events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftFilter {
    /// Only this space.
    pub space: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// Only open or only resolved ones.
    pub state: Option<DriftState>,
    /// At most this many, newest first (0: no limit).
    pub limit: u32,
}

/// The newest decision that touched a resource address.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTouch {
    /// The address.
    pub address: String,
    /// The decision.
    pub decision_id: i64,
    /// Who asked.
    pub actor: String,
    /// Their kind.
    pub actor_kind: String,
    /// The decision's outcome (`allow`, `deny` ...).
    pub outcome: String,
    /// The decision's subject (`admission:...` for the admission webhook).
    pub subject: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

/// Drift counts per space, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceDrift {
    /// The space.
    pub space: String,
    /// Open drift events.
    pub open: u64,
    /// Scans that found nothing drifted, ever.
    pub scans_clean: u64,
    /// Scans that found drift, ever.
    pub scans_drift: u64,
    /// Scans that failed, ever.
    pub scans_error: u64,
    /// Successful scans that finished inside the window.
    pub window_scans: u64,
    /// Of those, the ones that found drift.
    pub window_drift: u64,
}

/// One bucket of a space's drift rate over time ([`crate::Store::drift_series`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftDay {
    /// The space.
    pub space: String,
    /// The bucket's start.
    pub start: OffsetDateTime,
    /// Successful scans that finished in the bucket.
    pub scans: u64,
    /// Of those, the ones that found drift.
    pub drifted: u64,
}

/// How long resolved drift stayed open: a cumulative histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemediationTimes {
    /// Resolved events.
    pub count: u64,
    /// Their open time added up, in seconds.
    pub sum_seconds: f64,
    /// Per bound asked for: how many were resolved within it.
    pub buckets: Vec<u64>,
}

/// Everything the drift metrics read, in one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DriftStats {
    /// Per space with any scan or open event, by name.
    pub spaces: Vec<SpaceDrift>,
    /// Opened → resolved.
    pub remediation: RemediationTimes,
}

/// What a scan does to a target's open events.
#[derive(Debug)]
pub(crate) struct ScanPlan<'a> {
    /// New drift: events to open.
    pub(crate) open: Vec<&'a NewDriftEvent>,
    /// Open events still drifted, with what the scan saw.
    pub(crate) keep: Vec<(&'a DriftEvent, &'a NewDriftEvent)>,
    /// Open events no longer drifted.
    pub(crate) resolve: Vec<&'a DriftEvent>,
}

/// Checks a scan before anything is written.
pub(crate) fn check_scan(scan: &NewDriftScan) -> Result<()> {
    valid_name("space name", &scan.space)?;
    valid_name("drift target", &scan.target)?;
    valid_name("scan source", &scan.source)?;
    if !scan.summary.is_object() {
        return Err(StoreError::Invalid(
            "a scan's summary must be a JSON object".into(),
        ));
    }
    for d in &scan.drifted {
        if d.address.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a drifted resource needs an address".into(),
            ));
        }
        if !d.attribution.is_object() || !d.remediation.is_object() {
            return Err(StoreError::Invalid(format!(
                "{}: attribution and remediation must be JSON objects",
                d.address
            )));
        }
    }
    Ok(())
}

/// Splits a successful scan's drifted resources against the target's open events (a
/// resource listed twice counts once).
pub(crate) fn plan<'a>(open: &'a [DriftEvent], scan: &'a NewDriftScan) -> ScanPlan<'a> {
    let mut seen = HashSet::new();
    let mut out = ScanPlan {
        open: Vec::new(),
        keep: Vec::new(),
        resolve: Vec::new(),
    };
    if scan.error.is_some() {
        return out;
    }
    for d in &scan.drifted {
        if !seen.insert(d.address.as_str()) {
            continue;
        }
        match open.iter().find(|e| e.address == d.address) {
            Some(e) => out.keep.push((e, d)),
            None => out.open.push(d),
        }
    }
    out.resolve = open
        .iter()
        .filter(|e| !seen.contains(e.address.as_str()))
        .collect();
    out
}

/// The scan's drifted count as stored: 0 for a failed scan.
pub(crate) fn drifted_count(scan: &NewDriftScan) -> i64 {
    if scan.error.is_some() {
        return 0;
    }
    let distinct: HashSet<&str> = scan.drifted.iter().map(|d| d.address.as_str()).collect();
    i64::try_from(distinct.len()).unwrap_or(i64::MAX)
}

/// The `drift.scan` audit event.
pub(crate) fn scan_event(
    id: i64,
    scan: &NewDriftScan,
    opened: &[i64],
    kept: usize,
    resolved: &[i64],
) -> AuditEvent {
    AuditEvent::new(
        "drift.scan",
        format!("drift-scan/{id}"),
        Some(&scan.space),
        json!({
            "target": scan.target,
            "source": scan.source,
            "compared": scan.compared,
            "drifted": drifted_count(scan),
            "error": scan.error,
            "opened": opened,
            "kept": kept,
            "resolved": resolved,
        }),
    )
}

/// The `drift.opened` audit event.
pub(crate) fn opened_event(
    id: i64,
    scan_id: i64,
    scan: &NewDriftScan,
    d: &NewDriftEvent,
) -> AuditEvent {
    let rules: Vec<&str> = d
        .introduced
        .as_array()
        .map(|v| v.iter().filter_map(|v| v["rule_id"].as_str()).collect())
        .unwrap_or_default();
    AuditEvent::new(
        "drift.opened",
        format!("drift/{id}"),
        Some(&scan.space),
        json!({
            "target": scan.target,
            "address": d.address,
            "status": d.status,
            "scan_id": scan_id,
            "introduced": rules,
            "attribution": d.attribution["via"],
            "decision_id": d.attribution["decision_id"],
        }),
    )
}

/// The `drift.resolved` audit event.
pub(crate) fn resolved_event(e: &DriftEvent, scan_id: i64, now_ms: i64) -> AuditEvent {
    let open_ms = now_ms - crate::model::to_millis(e.opened_at);
    AuditEvent::new(
        "drift.resolved",
        format!("drift/{}", e.id),
        Some(&e.space),
        json!({
            "target": e.target,
            "address": e.address,
            "scan_id": scan_id,
            "open_seconds": open_ms.max(0) / 1000,
        }),
    )
}

fn json_col(row: &impl StoreRow, col: &str) -> Result<Value> {
    let text = row.text(col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("drift {col}: {e}")))
}

/// A JSON value as stored text.
pub(crate) fn to_text(v: &Value) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

pub(crate) fn scan_from(row: &impl StoreRow) -> Result<DriftScan> {
    Ok(DriftScan {
        id: row.int("id")?,
        space: row.text("space")?,
        target: row.text("target")?,
        source: row.text("source")?,
        actor: row.text("actor")?,
        started_at: from_millis(row.int("started_at")?)?,
        finished_at: from_millis(row.int("finished_at")?)?,
        compared: row.int("compared")?,
        drifted: row.int("drifted")?,
        error: row.opt_text("error")?,
        summary: json_col(row, "summary")?,
    })
}

pub(crate) fn event_from(row: &impl StoreRow) -> Result<DriftEvent> {
    Ok(DriftEvent {
        id: row.int("id")?,
        space: row.text("space")?,
        target: row.text("target")?,
        address: row.text("address")?,
        resource_kind: row.text("resource_kind")?,
        status: row.text("status")?,
        changes: json_col(row, "changes")?,
        introduced: json_col(row, "introduced")?,
        severity: row.opt_text("severity")?,
        attribution: json_col(row, "attribution")?,
        remediation: json_col(row, "remediation")?,
        opened_scan: row.int("opened_scan")?,
        opened_at: from_millis(row.int("opened_at")?)?,
        last_scan: row.int("last_scan")?,
        last_seen_at: from_millis(row.int("last_seen_at")?)?,
        resolved_scan: row.opt_int("resolved_scan")?,
        resolved_at: opt_time(row.opt_int("resolved_at")?)?,
    })
}

pub(crate) fn touch_from(row: &impl StoreRow) -> Result<ResourceTouch> {
    let outcome = row.text("outcome")?;
    parse_outcome(&outcome).ok_or_else(|| crate::shared::corrupt("outcome", &outcome))?;
    Ok(ResourceTouch {
        address: row.text("address")?,
        decision_id: row.int("decision_id")?,
        actor: row.text("actor")?,
        actor_kind: row.text("actor_kind")?,
        outcome,
        subject: row.opt_text("subject")?,
        at: from_millis(row.int("created_at")?)?,
    })
}

/// Events matching a filter (parameters: space, target, state as `open`/`resolved`, limit;
/// `$n IS NULL` leaves a condition out), newest first.
pub(crate) const SELECT_EVENTS: &str = "SELECT * FROM drift_events
     WHERE ($1 IS NULL OR space = $1) AND ($2 IS NULL OR target = $2)
       AND ($3 IS NULL OR ($3 = 'open' AND resolved_at IS NULL) OR ($3 = 'resolved' AND resolved_at IS NOT NULL))
     ORDER BY id DESC LIMIT $4";

/// A filter's state as [`SELECT_EVENTS`] takes it.
pub(crate) fn state_param(state: Option<DriftState>) -> Option<&'static str> {
    state.map(|s| match s {
        DriftState::Open => "open",
        DriftState::Resolved => "resolved",
    })
}

/// A filter's limit as [`SELECT_EVENTS`] takes it.
pub(crate) fn limit_param(limit: u32) -> i64 {
    if limit == 0 {
        i64::MAX
    } else {
        i64::from(limit)
    }
}

/// The newest decision in a space that touched an address since a time (parameters: space,
/// address, since in ms).
pub(crate) const SELECT_TOUCH: &str =
    "SELECT r.address, d.id AS decision_id, d.actor, d.actor_kind, d.outcome, d.subject, d.created_at
     FROM change_resources r JOIN decisions d ON d.input_digest = r.input_digest AND d.space = r.space
     WHERE r.space = $1 AND r.address = $2 AND d.created_at >= $3
     ORDER BY d.id DESC LIMIT 1";

/// The latest successful scan of a target (parameters: space, target).
pub(crate) const SELECT_LAST_SCAN: &str = "SELECT * FROM drift_scans
     WHERE space = $1 AND target = $2 AND error IS NULL ORDER BY id DESC LIMIT 1";

/// Scan counts per space (parameter: window start in ms).
pub(crate) const SELECT_SCAN_COUNTS: &str = "SELECT space,
       CAST(SUM(CASE WHEN error IS NULL AND drifted = 0 THEN 1 ELSE 0 END) AS BIGINT) AS clean,
       CAST(SUM(CASE WHEN error IS NULL AND drifted > 0 THEN 1 ELSE 0 END) AS BIGINT) AS drift,
       CAST(SUM(CASE WHEN error IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS failed,
       CAST(SUM(CASE WHEN error IS NULL AND finished_at >= $1 THEN 1 ELSE 0 END) AS BIGINT) AS window_scans,
       CAST(SUM(CASE WHEN error IS NULL AND drifted > 0 AND finished_at >= $1 THEN 1 ELSE 0 END) AS BIGINT) AS window_drift
     FROM drift_scans GROUP BY space ORDER BY space";

/// Successful scans per space and bucket (parameters: start in ms, bucket width in ms).
pub(crate) const SELECT_SERIES: &str =
    "SELECT space, CAST((finished_at - $1) / $2 AS BIGINT) AS bucket,
       CAST(COUNT(*) AS BIGINT) AS scans,
       CAST(SUM(CASE WHEN drifted > 0 THEN 1 ELSE 0 END) AS BIGINT) AS drifted
     FROM drift_scans WHERE error IS NULL AND finished_at >= $1
     GROUP BY space, CAST((finished_at - $1) / $2 AS BIGINT) ORDER BY bucket, space";

/// The rows of [`SELECT_SERIES`] as [`DriftDay`]s.
pub(crate) fn series_from(
    rows: &[impl StoreRow],
    since: OffsetDateTime,
    width_secs: i64,
) -> Result<Vec<DriftDay>> {
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    rows.iter()
        .map(|r| {
            let bucket = r.int("bucket")?;
            Ok(DriftDay {
                space: r.text("space")?,
                start: since + time::Duration::seconds(bucket.saturating_mul(width_secs)),
                scans: count(r.int("scans")?),
                drifted: count(r.int("drifted")?),
            })
        })
        .collect()
}

/// Checks a series request: a positive bucket width.
pub(crate) fn check_series(width_secs: i64) -> Result<i64> {
    if width_secs <= 0 {
        return Err(StoreError::Invalid(format!(
            "drift series: the bucket width must be positive, not {width_secs} s"
        )));
    }
    Ok(width_secs.saturating_mul(1000))
}

/// Open events per space.
pub(crate) const SELECT_OPEN_COUNTS: &str = "SELECT space, CAST(COUNT(*) AS BIGINT) AS open
     FROM drift_events WHERE resolved_at IS NULL GROUP BY space ORDER BY space";

/// The remediation histogram's query for these bounds (in seconds; parameters are the
/// bounds in ms).
pub(crate) fn remediation_sql(bounds: usize) -> String {
    let mut sql = String::from(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(resolved_at - opened_at), 0) AS BIGINT) AS total",
    );
    for i in 0..bounds {
        sql.push_str(&format!(
            ", CAST(COALESCE(SUM(CASE WHEN resolved_at - opened_at <= ${} THEN 1 ELSE 0 END), 0) AS BIGINT) AS b{i}",
            i + 1
        ));
    }
    sql.push_str(" FROM drift_events WHERE resolved_at IS NOT NULL");
    sql
}

/// Bounds in seconds as the millisecond parameters of [`remediation_sql`].
pub(crate) fn bounds_ms(bounds: &[f64]) -> Vec<i64> {
    bounds
        .iter()
        .map(|b| {
            let ms = (b * 1000.0).round();
            if ms.is_finite() && ms < 9.0e18 {
                // Bounded above; a negative bound counts nothing.
                #[allow(clippy::cast_possible_truncation, reason = "checked to fit above")]
                let ms = ms as i64;
                ms
            } else {
                i64::MAX
            }
        })
        .collect()
}

/// Merges scan counts, open counts and the remediation row into [`DriftStats`].
pub(crate) fn stats_from(
    scans: &[impl StoreRow],
    open: &[impl StoreRow],
    remediation: &impl StoreRow,
    bounds: usize,
) -> Result<DriftStats> {
    let mut spaces: std::collections::BTreeMap<String, SpaceDrift> = Default::default();
    let count =
        |row: &dyn Fn() -> Result<i64>| -> Result<u64> { Ok(u64::try_from(row()?).unwrap_or(0)) };
    for r in scans {
        let space = r.text("space")?;
        let e = spaces.entry(space.clone()).or_default();
        e.space = space;
        e.scans_clean = count(&|| r.int("clean"))?;
        e.scans_drift = count(&|| r.int("drift"))?;
        e.scans_error = count(&|| r.int("failed"))?;
        e.window_scans = count(&|| r.int("window_scans"))?;
        e.window_drift = count(&|| r.int("window_drift"))?;
    }
    for r in open {
        let space = r.text("space")?;
        let e = spaces.entry(space.clone()).or_default();
        e.space = space;
        e.open = count(&|| r.int("open"))?;
    }
    let mut buckets = Vec::with_capacity(bounds);
    for i in 0..bounds {
        buckets.push(count(&|| remediation.int(&format!("b{i}")))?);
    }
    #[allow(clippy::cast_precision_loss, reason = "seconds for a metric")]
    let sum_seconds = remediation.int("total")? as f64 / 1000.0;
    Ok(DriftStats {
        spaces: spaces.into_values().collect(),
        remediation: RemediationTimes {
            count: count(&|| remediation.int("n"))?,
            sum_seconds,
            buckets,
        },
    })
}

/// Inserts a scan and returns its id (parameters: space, target, source, actor, started_at,
/// finished_at, compared, drifted, error, summary).
pub(crate) const INSERT_SCAN: &str = "INSERT INTO drift_scans (space, target, source, actor, started_at, finished_at, compared, drifted, error, summary)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";

/// Opens an event and returns its id (parameters: space, target, address, resource_kind,
/// status, changes, introduced, severity, attribution, remediation, scan id, time).
pub(crate) const INSERT_EVENT: &str = "INSERT INTO drift_events (space, target, address, resource_kind, status, changes, introduced, severity, attribution, remediation, opened_scan, opened_at, last_scan, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $12) RETURNING id";

/// Updates an open event a scan saw still drifted (parameters: status, changes, introduced,
/// severity, remediation, scan id, time, event id).
pub(crate) const UPDATE_KEPT: &str = "UPDATE drift_events SET status = $1, changes = $2, introduced = $3, severity = $4, remediation = $5, last_scan = $6, last_seen_at = $7
     WHERE id = $8";

/// Resolves an open event (parameters: scan id, time, event id).
pub(crate) const RESOLVE_EVENT: &str =
    "UPDATE drift_events SET resolved_scan = $1, resolved_at = $2 WHERE id = $3 AND resolved_at IS NULL";

/// The events a scan opened, kept or resolved (parameter: scan id).
pub(crate) const SELECT_SCAN_EVENTS: &str = "SELECT * FROM drift_events
     WHERE opened_scan = $1 OR last_scan = $1 OR resolved_scan = $1 ORDER BY id";

/// The open events of a target (parameters: space, target), by id.
pub(crate) const SELECT_OPEN: &str = "SELECT * FROM drift_events
     WHERE space = $1 AND target = $2 AND resolved_at IS NULL ORDER BY id";

/// The result of a recorded scan from its row and the events it touched.
pub(crate) fn scan_result(scan: DriftScan, events: Vec<DriftEvent>) -> DriftScanResult {
    let mut out = DriftScanResult {
        opened: Vec::new(),
        kept: Vec::new(),
        resolved: Vec::new(),
        scan,
    };
    for e in events {
        if e.resolved_scan == Some(out.scan.id) {
            out.resolved.push(e);
        } else if e.opened_scan == out.scan.id {
            out.opened.push(e);
        } else if e.last_scan == out.scan.id {
            out.kept.push(e);
        }
    }
    out
}
