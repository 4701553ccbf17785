use std::collections::BTreeMap;

use warden_core::exceptions::glob_matches;
use warden_core::{Mode, ProviderConfig, Setting};

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Resources placed outside the regions your organisation allows, per provider:
    ///
    /// - **AWS**: the `region` of each provider configuration that at least one live AWS
    ///   resource uses, reported once per configuration on a pseudo-resource named after it
    ///   (`provider.aws`, `provider.aws.west`, `module.net.provider.aws`), with the number of
    ///   resources it places there. A region set from an expression the plan cannot resolve,
    ///   or not set at all (then `AWS_REGION` or the profile decides at apply time, which the
    ///   plan does not record), cannot be checked and is reported as unknown. Resources with
    ///   their own `region` attribute (AWS provider v6) that differs from their provider
    ///   configuration's are checked one by one.
    /// - **Google Cloud**: the `region`, `location` and `zone` attributes of each resource. A
    ///   zone is checked by its region (`europe-west1-b` → `europe-west1`), or by itself when
    ///   a pattern names zones. Multi-region and dual-region locations (`EU`, `US`, `ASIA`,
    ///   `EUR4`, `NAM4`) and `global` are not regions: they pass only when listed explicitly
    ///   (`eu`), because data in them may be stored in any region they span.
    /// - **Azure**: the `location` of each resource, compared without case or spaces, so
    ///   `West Europe` and `westeurope` are the same.
    ///
    /// Patterns are globs (`eu-*`), compared in lower case. A provider without a list is not
    /// checked; with an empty `allowed` table (the default) the rule is inactive.
    ///
    /// ## Why it matters
    /// Data residency laws (GDPR, data sovereignty rules), customer contracts and
    /// certifications often pin where data may live; a resource created in the wrong region
    /// can breach them the moment it stores a byte. Unapproved regions also escape the
    /// guardrails, monitoring and reserved capacity set up in approved ones, and are a
    /// favourite place to hide crypto-mining from stolen credentials.
    ///
    /// ## Example
    /// ```yaml
    /// params: { allowed: { aws: ["eu-west-1", "eu-central-1"] } }
    /// providers: [{ name: aws, region: us-east-1 }]
    /// resources:
    ///   aws_s3_bucket.logs: { action: create, after: { bucket: logs } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { allowed: { aws: ["eu-west-1", "eu-central-1"] } }
    /// providers: [{ name: aws, region: eu-west-1 }]
    /// resources:
    ///   aws_s3_bucket.logs: { action: create, after: { bucket: logs } }
    /// ```
    ///
    /// ## Fix
    /// When the provider's list has an exact (non-glob) region: for an AWS provider
    /// configuration, a `provider` block setting `region` to the first one; for a resource
    /// `region` or `location`, sets it to the first one. Zones are not fixed (which zones a
    /// region has is not known here). Moving a resource to another region replaces it: move
    /// its data first.
    ///
    /// ## Parameters
    /// - `allowed`: table of provider short name (`aws`, `google`, `azurerm`; `gcp` and
    ///   `azure` are accepted too) to the list of allowed region globs. A provider with no
    ///   entry, or an empty list, is not checked; an empty table (the default) makes the rule
    ///   inactive.
    ///
    /// ```toml
    /// [rules.WD-GOV-001]
    /// allowed = { aws = ["eu-west-1", "eu-central-1"], google = ["europe-*", "eu"], azurerm = ["westeurope"] }
    /// ```
    ///
    /// Global services still go through a provider configuration: an AWS provider aliased to
    /// `us-east-1` for CloudFront certificates needs `us-east-1` allowed, or an exception for
    /// `provider.aws.<alias>`.
    ///
    /// ## References
    /// - [AWS: Specify which AWS Regions your account can use](https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html)
    /// - [Google Cloud: Resource locations organization policy](https://cloud.google.com/resource-manager/docs/organization-policy/defining-locations)
    /// - [Azure Policy: Allowed locations](https://learn.microsoft.com/en-us/azure/governance/policy/samples/built-in-policies#general)
    /// - [Torque AWS Allowed Regions policy](https://github.com/QualiNext/opa)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static REGION_NOT_ALLOWED = RuleMeta {
        id: "WD-GOV-001",
        name: "region-not-allowed",
        title: "Resources are placed in a region that is not allowed",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::Sometimes,
        params: &[Param {
            name: "allowed",
            kind: ParamKind::StringListMap,
            default: "{}",
            doc: "Provider short name (aws, google, azurerm) → allowed region globs; empty: the rule is inactive",
        }],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::ChangeSet(check),
    };
}

/// The cloud a list of regions is for: decides normalisation and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cloud {
    Aws,
    Google,
    Azure,
}

impl Cloud {
    fn label(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Google => "Google Cloud",
            Cloud::Azure => "Azure",
        }
    }

    /// Lower case; Azure locations also lose their spaces (`West Europe` → `westeurope`).
    fn normalize(self, value: &str) -> String {
        match self {
            Cloud::Azure => value
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_lowercase(),
            Cloud::Aws | Cloud::Google => value.trim().to_lowercase(),
        }
    }
}

/// One provider's allow-list.
struct Allowed<'a> {
    cloud: Cloud,
    /// As configured, for messages.
    raw: Vec<&'a str>,
    /// Normalised.
    patterns: Vec<String>,
}

impl<'a> Allowed<'a> {
    /// The list for a cloud, under its short name or alias; `None` when absent or empty.
    fn of(cx: &CheckContext<'a>, cloud: Cloud) -> Option<Allowed<'a>> {
        let table = cx.param("allowed").as_object()?;
        let keys: &[&str] = match cloud {
            Cloud::Aws => &["aws"],
            Cloud::Google => &["google", "gcp", "google-beta"],
            Cloud::Azure => &["azurerm", "azure"],
        };
        let raw: Vec<&str> = keys
            .iter()
            .filter_map(|k| table.get(*k).and_then(serde_json::Value::as_array))
            .flat_map(|list| list.iter().filter_map(serde_json::Value::as_str))
            .collect();
        if raw.is_empty() {
            return None;
        }
        let patterns = raw.iter().map(|p| cloud.normalize(p)).collect();
        Some(Allowed {
            cloud,
            raw,
            patterns,
        })
    }

    /// `true` when a normalised region matches a pattern.
    fn permits(&self, region: &str) -> bool {
        self.patterns.iter().any(|p| glob_matches(p, region))
    }

    /// The first exact (non-glob) region: what a fix can set.
    fn first_exact(&self) -> Option<&str> {
        self.patterns
            .iter()
            .map(String::as_str)
            .find(|p| !p.contains(['*', '?']))
    }

    /// The list for messages.
    fn describe(&self) -> String {
        helpers::code_list(&self.raw, ", ")
    }
}

/// AWS resources that take their region from one provider configuration.
struct Usage<'a> {
    config: Option<&'a ProviderConfig>,
    resources: usize,
}

fn check(changes: &ChangeSet, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let aws = Allowed::of(cx, Cloud::Aws);
    let google = Allowed::of(cx, Cloud::Google);
    let azure = Allowed::of(cx, Cloud::Azure);
    if aws.is_none() && google.is_none() && azure.is_none() {
        return;
    }
    let mut usage: BTreeMap<String, Usage<'_>> = BTreeMap::new();
    for resource in &changes.resources {
        if resource.mode != Mode::Managed || !resource.action.is_live() {
            continue;
        }
        match (resource.provider.as_str(), &aws, &google, &azure) {
            ("aws", Some(allowed), _, _) => aws_resource(resource, cx, allowed, &mut usage, out),
            ("google" | "google-beta", _, Some(allowed), _) => {
                google_resource(resource, allowed, out)
            }
            ("azurerm", _, _, Some(allowed)) => match resource.attr("location") {
                Attr::Known(v) => {
                    if let Some(location) = v.as_str() {
                        check_location(resource, "location", location, allowed, out);
                    }
                }
                Attr::Unknown => out.unknown(resource, "location"),
                Attr::Absent => {}
            },
            _ => {}
        }
    }
    if let Some(allowed) = &aws {
        for (key, use_) in &usage {
            provider_finding(changes, key, use_, allowed, out);
        }
    }
}

/// An AWS resource: its own `region` when it overrides the provider's, else counted against
/// its provider configuration.
fn aws_resource<'a>(
    resource: &Resource,
    cx: &CheckContext<'a>,
    allowed: &Allowed<'_>,
    usage: &mut BTreeMap<String, Usage<'a>>,
    out: &mut Report<'_>,
) {
    let config = cx.provider_of(resource);
    let provider_region = config
        .and_then(|p| p.region.as_str())
        .map(|r| Cloud::Aws.normalize(r));
    if let Some(region) = resource.attr("region").known().and_then(Value::as_str) {
        if provider_region.as_deref() != Some(Cloud::Aws.normalize(region).as_str()) {
            check_location(resource, "region", region, allowed, out);
            return;
        }
    }
    let key = config.map_or_else(|| resource.provider.clone(), |p| p.key.clone());
    usage
        .entry(key)
        .or_insert(Usage {
            config,
            resources: 0,
        })
        .resources += 1;
}

/// The one finding of an AWS provider configuration.
fn provider_finding(
    changes: &ChangeSet,
    key: &str,
    use_: &Usage<'_>,
    allowed: &Allowed<'_>,
    out: &mut Report<'_>,
) {
    let name = use_.config.map_or("aws", |p| p.name.as_str());
    let alias = use_.config.and_then(|p| p.alias.as_deref());
    let module = use_.config.and_then(|p| p.module.clone());
    let mut address = module.as_ref().map(|m| format!("{m}.")).unwrap_or_default();
    address.push_str("provider.");
    address.push_str(name);
    if let Some(alias) = alias {
        address.push('.');
        address.push_str(alias);
    }
    let mut provider = Resource::new(address, "provider", Action::NoOp);
    provider.provider = name.to_owned();
    provider.provider_source = name.to_owned();
    provider.module = module;
    provider.source.file = Some(changes.input.path.clone());

    let region = match use_.config.map(|p| &p.region) {
        Some(Setting::Known(v)) => v.as_str(),
        // Unresolvable expression, or unset: the region is decided at apply time (from
        // `AWS_REGION` or the profile when unset), so it cannot be checked here.
        _ => None,
    };
    let Some(region) = region else {
        out.unknown(&provider, "region");
        return;
    };
    if allowed.permits(&Cloud::Aws.normalize(region)) {
        return;
    }
    let count = use_.resources;
    let message = format!(
        "provider configuration `{key}` places {count} resource{} in region `{region}`, which is not an allowed {} region (allowed: {})",
        if count == 1 { "" } else { "s" },
        allowed.cloud.label(),
        allowed.describe(),
    );
    let pending = out.violation(&provider, message).at("region");
    if let Some(target) = allowed.first_exact() {
        let alias_line = alias
            .map(|a| format!("  alias  = \"{a}\"\n"))
            .unwrap_or_default();
        let module_line = use_
            .config
            .and_then(|p| p.module.as_deref())
            .map(|m| format!("# in {m}\n"))
            .unwrap_or_default();
        pending.fix(Fix::snippet(
            format!("set the region of provider configuration `{key}` to `{target}`"),
            format!(
                "{module_line}provider \"{name}\" {{\n{alias_line}  region = \"{target}\"\n}}\n"
            ),
        ));
    }
}

/// A Google Cloud resource: `region`, `location` and `zone`; unknown only when none of them
/// is known.
fn google_resource(resource: &Resource, allowed: &Allowed<'_>, out: &mut Report<'_>) {
    let mut checked = false;
    let mut unknown = None;
    for attribute in ["region", "location", "zone"] {
        match resource.attr(attribute) {
            Attr::Known(v) => {
                if let Some(value) = v.as_str() {
                    checked = true;
                    check_location(resource, attribute, value, allowed, out);
                }
            }
            Attr::Unknown => unknown = unknown.or(Some(attribute)),
            Attr::Absent => {}
        }
    }
    if let (false, Some(attribute)) = (checked, unknown) {
        out.unknown(resource, attribute);
    }
}

/// The region of a Google Cloud zone (`europe-west1-b` → `europe-west1`), `None` for anything
/// that is not a zone.
fn zone_region(value: &str, is_zone_attribute: bool) -> Option<&str> {
    let (region, suffix) = value.rsplit_once('-')?;
    let zone_like = suffix.len() == 1 && suffix.chars().all(|c| c.is_ascii_lowercase());
    (region.contains('-') && (zone_like || is_zone_attribute)).then_some(region)
}

/// Checks one region-like attribute of a resource.
fn check_location(
    resource: &Resource,
    attribute: &str,
    value: &str,
    allowed: &Allowed<'_>,
    out: &mut Report<'_>,
) {
    let cloud = allowed.cloud;
    let normalized = cloud.normalize(value);
    if normalized.is_empty() || allowed.permits(&normalized) {
        return;
    }
    let zone_of = match cloud {
        Cloud::Google => zone_region(&normalized, attribute == "zone"),
        Cloud::Aws | Cloud::Azure => None,
    };
    let label = cloud.label();
    let list = allowed.describe();
    let noun = if attribute == "location" {
        "location"
    } else {
        "region"
    };
    let message = match zone_of {
        Some(region) if allowed.permits(region) => return,
        Some(region) => format!(
            "`{attribute}` `{value}` is in region `{region}`, which is not an allowed {label} region (allowed: {list})"
        ),
        None => format!("`{attribute}` `{value}` is not an allowed {label} {noun} (allowed: {list})"),
    };
    let pending = out.violation(resource, message).at(attribute);
    // A zone cannot be set to a region, and which zones a region has is not known here.
    if let (None, Some(target)) = (zone_of, allowed.first_exact()) {
        pending.fix(Fix::set(
            format!("move the resource to `{target}` by setting `{attribute}` (this replaces it: move its data first)"),
            attribute,
            target,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_map_to_their_region() {
        assert_eq!(zone_region("europe-west1-b", false), Some("europe-west1"));
        assert_eq!(zone_region("europe-west1", false), None);
        assert_eq!(zone_region("eu", false), None);
        assert_eq!(zone_region("us-south1-ai1b", true), Some("us-south1"));
    }

    #[test]
    fn azure_locations_ignore_case_and_spaces() {
        assert_eq!(Cloud::Azure.normalize("West Europe"), "westeurope");
        assert_eq!(Cloud::Google.normalize(" EU "), "eu");
    }
}
