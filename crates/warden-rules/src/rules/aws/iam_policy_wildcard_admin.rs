use super::planned::{planned, references_only, Planned};
use crate::helpers::{statements, string_or_list};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// IAM policies that grant full administrator access: a statement with `Effect: Allow`,
    /// `Action: "*"` (or `"*:*"`) and `Resource: "*"`. It reads the `policy` JSON of
    /// `aws_iam_policy`, `aws_iam_role_policy`, `aws_iam_user_policy`, `aws_iam_group_policy`
    /// and the `inline_policy` blocks of `aws_iam_role`, and the `aws_iam_policy_document`
    /// data source: its `json` when known, otherwise its `statement` blocks and the
    /// `source_policy_documents` / `override_policy_documents` it merges.
    ///
    /// A policy known only after apply is reported as unknown, except when it comes from
    /// `aws_iam_policy_document` data sources, which the rule checks where they are.
    ///
    /// ## Why it matters
    /// `*` on `*` is the AdministratorAccess policy under another name: whoever holds it can
    /// read every secret, delete every resource, create new users and keys, and remove the
    /// logging that would show it. Hand-written wildcard policies are also invisible to reviews
    /// that look for the `AdministratorAccess` managed policy. Least privilege limits what a
    /// leaked credential or a compromised workload can do.
    ///
    /// ## Example
    /// ```yaml
    /// aws_iam_policy.ci: { action: create, after: { name: ci, policy: "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}" } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_iam_policy.ci: { action: create, after: { name: ci, policy: "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":\"arn:aws:s3:::artifacts/*\"}]}" } }
    /// ```
    ///
    /// ## Fix
    /// No automatic fix: list the actions and resources the principal needs (IAM Access
    /// Analyzer can generate a policy from CloudTrail activity). If administrator access is
    /// really intended, attach the `AdministratorAccess` managed policy to a role that people
    /// assume through IAM Identity Center, so that it is visible and reviewed as such.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Security best practices in IAM (least privilege)](https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege)
    /// - Checkov `CKV_AWS_62`, `CKV_AWS_63`, `CKV_AWS_1`; Trivy `AVD-AWS-0057`
    pub(crate) static IAM_POLICY_WILDCARD_ADMIN = RuleMeta {
        id: "WD-AWS-028",
        name: "iam-policy-wildcard-admin",
        title: "IAM policy allows every action on every resource",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &[
            "aws_iam_policy",
            "aws_iam_role_policy",
            "aws_iam_user_policy",
            "aws_iam_group_policy",
            "aws_iam_role",
            "data.aws_iam_policy_document",
        ],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_1", "AVD-AWS-0057"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Where policy JSON may come from without being checked at its own address.
const DOCUMENT_SOURCES: &[&str] = &["data.aws_iam_policy_document"];

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.kind.as_str() {
        "aws_iam_policy_document" => check_document(resource, out),
        "aws_iam_role" => {
            let policies = match planned(resource, cx, "inline_policy") {
                Planned::Set(v) => v.items(),
                Planned::Unknown => return out.unknown(resource, "inline_policy"),
                Planned::Default => &[],
            };
            for i in 0..policies.len() {
                check_json_attr(resource, cx, &format!("inline_policy.{i}.policy"), out);
            }
        }
        _ => check_json_attr(resource, cx, "policy", out),
    }
}

/// Checks a policy held as a JSON string at `attribute`.
fn check_json_attr(
    resource: &Resource,
    cx: &CheckContext<'_>,
    attribute: &str,
    out: &mut Report<'_>,
) {
    match resource.attr(attribute) {
        Attr::Known(Value::String(text)) => report_admin(resource, attribute, text, out),
        Attr::Unknown
            if !references_only(resource, cx, &strip_indexes(attribute), DOCUMENT_SOURCES) =>
        {
            out.unknown(resource, attribute);
        }
        _ => {}
    }
}

/// Checks an `aws_iam_policy_document` data source.
fn check_document(resource: &Resource, out: &mut Report<'_>) {
    if let Some(json) = resource.after_str("json").filter(|j| !j.is_empty()) {
        return report_admin(resource, "json", json, out);
    }
    let statements = match resource.attr("statement") {
        Attr::Known(v) => v.items(),
        Attr::Unknown => return out.unknown(resource, "statement"),
        Attr::Absent => &[],
    };
    for (i, statement) in statements.iter().enumerate() {
        let path = format!("statement.{i}");
        let effect = statement.field("effect").as_str().unwrap_or("Allow");
        if effect != "Allow" {
            continue;
        }
        let actions = resource.attr(&format!("{path}.actions"));
        let resources = resource.attr(&format!("{path}.resources"));
        if matches!(actions, Attr::Unknown) && may_be_admin(resources, is_all_resources) {
            out.unknown(resource, &format!("{path}.actions"));
            continue;
        }
        if matches!(resources, Attr::Unknown) && may_be_admin(actions, is_all_actions) {
            out.unknown(resource, &format!("{path}.resources"));
            continue;
        }
        if is_all_actions(actions.known()) && is_all_resources(resources.known()) {
            let sid = statement.field("sid").as_str().filter(|s| !s.is_empty());
            out.violation(resource, admin_message(sid, i)).at(&path);
        }
    }
    for key in ["source_policy_documents", "override_policy_documents"] {
        match resource.attr(key) {
            Attr::Known(docs) => {
                for (i, doc) in docs.items().iter().enumerate() {
                    match doc.as_str() {
                        Some(text) => report_admin(resource, &format!("{key}.{i}"), text, out),
                        None if resource.is_unknown(&format!("{key}.{i}")) => {
                            out.unknown(resource, &format!("{key}.{i}"))
                        }
                        None => {}
                    }
                }
            }
            Attr::Unknown => out.unknown(resource, key),
            Attr::Absent => {}
        }
    }
}

/// `true` when the other half of a statement does not rule out administrator access.
fn may_be_admin(other: Attr<'_>, full: fn(Option<&Value>) -> bool) -> bool {
    match other {
        Attr::Known(v) => full(Some(v)),
        Attr::Unknown => true,
        Attr::Absent => false,
    }
}

/// Reports every administrator statement of a JSON policy document.
fn report_admin(resource: &Resource, attribute: &str, text: &str, out: &mut Report<'_>) {
    let Ok(document) = serde_json::from_str::<Value>(text) else {
        return;
    };
    for (i, statement) in statements(&document).into_iter().enumerate() {
        if statement.field("Effect").as_str() == Some("Allow")
            && is_all_actions(statement.get("Action"))
            && is_all_resources(statement.get("Resource"))
        {
            let sid = statement.field("Sid").as_str().filter(|s| !s.is_empty());
            out.violation(resource, admin_message(sid, i)).at(attribute);
        }
    }
}

fn admin_message(sid: Option<&str>, index: usize) -> String {
    let which = sid.map_or_else(
        || format!("statement {index}"),
        |s| format!("statement `{s}`"),
    );
    format!("{which} allows every action (`*`) on every resource (`*`): full administrator access")
}

fn is_all_actions(value: Option<&Value>) -> bool {
    string_or_list(value)
        .iter()
        .any(|a| matches!(a.trim(), "*" | "*:*"))
}

fn is_all_resources(value: Option<&Value>) -> bool {
    string_or_list(value).iter().any(|r| r.trim() == "*")
}

/// `inline_policy.0.policy` → `inline_policy.policy` (configuration paths have no indexes).
fn strip_indexes(path: &str) -> String {
    path.split('.')
        .filter(|s| s.parse::<usize>().is_err())
        .collect::<Vec<_>>()
        .join(".")
}
