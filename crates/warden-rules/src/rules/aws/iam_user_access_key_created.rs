use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `aws_iam_access_key` resources being created (or replaced, which creates a new key): a
    /// new long-lived access key for an IAM user. Existing keys that the plan leaves alone or
    /// updates (status changes) are not reported.
    ///
    /// ## Why it matters
    /// Access keys never expire. They end up in CI variables, laptops, chat messages and
    /// container images, and a leaked key works from anywhere until someone notices and
    /// deletes it. Created by Terraform, the secret is also stored in the state file.
    /// Workloads on AWS should use IAM roles, CI systems OIDC federation, and people IAM
    /// Identity Center, all of which issue short-lived credentials.
    ///
    /// ## Example
    /// ```yaml
    /// aws_iam_access_key.deploy: { action: create, after: { user: deploy, status: Active } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_iam_access_key.deploy: { action: no-op, after: { user: deploy, status: Active } }
    /// ```
    ///
    /// ## Fix
    /// No automatic fix: replace the user and key with a role the workload assumes (an
    /// instance profile, an IRSA or Pod Identity role, or an OIDC trust for GitHub Actions or
    /// GitLab CI). When a key is unavoidable, approve it explicitly, set `pgp_key` so the secret
    /// is not stored in clear in the state, and rotate it.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Require workloads to use temporary credentials](https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles)
    /// - [env0: disallow IAM user access keys](https://docs.env0.com/docs/policy-as-code)
    /// - Checkov `CKV_AWS_273`
    pub(crate) static IAM_USER_ACCESS_KEY_CREATED = RuleMeta {
        id: "WD-AWS-030",
        name: "iam-user-access-key-created",
        title: "Long-lived IAM user access key is created",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["aws_iam_access_key"],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_AWS_273"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if !matches!(resource.action, Action::Create | Action::Replace) {
        return;
    }
    let user = resource
        .after_str("user")
        .map_or_else(|| "an IAM user".to_owned(), |u| format!("IAM user `{u}`"));
    let verb = if resource.action == Action::Replace {
        "replaces"
    } else {
        "creates"
    };
    let mut message = format!("{verb} a long-lived access key for {user}");
    if resource.after.get("pgp_key").is_none_or(Value::is_null) {
        message
            .push_str("; without `pgp_key` its secret is stored in clear in the Terraform state");
    }
    out.violation(resource, message).at("user");
}
