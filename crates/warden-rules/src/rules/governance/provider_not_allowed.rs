use warden_core::exceptions::glob_matches;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Managed resources whose provider is not in the allow-list. An entry is matched by its
    /// shape (globs allowed, case-insensitive):
    ///
    /// - a short name (`aws`, `google*`) matches the provider's type;
    /// - `namespace/type` (`hashicorp/aws`, `integrations/*`) matches the source on any
    ///   registry, so it covers both Terraform's and OpenTofu's;
    /// - a full source (`registry.terraform.io/hashicorp/aws`) matches exactly that.
    ///
    /// A provider known only by its short name is taken to be `hashicorp/<name>`, as Terraform
    /// does. Terraform's built-in provider (`terraform_data`) is always allowed. With an empty
    /// `allowed` list (the default) the rule is inactive. Kubernetes objects are not judged:
    /// the list names Terraform providers, and a configuration shared by plans and manifests
    /// must not deny every manifest.
    ///
    /// ## Why it matters
    /// A provider is a plugin that runs with the pipeline's credentials. An unvetted one (a
    /// typo-squatted namespace, a community fork, a provider for a SaaS nobody approved) can
    /// exfiltrate those credentials or create infrastructure outside every account the
    /// organisation governs.
    ///
    /// ## Example
    /// ```yaml
    /// params: { allowed: ["aws", "random"] }
    /// resources:
    ///   cloudflare_record.www: { action: create, after: { name: www } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { allowed: ["aws", "random"] }
    /// resources:
    ///   aws_route53_record.www: { action: create, after: { name: www } }
    /// ```
    ///
    /// ## Fix
    /// None: manage the resource with an allowed provider, or have the provider reviewed and
    /// added to `allowed`.
    ///
    /// ## Parameters
    /// - `allowed`: provider short names, `namespace/type` or full sources, globs allowed.
    ///   Empty (the default): the rule is inactive.
    ///
    /// ```toml
    /// [rules.WD-GOV-005]
    /// allowed = ["hashicorp/*", "registry.terraform.io/integrations/github"]
    /// ```
    ///
    /// ## References
    /// - [Terraform: Provider requirements and source addresses](https://developer.hashicorp.com/terraform/language/providers/requirements)
    /// - [Torque Allowed Providers policy](https://github.com/QualiNext/opa)
    /// - [Spacelift enforce-cloud-provider policy](https://github.com/spacelift-io/spacelift-policies-example-library/blob/main/plan/enforce-cloud-provider.rego)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static PROVIDER_NOT_ALLOWED = RuleMeta {
        id: "WD-GOV-005",
        name: "provider-not-allowed",
        title: "Resource uses a provider that is not allowed",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[Param {
            name: "allowed",
            kind: ParamKind::StringList,
            default: "[]",
            doc: "Allowed providers: short names, namespace/type or full sources (globs); empty: inactive",
        }],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The full source of a resource's provider, lower case (`registry.terraform.io/hashicorp/aws`).
fn full_source(resource: &Resource) -> String {
    let source = resource.provider_source.to_ascii_lowercase();
    match source.matches('/').count() {
        0 => format!("registry.terraform.io/hashicorp/{source}"),
        1 => format!("registry.terraform.io/{source}"),
        _ => source,
    }
}

/// `true` when an allow-list entry matches the provider.
fn matches(pattern: &str, short: &str, source: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    match pattern.matches('/').count() {
        0 => glob_matches(&pattern, short),
        1 => source
            .split_once('/')
            .is_some_and(|(_, rest)| glob_matches(&pattern, rest)),
        _ => glob_matches(&pattern, source),
    }
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let allowed = cx.param_strs("allowed");
    if allowed.is_empty() || resource.provider == warden_core::inputs::kubernetes::PROVIDER {
        return;
    }
    let source = full_source(resource);
    if source == "terraform.io/builtin/terraform" {
        return;
    }
    let short = resource.provider.to_ascii_lowercase();
    if short == "terraform" && !resource.provider_source.contains('/') {
        return;
    }
    if allowed.iter().any(|p| matches(p, &short, &source)) {
        return;
    }
    let list = helpers::code_list(&allowed, ", ");
    out.violation(
        resource,
        format!("provider `{source}` is not in the allowed providers ({list})"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_by_shape() {
        let source = "registry.opentofu.org/hashicorp/aws";
        assert!(matches("aws", "aws", source));
        assert!(matches("hashicorp/*", "aws", source));
        assert!(!matches(
            "registry.terraform.io/hashicorp/aws",
            "aws",
            source
        ));
        assert!(matches("registry.*.org/hashicorp/aws", "aws", source));
        assert!(!matches("integrations/github", "aws", source));
    }

    #[test]
    fn short_sources_are_hashicorp_ones() {
        let r = Resource::new("aws_s3_bucket.b", "aws_s3_bucket", Action::Create);
        assert_eq!(full_source(&r), "registry.terraform.io/hashicorp/aws");
    }
}
