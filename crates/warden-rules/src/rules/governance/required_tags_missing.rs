use warden_core::exceptions::glob_matches;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Taggable resources that lack a required tag, or whose tag value does not match the
    /// required pattern. A resource is taggable when its planned value has a `tags` map (AWS,
    /// Azure; `null` counts) or, for Google Cloud, `labels`.
    ///
    /// The tags checked are the ones the resource will carry: the AWS provider's
    /// `default_tags`, `tags_all` and `tags` (Google Cloud: `labels` and `terraform_labels`).
    /// Google Cloud label keys are lower case, so a required `Owner` is looked up as `owner`
    /// there. A value must be non-empty and, when the parameter gives a regular expression,
    /// match it as a whole. One finding per resource lists every missing or invalid tag; a
    /// tag whose value is known only after apply is reported as unknown.
    ///
    /// With an empty `tags` table (the default) the rule is inactive.
    ///
    /// ## Why it matters
    /// Tags are how cost is allocated, how owners are found during an incident, and how
    /// automation (backups, patching, shutdown schedules, data classification) selects what
    /// it acts on. An untagged resource is nobody's: its cost cannot be charged back, and it
    /// is skipped by every policy that selects by tag.
    ///
    /// ## Example
    /// ```yaml
    /// params: { tags: { Owner: "", Environment: "prod|staging|dev" } }
    /// resources:
    ///   aws_s3_bucket.logs: { action: create, after: { bucket: logs, tags: { Environment: qa } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { tags: { Owner: "", Environment: "prod|staging|dev" } }
    /// providers: [{ name: aws, region: eu-west-1, default_tags: { Owner: platform } }]
    /// resources:
    ///   aws_s3_bucket.logs: { action: create, after: { bucket: logs, tags: { Environment: prod } } }
    /// ```
    ///
    /// ## Fix
    /// When `defaults` has a valid value for every missing or invalid tag, sets those tags on
    /// the resource. Otherwise add them yourself; for AWS, `default_tags` in the provider
    /// block tags every resource at once.
    ///
    /// ## Parameters
    /// - `tags`: table of required tag key to the regular expression its value must match
    ///   (anchored: the whole value); `""` accepts any non-empty value. Empty (the default):
    ///   the rule is inactive.
    /// - `defaults`: table of tag key to the value a fix may insert.
    /// - `kinds`: globs of the resource types to check (`aws_*`); empty (the default) checks
    ///   every taggable resource.
    ///
    /// ```toml
    /// [rules.WD-GOV-003]
    /// tags = { Owner = "", CostCenter = "^[0-9]{4}$", Environment = "prod|staging|dev" }
    /// defaults = { CostCenter = "0000" }
    /// ```
    ///
    /// ## References
    /// - [AWS: Best practices for tagging resources](https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/tagging-best-practices.html)
    /// - [Spacelift enforce-tags-on-resources policy](https://github.com/spacelift-io/spacelift-policies-example-library/blob/main/plan/enforce-tags-on-resources.rego)
    /// - [Infracost Cloud tagging policies](https://www.infracost.io/docs/infracost_cloud/get_started/)
    /// - No Checkov or Trivy equivalent (both need a custom policy for required tags).
    pub(crate) static REQUIRED_TAGS_MISSING = RuleMeta {
        id: "WD-GOV-003",
        name: "required-tags-missing",
        title: "Resource lacks required tags or has invalid tag values",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::Sometimes,
        params: &[
            Param {
                name: "tags",
                kind: ParamKind::StringMap,
                default: "{}",
                doc: "Required tag key → regular expression its value must match (\"\" = any non-empty value); empty: inactive",
            },
            Param {
                name: "defaults",
                kind: ParamKind::StringMap,
                default: "{}",
                doc: "Tag key → value a fix may insert",
            },
            Param {
                name: "kinds",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "Globs of resource types to check; empty: every taggable resource",
            },
        ],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The attribute that holds a resource's tags: `labels` for Google Cloud, else a `tags` map.
fn tag_attribute(resource: &Resource) -> Option<&'static str> {
    if resource.provider.starts_with("google") {
        return (resource.after.get("labels").is_some() || resource.is_unknown("labels"))
            .then_some("labels");
    }
    match resource.after.get("tags") {
        Some(Value::Object(_) | Value::Null) => Some("tags"),
        // A list of strings (Compute-style network tags, some third-party providers).
        Some(_) => None,
        None => resource.is_unknown("tags").then_some("tags"),
    }
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let required = cx
        .param("tags")
        .as_object()
        .map(|m| m.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    if required.is_empty() {
        return;
    }
    let kinds = cx.param_strs("kinds");
    if !kinds.is_empty() && !kinds.iter().any(|k| glob_matches(k, &resource.kind)) {
        return;
    }
    let Some(attribute) = tag_attribute(resource) else {
        return;
    };
    let google = attribute == "labels";
    let default_tags = if google {
        None
    } else {
        cx.provider_of(resource).map(|p| &p.default_tags)
    };
    let mut tags = helpers::effective_tags(resource, default_tags);
    if google {
        for (k, v) in resource.after.field("terraform_labels").entries() {
            if !tags.iter().any(|(key, _)| *key == k.as_str()) {
                tags.push((k.as_str(), v));
            }
        }
    }

    let mut problems: Vec<Problem<'_>> = Vec::new();
    let mut undecided = false;
    for (configured, source) in required {
        let source = source.as_str().unwrap_or_default();
        let key = if google {
            configured.to_lowercase()
        } else {
            configured.clone()
        };
        let value = tags
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_str());
        let text = match value {
            Some(v) => helpers::invalid_value(v, source),
            None => Some(MISSING.to_owned()),
        };
        let Some(text) = text else { continue };
        if value_unknown(resource, attribute, &key) {
            undecided = true;
        } else {
            problems.push(Problem {
                key,
                configured: configured.as_str(),
                text,
            });
        }
    }
    if problems.is_empty() {
        if undecided {
            out.unknown(resource, attribute);
        }
        return;
    }

    let noun = if google { "label" } else { "tag" };
    let missing: Vec<String> = problems
        .iter()
        .filter(|p| p.text == MISSING)
        .map(|p| format!("`{}`", p.key))
        .collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(helpers::missing_required(noun, &missing));
    }
    for p in problems.iter().filter(|p| p.text != MISSING) {
        parts.push(format!("{noun} `{}` {}", p.key, p.text));
    }
    let pending = out.violation(resource, parts.join("; ")).at(attribute);
    if let Some(fix) = fix(resource, cx, attribute, &problems) {
        pending.fix(fix);
    }
}

const MISSING: &str = "is missing";

/// One missing or invalid tag.
struct Problem<'a> {
    /// The key as the resource carries it (lower case for Google Cloud labels).
    key: String,
    /// The key as the `tags` parameter names it.
    configured: &'a str,
    /// What is wrong.
    text: String,
}

/// `true` when the value of a tag is known only after apply. `tags_all` is always unknown on
/// create: the provider computes it from `tags` and the provider's `default_tags`, which are
/// both read here, so it counts only when `tags` itself is unknown.
fn value_unknown(resource: &Resource, attribute: &str, key: &str) -> bool {
    if resource.is_unknown(attribute) && resource.after.get(attribute).is_none_or(Value::is_null) {
        return true;
    }
    if key.contains('.') {
        return false;
    }
    resource.is_unknown(&format!("{attribute}.{key}"))
        || resource.is_unknown(&format!("terraform_labels.{key}"))
}

/// Sets every missing or invalid tag from `defaults`, when it has a valid value for each.
fn fix(
    resource: &Resource,
    cx: &CheckContext<'_>,
    attribute: &str,
    problems: &[Problem<'_>],
) -> Option<Fix> {
    let defaults = cx.param("defaults").as_object()?;
    let required = cx.param("tags").as_object()?;
    let mut values: Vec<(&str, &str)> = Vec::new();
    for p in problems {
        let value = defaults.get(p.configured)?.as_str()?;
        let source = required
            .get(p.configured)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if helpers::invalid_value(value, source).is_some() {
            return None;
        }
        values.push((p.key.as_str(), value));
    }
    let keys = helpers::code_list(values.iter().map(|(k, _)| k), ", ");
    let description = format!("set {keys} from the configured defaults");
    let existing = resource.after.get(attribute).and_then(Value::as_object);
    match existing {
        Some(_) if values.iter().all(|(k, _)| !k.contains('.')) => {
            let mut iter = values.iter();
            let (k, v) = iter.next()?;
            let mut fix = Fix::set(description, &format!("{attribute}.{k}"), *v);
            for (k, v) in iter {
                fix = fix.and_set(&format!("{attribute}.{k}"), *v);
            }
            Some(fix)
        }
        _ => {
            let mut merged: Vec<(&str, Value)> = existing
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            merged.extend(values.iter().map(|(k, v)| (*k, Value::from(*v))));
            Some(Fix::set(description, attribute, Value::object(merged)))
        }
    }
}
