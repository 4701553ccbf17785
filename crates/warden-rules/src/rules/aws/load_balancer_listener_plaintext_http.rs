use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Load balancer listeners (`aws_lb_listener`, `aws_alb_listener`) with
    /// `protocol = "HTTP"` whose default action does not redirect to HTTPS: no `default_action`
    /// of `type = "redirect"` with `redirect.protocol = "HTTPS"`. A listener whose protocol is
    /// known only after apply is decided from its certificate (a certificate means HTTPS or
    /// TLS) and its redirect, and reported as unknown otherwise.
    ///
    /// ## Why it matters
    /// Plain HTTP sends requests and responses, including session cookies, tokens and form
    /// data, readable and modifiable by anyone on the path between the client and the load
    /// balancer. An HTTP listener is fine only as a doorway that sends clients to the HTTPS
    /// listener.
    ///
    /// ## Example
    /// ```yaml
    /// aws_lb_listener.http:
    ///   after: { port: 80, protocol: HTTP, default_action: [{ type: forward, target_group_arn: "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef" }] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_lb_listener.http:
    ///   after: { port: 80, protocol: HTTP, default_action: [{ type: redirect, redirect: [{ port: "443", protocol: HTTPS, status_code: HTTP_301 }] }] }
    /// ```
    ///
    /// ## Fix
    /// Replaces the default action with a permanent redirect (`HTTP_301`) to HTTPS on port
    /// 443. Add an HTTPS listener with a certificate that forwards to the targets if there is
    /// none yet.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Listener rule actions — redirect actions](https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions)
    /// - Checkov `CKV_AWS_2`; Trivy `AVD-AWS-0054`
    pub(crate) static LOAD_BALANCER_LISTENER_PLAINTEXT_HTTP = RuleMeta {
        id: "WD-AWS-014",
        name: "load-balancer-listener-plaintext-http",
        title: "Load balancer listener serves plain HTTP without redirecting to HTTPS",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_lb_listener", "aws_alb_listener"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_2", "AVD-AWS-0054"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if redirects_to_https(resource) {
        return;
    }
    match resource.attr("protocol") {
        Attr::Known(v) if v.as_str().is_some_and(|p| p.eq_ignore_ascii_case("HTTP")) => {}
        Attr::Known(_) => return,
        Attr::Absent => return,
        Attr::Unknown => {
            // The protocol is computed when left out (HTTP for application load balancers,
            // TCP for network ones); a certificate means HTTPS or TLS.
            let has_certificate = resource
                .after_str("certificate_arn")
                .is_some_and(|c| !c.is_empty())
                || resource.is_unknown("certificate_arn");
            if !has_certificate {
                out.unknown(resource, "protocol");
            }
            return;
        }
    }
    if resource.is_unknown("default_action")
        && resource.after.field("default_action").items().is_empty()
    {
        out.unknown(resource, "default_action");
        return;
    }
    let actions: Vec<&str> = resource
        .after
        .field("default_action")
        .items()
        .iter()
        .filter_map(|a| a.field("type").as_str())
        .collect();
    let found = if actions.is_empty() {
        "no default action".to_owned()
    } else {
        format!("default action `{}`", actions.join("`, `"))
    };
    let redirect = Value::object([
        ("type", Value::from("redirect")),
        (
            "redirect",
            Value::from(vec![Value::object([
                ("port", Value::from("443")),
                ("protocol", Value::from("HTTPS")),
                ("status_code", Value::from("HTTP_301")),
            ])]),
        ),
    ]);
    let port = resource
        .after
        .field("port")
        .as_i64()
        .map_or_else(String::new, |p| format!(" on port {p}"));
    out.violation(
        resource,
        format!("listener{port} serves plain HTTP with {found} instead of a redirect to HTTPS"),
    )
    .at("protocol")
    .fix(Fix::set(
        "redirect every request to HTTPS on port 443 (HTTP 301)",
        "default_action",
        Value::from(vec![redirect]),
    ));
}

/// `true` when a default action redirects to HTTPS.
fn redirects_to_https(resource: &Resource) -> bool {
    resource
        .after
        .field("default_action")
        .items()
        .iter()
        .any(|action| {
            action.field("type").as_str() == Some("redirect")
                && action.field("redirect").items().iter().any(|r| {
                    r.field("protocol")
                        .as_str()
                        .is_some_and(|p| p.eq_ignore_ascii_case("HTTPS"))
                })
        })
}
