use warden_core::exceptions::glob_matches;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Managed resources whose type is not in the allow-list, or matches the deny-list.
    /// Patterns are globs over resource types (`aws_*`, `aws_iam_user*`); a type matching a
    /// `forbidden` pattern is reported even when `allowed` also matches it. An empty `allowed`
    /// list allows every type except the forbidden ones; with both lists empty (the default)
    /// the rule is inactive.
    ///
    /// Data sources are not checked (they create nothing), and neither are resources being
    /// deleted. Kubernetes objects are not judged either: these lists name Terraform resource
    /// types, and a configuration shared by plans and manifests must not deny every
    /// Deployment (Kubernetes kinds are governed by the Kubernetes rules and Kyverno policies).
    ///
    /// ## Why it matters
    /// A platform team supports, secures and pays for a known set of services. A resource type
    /// outside it (long-lived IAM users with access keys, a self-managed database instead of
    /// the managed one, a service not yet reviewed for compliance) skips the guardrails built
    /// for the rest, and is often what an unreviewed module or an over-eager agent adds.
    ///
    /// ## Example
    /// ```yaml
    /// params: { forbidden: ["aws_iam_user*", "aws_iam_access_key"] }
    /// resources:
    ///   aws_iam_user.ci: { action: create, after: { name: ci } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { forbidden: ["aws_iam_user*", "aws_iam_access_key"] }
    /// resources:
    ///   aws_iam_role.ci: { action: create, after: { name: ci } }
    /// ```
    ///
    /// ## Fix
    /// None: use an allowed type (an IAM role assumed through OIDC instead of an IAM user,
    /// the managed service instead of a self-managed one), or ask for the type to be added to
    /// `allowed`.
    ///
    /// ## Parameters
    /// - `allowed`: globs of the allowed resource types; empty means every type not forbidden.
    /// - `forbidden`: globs of resource types that are never allowed.
    ///
    /// Both empty (the default): the rule is inactive.
    ///
    /// ```toml
    /// [rules.WD-GOV-004]
    /// allowed = ["aws_*", "random_*", "terraform_data"]
    /// forbidden = ["aws_iam_user*", "aws_iam_access_key", "aws_default_*"]
    /// ```
    ///
    /// ## References
    /// - [Torque AWS Allowed Resource Types policy](https://github.com/QualiNext/opa)
    /// - [Spacelift dont-allow-resource-type policy](https://github.com/spacelift-io/spacelift-policies-example-library/blob/main/plan/dont-allow-resource-type.rego)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static RESOURCE_TYPE_NOT_ALLOWED = RuleMeta {
        id: "WD-GOV-004",
        name: "resource-type-not-allowed",
        title: "Resource type is not in the allowed list or is forbidden",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[
            Param {
                name: "allowed",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "Globs of allowed resource types; empty: every type that is not forbidden",
            },
            Param {
                name: "forbidden",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "Globs of resource types that are never allowed",
            },
        ],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.provider == warden_core::inputs::kubernetes::PROVIDER {
        return;
    }
    let forbidden = cx.param_strs("forbidden");
    let allowed = cx.param_strs("allowed");
    let kind = resource.kind.as_str();
    if let Some(pattern) = forbidden.iter().find(|p| glob_matches(p, kind)) {
        out.violation(
            resource,
            format!("resource type `{kind}` is forbidden (matches `{pattern}`)"),
        );
    } else if !allowed.is_empty() && !allowed.iter().any(|p| glob_matches(p, kind)) {
        let list = helpers::code_list(&allowed, ", ");
        out.violation(
            resource,
            format!("resource type `{kind}` is not in the allowed types ({list})"),
        );
    }
}
