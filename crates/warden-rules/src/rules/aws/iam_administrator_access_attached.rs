use super::planned::{planned, references_only, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Attachments of the `AdministratorAccess` managed policy (any ARN ending in
    /// `:policy/AdministratorAccess`, in every AWS partition) to a role, user or group:
    /// `policy_arn` of `aws_iam_role_policy_attachment`, `aws_iam_user_policy_attachment`,
    /// `aws_iam_group_policy_attachment` and `aws_iam_policy_attachment`; `policy_arns` of the
    /// `aws_iam_*_policy_attachments_exclusive` resources; and `managed_policy_arns` of
    /// `aws_iam_role`.
    ///
    /// A policy ARN known only after apply is reported as unknown, except when it references
    /// an `aws_iam_policy` managed in the configuration: that is a customer managed policy,
    /// whose content WD-AWS-028 checks.
    ///
    /// ## Why it matters
    /// `AdministratorAccess` grants every action on every resource. Attached to a role that a
    /// CI system, an application or a third party can assume, it turns any compromise of that
    /// principal into a compromise of the whole account. Granting it should be a deliberate,
    /// reviewed decision, not a line in a routine change.
    ///
    /// ## Example
    /// ```yaml
    /// aws_iam_role_policy_attachment.ci: { action: create, after: { role: ci, policy_arn: "arn:aws:iam::aws:policy/AdministratorAccess" } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_iam_role_policy_attachment.ci: { action: create, after: { role: ci, policy_arn: "arn:aws:iam::aws:policy/PowerUserAccess" } }
    /// ```
    ///
    /// ## Fix
    /// No automatic fix: attach a policy scoped to what the principal does. Keep
    /// administrator access for break-glass roles assumed through IAM Identity Center, and
    /// record an exception when this attachment is intended.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: AdministratorAccess managed policy](https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html)
    /// - [AWS: Security best practices in IAM](https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html)
    /// - Checkov `CKV_AWS_274`
    pub(crate) static IAM_ADMINISTRATOR_ACCESS_ATTACHED = RuleMeta {
        id: "WD-AWS-029",
        name: "iam-administrator-access-attached",
        title: "AdministratorAccess managed policy is attached to a principal",
        severity: Severity::High,
        enforcement: Enforcement::RequireApproval,
        kinds: &[
            "aws_iam_role_policy_attachment",
            "aws_iam_user_policy_attachment",
            "aws_iam_group_policy_attachment",
            "aws_iam_policy_attachment",
            "aws_iam_role_policy_attachments_exclusive",
            "aws_iam_user_policy_attachments_exclusive",
            "aws_iam_group_policy_attachments_exclusive",
            "aws_iam_role",
        ],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_AWS_274"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Resources whose ARN is a customer managed policy.
const CUSTOMER_POLICIES: &[&str] = &["aws_iam_policy"];

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let attribute = match resource.kind.as_str() {
        "aws_iam_role" => "managed_policy_arns",
        kind if kind.ends_with("_exclusive") => "policy_arns",
        _ => "policy_arn",
    };
    let value = match planned(resource, cx, attribute) {
        Planned::Set(v) => v,
        Planned::Unknown => {
            if !references_only(resource, cx, attribute, CUSTOMER_POLICIES) {
                out.unknown(resource, attribute);
            }
            return;
        }
        Planned::Default => return,
    };
    if let Value::String(arn) = value {
        if is_admin(arn) {
            out.violation(resource, target_message(resource, arn))
                .at(attribute);
        }
        return;
    }
    let mut unknown = false;
    for (i, arn) in value.items().iter().enumerate() {
        match arn.as_str() {
            Some(arn) if is_admin(arn) => {
                out.violation(resource, target_message(resource, arn))
                    .at(&format!("{attribute}.{i}"));
            }
            None if resource.is_unknown(&format!("{attribute}.{i}")) => unknown = true,
            _ => {}
        }
    }
    if unknown && !references_only(resource, cx, attribute, CUSTOMER_POLICIES) {
        out.unknown(resource, attribute);
    }
}

fn is_admin(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.ends_with(":policy/AdministratorAccess")
}

fn target_message(resource: &Resource, arn: &str) -> String {
    let target = match resource.kind.as_str() {
        "aws_iam_role" => Some(format!(
            "role `{}`",
            resource.after_str("name").unwrap_or(&resource.name)
        )),
        _ => [
            ("role", "role"),
            ("user", "user"),
            ("group", "group"),
            ("role_name", "role"),
            ("user_name", "user"),
            ("group_name", "group"),
        ]
        .into_iter()
        .find_map(|(k, what)| resource.after_str(k).map(|v| format!("{what} `{v}`")))
        .or_else(|| {
            let names: Vec<&str> = ["roles", "users", "groups"]
                .into_iter()
                .flat_map(|k| {
                    resource
                        .after
                        .field(k)
                        .items()
                        .iter()
                        .filter_map(Value::as_str)
                })
                .collect();
            (!names.is_empty()).then(|| format!("`{}`", names.join("`, `")))
        }),
    };
    match target {
        Some(t) => format!("`{arn}` (full administrator access) is attached to {t}"),
        None => format!("`{arn}` (full administrator access) is attached"),
    }
}
