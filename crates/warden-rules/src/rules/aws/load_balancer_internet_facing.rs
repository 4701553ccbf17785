use super::planned::left_to_provider;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Load balancers that face the internet: `aws_lb`/`aws_alb` (application and network
    /// load balancers) and classic `aws_elb` with `internal = false` or no `internal` at all,
    /// which AWS creates with the `internet-facing` scheme. Gateway load balancers have no
    /// scheme and are skipped. The provider computes `internal` when the configuration leaves
    /// it out, so the plan shows it as known after apply; the rule then reads the
    /// configuration and treats an unset `internal` as internet-facing.
    ///
    /// ## Why it matters
    /// An internet-facing load balancer gets public addresses and forwards whatever its
    /// listeners accept from anyone to the targets behind it. That is the point for a public
    /// website or API, and an accident for an internal service, an admin console or a backend
    /// that only other workloads call. Since the two differ by one argument whose default is
    /// the public one, each internet-facing load balancer deserves a deliberate approval.
    ///
    /// ## Example
    /// ```yaml
    /// aws_lb.api: { after: { name: api, load_balancer_type: application, internal: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_lb.api: { after: { name: api, load_balancer_type: application, internal: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `internal = true` (which replaces the load balancer). Approve the change, or record
    /// an exception, for load balancers that are meant to serve the internet.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Application Load Balancer scheme](https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-scheme)
    /// - Trivy `AVD-AWS-0053`
    pub(crate) static LOAD_BALANCER_INTERNET_FACING = RuleMeta {
        id: "WD-AWS-013",
        name: "load-balancer-internet-facing",
        title: "Load balancer is internet-facing",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["aws_lb", "aws_alb", "aws_elb"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-AWS-0053"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.after_str("load_balancer_type") == Some("gateway") {
        return;
    }
    let reason = match resource.attr("internal") {
        Attr::Known(v) => match v.as_bool() {
            Some(false) => "sets `internal = false`",
            _ => return,
        },
        Attr::Unknown if left_to_provider(resource, cx, "internal") => {
            "leaves `internal` unset, so AWS makes it internet-facing"
        }
        Attr::Unknown => {
            out.unknown(resource, "internal");
            return;
        }
        Attr::Absent => "leaves `internal` unset, so AWS makes it internet-facing",
    };
    let what = match resource.kind.as_str() {
        "aws_elb" => "classic load balancer".to_owned(),
        _ => format!(
            "{} load balancer",
            resource
                .after_str("load_balancer_type")
                .unwrap_or("application")
        ),
    };
    out.violation(resource, format!("{what} {reason}"))
        .at("internal")
        .fix(Fix::set(
            "make the load balancer internal (this replaces it)",
            "internal",
            true,
        ));
}
