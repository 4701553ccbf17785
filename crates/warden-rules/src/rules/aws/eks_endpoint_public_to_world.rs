use super::planned::left_to_provider;
use crate::helpers::any_world;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// EKS clusters (`aws_eks_cluster`) whose Kubernetes API endpoint is reachable from the
    /// whole internet: `vpc_config.endpoint_public_access` is `true` (the default) and
    /// `vpc_config.public_access_cidrs` contains `0.0.0.0/0`, or is left out, which AWS fills
    /// with `0.0.0.0/0`. The provider computes `public_access_cidrs` when the configuration
    /// leaves it out, so the plan shows it as known after apply; the rule then reads the
    /// configuration and treats an unset list as world-open.
    ///
    /// ## Why it matters
    /// The API server is the control plane of every workload in the cluster. Exposed to the
    /// internet it is found by scanners, attacked with leaked kubeconfigs and tokens, and hit
    /// by every API server vulnerability before you can patch. Authentication still applies,
    /// but network reachability is the first layer that should stop an attacker.
    ///
    /// ## Example
    /// ```yaml
    /// aws_eks_cluster.main:
    ///   after: { name: main, vpc_config: [{ endpoint_public_access: true, endpoint_private_access: false, public_access_cidrs: ["0.0.0.0/0"] }] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_eks_cluster.main:
    ///   after: { name: main, vpc_config: [{ endpoint_public_access: false, endpoint_private_access: true }] }
    /// ```
    ///
    /// ## Fix
    /// Turns the public endpoint off and the private endpoint on, so nodes and tools inside
    /// the VPC (or connected to it by VPN or Direct Connect) keep access. If the public
    /// endpoint is needed, keep it and set `public_access_cidrs` to your office or CI egress
    /// ranges instead.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Cluster API server endpoint](https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html)
    /// - Checkov `CKV_AWS_38`, `CKV_AWS_39`; Trivy `AVD-AWS-0040`, `AVD-AWS-0041`
    pub(crate) static EKS_ENDPOINT_PUBLIC_TO_WORLD = RuleMeta {
        id: "WD-AWS-015",
        name: "eks-endpoint-public-to-world",
        title: "EKS API endpoint is reachable from the internet",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_eks_cluster"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_38", "CKV_AWS_39", "AVD-AWS-0040", "AVD-AWS-0041"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const PUBLIC: &str = "vpc_config.0.endpoint_public_access";
const CIDRS: &str = "vpc_config.0.public_access_cidrs";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr(PUBLIC) {
        Attr::Known(v) if v.as_bool() == Some(false) => return,
        Attr::Unknown => {
            out.unknown(resource, PUBLIC);
            return;
        }
        // `true`, or unset: the default is `true`.
        _ => {}
    }
    let found = match resource.attr(CIDRS) {
        Attr::Known(v) if v.items().is_empty() => {
            "no `public_access_cidrs`, which AWS opens to `0.0.0.0/0`"
        }
        Attr::Known(v) if any_world(Some(v)) => "`public_access_cidrs` containing `0.0.0.0/0`",
        Attr::Known(_) => return,
        Attr::Unknown if left_to_provider(resource, cx, CIDRS) => {
            "no `public_access_cidrs`, which AWS opens to `0.0.0.0/0`"
        }
        Attr::Unknown => {
            out.unknown(resource, CIDRS);
            return;
        }
        Attr::Absent => "no `public_access_cidrs`, which AWS opens to `0.0.0.0/0`",
    };
    out.violation(
        resource,
        format!("the public API endpoint is on with {found}"),
    )
    .at(PUBLIC)
    .fix(
        Fix::set(
            "turn off the public API endpoint and turn on the private one",
            PUBLIC,
            false,
        )
        .and_set("vpc_config.0.endpoint_private_access", true),
    );
}
