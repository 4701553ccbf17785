//! Drift conformance: scans open, keep and resolve events with their audit records;
//! decisions remember the addresses they touched; the counts metrics read.

use serde_json::json;
use time::Duration;
use warden_core::Outcome;
use warden_store::{
    Actor, AuditEvent, DriftFilter, DriftState, NewDecision, NewDriftEvent, NewDriftScan, Store,
    StoreError,
};

use crate::conformance::{agent, alice, decision, space, ManualClock};

fn drifted(address: &str, rule: Option<&str>, after: &str) -> NewDriftEvent {
    NewDriftEvent {
        address: address.into(),
        resource_kind: "aws_security_group".into(),
        status: "changed".into(),
        changes: json!([{ "path": "ingress.0.cidr_blocks", "before": ["10.0.0.0/8"], "after": [after] }]),
        introduced: json!(rule
            .map(|r| vec![json!({ "rule_id": r, "severity": "critical" })])
            .unwrap_or_default()),
        severity: rule.map(|_| "critical".into()),
        attribution: json!({ "via": "out-of-band", "actor": null }),
        remediation: json!({ "suggested": "revert" }),
    }
}

fn scan(clock: &ManualClock, target: &str, drifted: Vec<NewDriftEvent>) -> NewDriftScan {
    NewDriftScan {
        space: "ops".into(),
        target: target.into(),
        source: "schedule".into(),
        started_at: clock.now(),
        compared: 5,
        error: None,
        summary: json!({ "drifted": drifted.len() }),
        drifted,
    }
}

/// Records a decision on the change touching `resources` (its digest follows from them, as a
/// real change's would).
async fn record(store: &dyn Store, resources: &[&str], follow_up: bool) -> i64 {
    let digest = format!("sha256:drift-touch-{}", resources.join(","));
    let d = decision(&digest, Outcome::Allow, "touch");
    store
        .record_decision(
            &agent(),
            &NewDecision {
                decision: &d,
                text: None,
                space: Some("ops".into()),
                // The same input each time: stored once, then known (no insert before the
                // decision's).
                inputs: vec![warden_store::NewInput {
                    digest: digest.clone(),
                    kind: "terraform-plan".into(),
                    content: "{}".into(),
                }],
                secrets: vec![],
                exception_uses: vec![],
                approval_id: None,
                subject: Some("resources:x".into()),
                attempt: None,
                cost_delta: None,
                resources: resources.iter().map(|r| (*r).to_owned()).collect(),
                // The follow-up takes SQLite's ordinary transaction, not the two-round-trip one.
                follow_up: follow_up
                    .then(|| AuditEvent::new("admission.reviewed", "x", Some("ops"), json!({}))),
            },
        )
        .await
        .unwrap()
        .id
}

async fn actions_since(store: &dyn Store, seq: i64) -> Vec<String> {
    store
        .audit_records(seq, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.action, r.subject))
        .collect()
}

async fn head(store: &dyn Store) -> i64 {
    store
        .audit_records(0, 100_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |r| r.seq)
}

/// Runs the drift checks on a store the rest of the suite has used.
pub async fn run(store: &dyn Store, clock: &ManualClock) {
    store
        .put_space(&Actor::system(), &space("ops", 1))
        .await
        .unwrap();
    let sg = "aws_security_group.web";
    let bucket = "aws_s3_bucket.logs";

    // Decisions remember what they touched, on both write paths; a repeated change (its
    // addresses stored once) is found through each of its decisions: the newest wins.
    for _ in 0..2 {
        let plain = record(store, &[sg], false).await;
        let touches = store
            .resource_touches("ops", &[sg.into()], None)
            .await
            .unwrap();
        assert_eq!(touches.len(), 1);
        assert_eq!(touches[0].decision_id, plain, "the plain path's own id");
    }
    let plain = record(store, &[sg], false).await;
    clock.advance(Duration::seconds(1));
    let governed = record(store, &[sg, "v1/ConfigMap/default/c"], true).await;
    let touches = store
        .resource_touches(
            "ops",
            &[sg.into(), "v1/ConfigMap/default/c".into(), bucket.into()],
            None,
        )
        .await
        .unwrap();
    assert_eq!(touches.len(), 2, "{touches:?}");
    assert_eq!(touches[0].address, sg);
    assert_eq!(touches[0].decision_id, governed, "the newest decision wins");
    assert!(plain < governed);
    assert_eq!(touches[0].actor, "claude-infra");
    assert_eq!(touches[0].actor_kind, "agent");
    assert_eq!(touches[0].outcome, "allow");
    assert_eq!(touches[0].subject.as_deref(), Some("resources:x"));
    assert_eq!(touches[1].address, "v1/ConfigMap/default/c");
    // Another space's decisions are not looked at.
    assert!(store
        .resource_touches("dev", &[sg.into()], None)
        .await
        .unwrap()
        .is_empty());

    // Scan 1: two resources drifted → two events opened.
    clock.advance(Duration::minutes(1));
    let seq = head(store).await;
    let first = store
        .record_drift_scan(
            &Actor::system(),
            &scan(
                clock,
                "net",
                vec![
                    drifted(sg, Some("WD-AWS-007"), "0.0.0.0/0"),
                    drifted(bucket, None, "x"),
                    drifted(sg, Some("WD-AWS-007"), "listed twice"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!(first.scan.result(), "drift");
    assert_eq!(first.scan.drifted, 2);
    assert_eq!(first.opened.len(), 2);
    assert!(first.kept.is_empty() && first.resolved.is_empty());
    let sg_event = first
        .opened
        .iter()
        .find(|e| e.address == sg)
        .unwrap()
        .clone();
    assert!(sg_event.is_open());
    assert_eq!(sg_event.severity.as_deref(), Some("critical"));
    assert_eq!(sg_event.attribution["via"], "out-of-band");
    assert_eq!(sg_event.opened_scan, first.scan.id);
    let log = actions_since(store, seq).await;
    assert_eq!(log[0], format!("drift.scan drift-scan/{}", first.scan.id));
    assert_eq!(
        log.iter().filter(|a| a.starts_with("drift.opened")).count(),
        2,
        "{log:?}"
    );
    let recorded = store.audit_records(seq, 1).await.unwrap();
    assert_eq!(recorded[0].detail["target"], "net");
    assert_eq!(recorded[0].detail["drifted"], 2);

    // Nothing touched the resources since the scan began.
    assert!(store
        .resource_touches(
            "ops",
            &[sg.into()],
            Some(first.scan.started_at + Duration::seconds(1))
        )
        .await
        .unwrap()
        .is_empty());

    // Scan 2, ten minutes later: the group is still open (kept, diff updated), the bucket is
    // back in line (resolved).
    clock.advance(Duration::minutes(10));
    let seq = head(store).await;
    let second = store
        .record_drift_scan(
            &Actor::system(),
            &scan(
                clock,
                "net",
                vec![drifted(sg, Some("WD-AWS-007"), "0.0.0.0/1")],
            ),
        )
        .await
        .unwrap();
    assert!(second.opened.is_empty());
    assert_eq!(second.kept.len(), 1);
    let kept = &second.kept[0];
    assert_eq!(kept.id, sg_event.id);
    assert_eq!(kept.changes[0]["after"], json!(["0.0.0.0/1"]));
    assert_eq!(kept.last_scan, second.scan.id);
    assert_eq!(kept.opened_at, sg_event.opened_at);
    assert_eq!(second.resolved.len(), 1);
    let resolved = &second.resolved[0];
    assert_eq!(resolved.address, bucket);
    assert_eq!(resolved.resolved_scan, Some(second.scan.id));
    assert_eq!(
        resolved.resolved_at.map(|t| t - resolved.opened_at),
        Some(Duration::minutes(10))
    );
    let log = actions_since(store, seq).await;
    assert_eq!(
        log,
        [
            format!("drift.scan drift-scan/{}", second.scan.id),
            format!("drift.resolved drift/{}", resolved.id),
        ]
    );

    // A failed scan is stored and changes nothing.
    let mut failed = scan(clock, "net", vec![]);
    failed.error = Some("tofu exited with 1".into());
    let failed = store
        .record_drift_scan(&Actor::system(), &failed)
        .await
        .unwrap();
    assert_eq!(failed.scan.result(), "error");
    assert!(failed.opened.is_empty() && failed.kept.is_empty() && failed.resolved.is_empty());
    assert!(store
        .drift_event(sg_event.id)
        .await
        .unwrap()
        .unwrap()
        .is_open());
    let last = store.last_drift_scan("ops", "net").await.unwrap().unwrap();
    assert_eq!(last.id, second.scan.id, "the last successful scan");
    assert!(store
        .last_drift_scan("ops", "none")
        .await
        .unwrap()
        .is_none());

    // Another target's resource of the same address is its own event.
    let other = store
        .record_drift_scan(
            &Actor::system(),
            &scan(clock, "net-eu", vec![drifted(sg, None, "y")]),
        )
        .await
        .unwrap();
    assert_eq!(other.opened.len(), 1);
    assert_ne!(other.opened[0].id, sg_event.id);

    // Reads by filter.
    let filter = |target: Option<&str>, state| DriftFilter {
        space: Some("ops".into()),
        target: target.map(str::to_owned),
        state,
        limit: 0,
    };
    let open = store
        .drift_events(&filter(None, Some(DriftState::Open)))
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
    assert!(open[0].id > open[1].id, "newest first");
    let net_resolved = store
        .drift_events(&filter(Some("net"), Some(DriftState::Resolved)))
        .await
        .unwrap();
    assert_eq!(net_resolved.len(), 1);
    assert_eq!(net_resolved[0].address, bucket);
    assert_eq!(
        store
            .drift_events(&filter(Some("net"), None))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .drift_events(&DriftFilter {
                limit: 1,
                ..DriftFilter::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.drift_event(i64::MAX).await.unwrap().is_none());

    // Stats: per space, and the opened → resolved histogram.
    let stats = store
        .drift_stats(clock.now() - Duration::hours(1), &[60.0, 900.0, 3600.0])
        .await
        .unwrap();
    let ops = stats.spaces.iter().find(|s| s.space == "ops").unwrap();
    assert_eq!(ops.open, 2);
    assert_eq!(
        (ops.scans_clean, ops.scans_drift, ops.scans_error),
        (0, 3, 1)
    );
    assert_eq!((ops.window_scans, ops.window_drift), (3, 3));
    assert_eq!(stats.remediation.count, 1);
    assert!((stats.remediation.sum_seconds - 600.0).abs() < 1e-9);
    assert_eq!(stats.remediation.buckets, [0, 1, 1]);

    // A clean scan resolves what is left of the target.
    clock.advance(Duration::minutes(5));
    let clean = store
        .record_drift_scan(&Actor::system(), &scan(clock, "net", vec![]))
        .await
        .unwrap();
    assert_eq!(clean.scan.result(), "clean");
    assert_eq!(clean.resolved.len(), 1);
    assert_eq!(clean.resolved[0].id, sg_event.id);
    let stats = store
        .drift_stats(clock.now() - Duration::hours(1), &[60.0])
        .await
        .unwrap();
    let ops = stats.spaces.iter().find(|s| s.space == "ops").unwrap();
    assert_eq!(
        (
            ops.open,
            ops.scans_clean,
            ops.window_scans,
            ops.window_drift
        ),
        (1, 1, 4, 3)
    );
    assert_eq!(stats.remediation.count, 2);

    // The drift rate over time: per space and bucket, failed scans left out.
    let since = clock.now() - Duration::hours(1);
    let series = store.drift_series(since, 3600).await.unwrap();
    let ops_series: Vec<_> = series.iter().filter(|d| d.space == "ops").collect();
    // The clean scan finished right now: the second hour-wide bucket.
    let got: Vec<_> = ops_series
        .iter()
        .map(|d| (d.start, d.scans, d.drifted))
        .collect();
    assert_eq!(
        got,
        [(since, 3, 3), (since + Duration::hours(1), 1, 0)],
        "{series:?}"
    );
    // Narrow buckets split the same scans; the last one (the clean scan) found no drift.
    let narrow = store.drift_series(since, 60).await.unwrap();
    let ops_narrow: Vec<_> = narrow.iter().filter(|d| d.space == "ops").collect();
    assert!(ops_narrow.len() > 1, "{narrow:?}");
    assert_eq!(ops_narrow.iter().map(|d| d.scans).sum::<u64>(), 4);
    let last = ops_narrow.last().unwrap();
    assert_eq!((last.scans, last.drifted), (1, 0));
    assert!(ops_narrow.windows(2).all(|w| w[0].start < w[1].start));
    assert!(store
        .drift_series(clock.now() + Duration::hours(1), 60)
        .await
        .unwrap()
        .is_empty());
    assert!(store.drift_series(since, 0).await.is_err());

    // Bad input is refused before anything is written.
    let mut bad = scan(clock, "net", vec![]);
    bad.space = "nowhere".into();
    assert!(matches!(
        store.record_drift_scan(&alice(), &bad).await,
        Err(StoreError::NotFound { .. })
    ));
    let mut bad = scan(clock, "net/../x", vec![]);
    bad.target = "net/../x".into();
    assert!(matches!(
        store.record_drift_scan(&alice(), &bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.verify_audit().await.unwrap().is_intact());
}
