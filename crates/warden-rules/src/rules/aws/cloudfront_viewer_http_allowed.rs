use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// CloudFront distributions (`aws_cloudfront_distribution`) with a cache behavior whose
    /// `viewer_protocol_policy` is `allow-all`: the `default_cache_behavior`, or any
    /// `ordered_cache_behavior`. Each such behavior is reported.
    ///
    /// ## Why it matters
    /// `allow-all` serves content over plain HTTP to viewers who ask for it, so requests,
    /// cookies and responses travel readable and modifiable by anyone on the network path,
    /// and an attacker can strip a user down to HTTP. Redirecting to HTTPS costs nothing for
    /// clients that follow redirects, which all browsers do.
    ///
    /// ## Example
    /// ```yaml
    /// aws_cloudfront_distribution.site:
    ///   after: { enabled: true, default_cache_behavior: [{ target_origin_id: site, viewer_protocol_policy: allow-all }] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_cloudfront_distribution.site:
    ///   after: { enabled: true, default_cache_behavior: [{ target_origin_id: site, viewer_protocol_policy: redirect-to-https }] }
    /// ```
    ///
    /// ## Fix
    /// Sets `viewer_protocol_policy = "redirect-to-https"` on the behavior (`https-only` is
    /// stricter, for API clients that never use HTTP).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Requiring HTTPS between viewers and CloudFront](https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-viewers-to-cloudfront.html)
    /// - Checkov `CKV_AWS_34`; Trivy `AVD-AWS-0012`
    pub(crate) static CLOUDFRONT_VIEWER_HTTP_ALLOWED = RuleMeta {
        id: "WD-AWS-037",
        name: "cloudfront-viewer-http-allowed",
        title: "CloudFront cache behavior allows plain HTTP viewers",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: &["aws_cloudfront_distribution"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_34", "AVD-AWS-0012"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    check_behavior(
        resource,
        "default_cache_behavior.0",
        "default cache behavior",
        out,
    );
    let ordered = resource.after.field("ordered_cache_behavior").items();
    for (i, behavior) in ordered.iter().enumerate() {
        let pattern = behavior
            .field("path_pattern")
            .as_str()
            .map_or_else(String::new, |p| format!(" `{p}`"));
        check_behavior(
            resource,
            &format!("ordered_cache_behavior.{i}"),
            &format!("cache behavior{pattern}"),
            out,
        );
    }
    if ordered.is_empty() && resource.attr("ordered_cache_behavior") == Attr::Unknown {
        out.unknown(resource, "ordered_cache_behavior");
    }
}

fn check_behavior(resource: &Resource, prefix: &str, name: &str, out: &mut Report<'_>) {
    let attribute = format!("{prefix}.viewer_protocol_policy");
    match resource.attr(&attribute) {
        Attr::Known(v) if v.as_str() == Some("allow-all") => {
            out.violation(
                resource,
                format!("{name} has `viewer_protocol_policy = \"allow-all\"`, serving plain HTTP"),
            )
            .at(&attribute)
            .fix(Fix::set(
                "redirect HTTP viewers to HTTPS",
                &attribute,
                "redirect-to-https",
            ));
        }
        Attr::Unknown => out.unknown(resource, &attribute),
        _ => {}
    }
}
