//! Prometheus metrics, kept in memory and written in the text exposition format (no
//! dependency: the format is a few lines of text).
//!
//! Counters: decisions by outcome, space and actor kind; findings by rule (the policy hit
//! rate); approvals approved. Histograms: evaluation latency, time to approval. Gauges read
//! from the store at scrape time: approval requests pending, exceptions active, and drift
//! (open events and scans by space, the drift rate over the last day, time to remediation),
//! so every replica of a shared database reports the same.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Upper bounds of the latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Upper bounds of the time-to-approval histogram, in seconds (a minute to a week).
const APPROVAL_BUCKETS: [f64; 8] = [
    60.0, 300.0, 900.0, 3600.0, 14_400.0, 86_400.0, 259_200.0, 604_800.0,
];

/// Upper bounds of the time-to-remediation histogram, in seconds (five minutes to 30 days).
pub const REMEDIATION_BUCKETS: [f64; 9] = [
    300.0,
    900.0,
    3600.0,
    14_400.0,
    43_200.0,
    86_400.0,
    259_200.0,
    604_800.0,
    2_592_000.0,
];

/// The window of `warden_drift_rate`: scans finished in the last 24 hours.
pub const DRIFT_RATE_WINDOW: time::Duration = time::Duration::hours(24);

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.counts.len() != bounds.len() {
            self.counts = vec![0; bounds.len()];
        }
        for (c, b) in self.counts.iter_mut().zip(bounds) {
            if value <= *b {
                *c += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, bounds: &[f64]) {
        for (i, b) in bounds.iter().enumerate() {
            let c = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    decisions: BTreeMap<(String, String, String), u64>,
    rule_hits: BTreeMap<String, u64>,
    latency: Histogram,
    time_to_approval: Histogram,
    reloads: [u64; 2],
    environment_operations: BTreeMap<(String, String), u64>,
    teardowns: [u64; 2],
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Gauges read from the store when scraped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gauges {
    /// Approval requests pending.
    pub approvals_pending: u64,
    /// Exceptions granted and unexpired.
    pub exceptions_active: u64,
    /// Drift per space and time to remediation ([`DRIFT_RATE_WINDOW`],
    /// [`REMEDIATION_BUCKETS`]).
    pub drift: warden_store::DriftStats,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-update: counters stay usable.
        let mut guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Counts a recorded decision, its findings by rule and its evaluation latency.
    pub fn decision(
        &self,
        outcome: &str,
        space: &str,
        actor_kind: &str,
        rules: impl IntoIterator<Item = String>,
        seconds: f64,
    ) {
        self.with(|m| {
            *m.decisions
                .entry((outcome.to_owned(), space.to_owned(), actor_kind.to_owned()))
                .or_default() += 1;
            for r in rules {
                *m.rule_hits.entry(r).or_default() += 1;
            }
            m.latency.observe(&LATENCY_BUCKETS, seconds);
        });
    }

    /// Counts a policy reload that put new policies in force (`ok`) or kept the old ones.
    pub fn reload(&self, ok: bool) {
        self.with(|m| m.reloads[usize::from(ok)] += 1);
    }

    /// Counts an environment operation (`launch`, `extend`, `terminate`) by outcome.
    pub fn environment_operation(&self, operation: &str, outcome: &str) {
        self.with(|m| {
            *m.environment_operations
                .entry((operation.to_owned(), outcome.to_owned()))
                .or_default() += 1;
        });
    }

    /// Counts a teardown attempt that succeeded (`ok`) or failed.
    pub fn teardown_attempt(&self, ok: bool) {
        self.with(|m| m.teardowns[usize::from(ok)] += 1);
    }

    /// Records how long an approval request waited before it was approved.
    pub fn approved_after(&self, seconds: f64) {
        self.with(|m| m.time_to_approval.observe(&APPROVAL_BUCKETS, seconds));
    }

    /// The exposition text; `policy_revision` is the policy in force.
    #[must_use]
    pub fn render(&self, gauges: Gauges, policy_revision: &str) -> String {
        let mut out = String::new();
        self.with(|m| {
            out.push_str("# HELP warden_decisions_total Decisions recorded.\n# TYPE warden_decisions_total counter\n");
            for ((outcome, space, kind), n) in &m.decisions {
                let _ = writeln!(
                    out,
                    "warden_decisions_total{{outcome=\"{}\",space=\"{}\",actor_kind=\"{}\"}} {n}",
                    escape(outcome),
                    escape(space),
                    escape(kind)
                );
            }
            out.push_str("# HELP warden_rule_findings_total Active findings by rule.\n# TYPE warden_rule_findings_total counter\n");
            for (rule, n) in &m.rule_hits {
                let _ = writeln!(out, "warden_rule_findings_total{{rule=\"{}\"}} {n}", escape(rule));
            }
            out.push_str("# HELP warden_evaluation_seconds Time to evaluate and record a decision.\n# TYPE warden_evaluation_seconds histogram\n");
            m.latency
                .write(&mut out, "warden_evaluation_seconds", &LATENCY_BUCKETS);
            out.push_str("# HELP warden_time_to_approval_seconds From request to approval.\n# TYPE warden_time_to_approval_seconds histogram\n");
            m.time_to_approval
                .write(&mut out, "warden_time_to_approval_seconds", &APPROVAL_BUCKETS);
            let _ = writeln!(
                out,
                "# HELP warden_policy_reloads_total Policy reloads: ok (in force) or failed (previous kept).\n# TYPE warden_policy_reloads_total counter\nwarden_policy_reloads_total{{result=\"ok\"}} {}\nwarden_policy_reloads_total{{result=\"failed\"}} {}",
                m.reloads[1], m.reloads[0]
            );
            out.push_str("# HELP warden_environment_operations_total Environment launches, extends and terminates by outcome.\n# TYPE warden_environment_operations_total counter\n");
            for ((operation, outcome), n) in &m.environment_operations {
                let _ = writeln!(
                    out,
                    "warden_environment_operations_total{{operation=\"{}\",outcome=\"{}\"}} {n}",
                    escape(operation),
                    escape(outcome)
                );
            }
            let _ = writeln!(
                out,
                "# HELP warden_environment_teardown_attempts_total Teardown attempts: ok or failed.\n# TYPE warden_environment_teardown_attempts_total counter\nwarden_environment_teardown_attempts_total{{result=\"ok\"}} {}\nwarden_environment_teardown_attempts_total{{result=\"failed\"}} {}",
                m.teardowns[1], m.teardowns[0]
            );
        });
        let _ = writeln!(
            out,
            "# HELP warden_approvals_pending Approval requests pending.\n# TYPE warden_approvals_pending gauge\nwarden_approvals_pending {}",
            gauges.approvals_pending
        );
        let _ = writeln!(
            out,
            "# HELP warden_exceptions_active Exceptions granted and unexpired.\n# TYPE warden_exceptions_active gauge\nwarden_exceptions_active {}",
            gauges.exceptions_active
        );
        write_drift(&mut out, &gauges.drift);
        let _ = writeln!(
            out,
            "# HELP warden_policy_info The policy revision in force.\n# TYPE warden_policy_info gauge\nwarden_policy_info{{revision=\"{}\"}} 1",
            escape(policy_revision)
        );
        out
    }
}

/// The drift series: open events, scans by result, drift rate, time to remediation.
fn write_drift(out: &mut String, drift: &warden_store::DriftStats) {
    out.push_str("# HELP warden_drift_open Drift events open (resources drifted and not back in line), by space.\n# TYPE warden_drift_open gauge\n");
    for s in &drift.spaces {
        let _ = writeln!(
            out,
            "warden_drift_open{{space=\"{}\"}} {}",
            escape(&s.space),
            s.open
        );
    }
    out.push_str("# HELP warden_drift_scans_total Drift scans recorded, by space and result (clean, drift, error: the scan could not be made or its verdict is incomplete).\n# TYPE warden_drift_scans_total counter\n");
    for s in &drift.spaces {
        let space = escape(&s.space);
        for (result, n) in [
            ("clean", s.scans_clean),
            ("drift", s.scans_drift),
            ("error", s.scans_error),
        ] {
            let _ = writeln!(
                out,
                "warden_drift_scans_total{{space=\"{space}\",result=\"{result}\"}} {n}"
            );
        }
    }
    out.push_str("# HELP warden_drift_rate Share of the successful drift scans finished in the last 24 hours that found drift, by space (no series without such a scan).\n# TYPE warden_drift_rate gauge\n");
    for s in drift.spaces.iter().filter(|s| s.window_scans > 0) {
        #[allow(clippy::cast_precision_loss, reason = "a ratio of counts")]
        let rate = s.window_drift as f64 / s.window_scans as f64;
        let _ = writeln!(
            out,
            "warden_drift_rate{{space=\"{}\"}} {rate}",
            escape(&s.space)
        );
    }
    out.push_str("# HELP warden_drift_time_to_remediation_seconds From a drift event's opening to the scan that found the resource back in line.\n# TYPE warden_drift_time_to_remediation_seconds histogram\n");
    let r = &drift.remediation;
    let name = "warden_drift_time_to_remediation_seconds";
    for (i, b) in REMEDIATION_BUCKETS.iter().enumerate() {
        let c = r.buckets.get(i).copied().unwrap_or(0);
        let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", r.count);
    let _ = writeln!(out, "{name}_sum {}", r.sum_seconds);
    let _ = writeln!(out, "{name}_count {}", r.count);
}

/// A label value escaped for the exposition format.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The environment gauges, read from the store at scrape time: environments by state and
/// the monthly cost of the running ones per space.
#[must_use]
pub fn render_environments(
    by_state: &BTreeMap<String, u64>,
    cost: &BTreeMap<String, f64>,
) -> String {
    let mut out = String::from(
        "# HELP warden_environments Environments by state.\n# TYPE warden_environments gauge\n",
    );
    for (state, n) in by_state {
        let _ = writeln!(
            out,
            "warden_environments{{state=\"{}\"}} {n}",
            escape(state)
        );
    }
    out.push_str("# HELP warden_environment_monthly_cost_usd Monthly cost of the running environments, per space.\n# TYPE warden_environment_monthly_cost_usd gauge\n");
    for (space, usd) in cost {
        let _ = writeln!(
            out,
            "warden_environment_monthly_cost_usd{{space=\"{}\"}} {usd}",
            escape(space)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.decision("allow", "dev", "agent", vec![], 0.002);
        m.decision("deny", "dev", "human", vec!["WD-AWS-001".into()], 0.2);
        m.decision("deny", "dev", "human", vec!["WD-AWS-001".into()], 7.0);
        m.approved_after(120.0);
        m.reload(true);
        m.reload(false);
        m.reload(false);
        let text = m.render(
            Gauges {
                approvals_pending: 2,
                exceptions_active: 1,
                drift: warden_store::DriftStats {
                    spaces: vec![warden_store::SpaceDrift {
                        space: "prod".into(),
                        open: 3,
                        scans_clean: 5,
                        scans_drift: 2,
                        scans_error: 1,
                        window_scans: 4,
                        window_drift: 1,
                    }],
                    remediation: warden_store::RemediationTimes {
                        count: 2,
                        sum_seconds: 4000.0,
                        buckets: vec![0, 1, 2, 2, 2, 2, 2, 2, 2],
                    },
                },
            },
            "sha256:abc",
        );
        for line in [
            "warden_decisions_total{outcome=\"allow\",space=\"dev\",actor_kind=\"agent\"} 1",
            "warden_decisions_total{outcome=\"deny\",space=\"dev\",actor_kind=\"human\"} 2",
            "warden_rule_findings_total{rule=\"WD-AWS-001\"} 2",
            "warden_evaluation_seconds_bucket{le=\"0.0025\"} 1",
            "warden_evaluation_seconds_bucket{le=\"0.25\"} 2",
            "warden_evaluation_seconds_bucket{le=\"5\"} 2",
            "warden_evaluation_seconds_bucket{le=\"+Inf\"} 3",
            "warden_evaluation_seconds_count 3",
            "warden_time_to_approval_seconds_bucket{le=\"60\"} 0",
            "warden_time_to_approval_seconds_bucket{le=\"300\"} 1",
            "warden_approvals_pending 2",
            "warden_exceptions_active 1",
            "warden_policy_reloads_total{result=\"ok\"} 1",
            "warden_policy_reloads_total{result=\"failed\"} 2",
            "warden_policy_info{revision=\"sha256:abc\"} 1",
            "warden_drift_open{space=\"prod\"} 3",
            "warden_drift_scans_total{space=\"prod\",result=\"clean\"} 5",
            "warden_drift_scans_total{space=\"prod\",result=\"drift\"} 2",
            "warden_drift_scans_total{space=\"prod\",result=\"error\"} 1",
            "warden_drift_rate{space=\"prod\"} 0.25",
            "warden_drift_time_to_remediation_seconds_bucket{le=\"300\"} 0",
            "warden_drift_time_to_remediation_seconds_bucket{le=\"900\"} 1",
            "warden_drift_time_to_remediation_seconds_bucket{le=\"+Inf\"} 2",
            "warden_drift_time_to_remediation_seconds_sum 4000",
            "warden_drift_time_to_remediation_seconds_count 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
