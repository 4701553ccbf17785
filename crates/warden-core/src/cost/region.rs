//! The region a resource is priced in.
//!
//! AWS: the region of the resource's provider configuration (a module's provider without a
//! region inherits the root's), else its `availability_zone` attribute, else the catalog's
//! default region. Google Cloud and Azure resources name their own place (`zone`, `region`,
//! `location`), which overrides the provider's default region, so there the attribute comes
//! first. Whatever the source, the estimate says which it was.

use std::borrow::Cow;

use crate::changeset::{ChangeSet, Setting};
use crate::resource::Resource;
use crate::value::Value;

use super::catalog::Catalog;
use super::estimate::RegionSource;

/// The region of `resource` (read from `state`, its after state unless deleted), or `None`
/// when no source names one and the catalog has no default for the provider.
pub(crate) fn resolve<'a>(
    resource: &'a Resource,
    state: &'a Value,
    changes: &'a ChangeSet,
    catalog: &'a Catalog,
) -> Option<(Cow<'a, str>, RegionSource)> {
    let provider = provider_family(&resource.provider);
    let from_attribute = || attribute_region(provider, state);
    let from_provider = || provider_region(resource, changes);
    let found = match provider {
        "aws" => from_provider()
            .map(|r| (r, RegionSource::Provider))
            .or_else(|| from_attribute().map(|r| (r, RegionSource::Attribute))),
        _ => from_attribute()
            .map(|r| (r, RegionSource::Attribute))
            .or_else(|| from_provider().map(|r| (r, RegionSource::Provider))),
    };
    found.or_else(|| {
        catalog
            .default_region(provider)
            .map(|r| (Cow::Borrowed(r), RegionSource::Default))
    })
}

/// `google-beta` prices as `google`.
pub(crate) fn provider_family(provider: &str) -> &str {
    match provider {
        "google-beta" => "google",
        other => other,
    }
}

/// The known region of the provider configuration the resource uses; a module's provider
/// block that sets none inherits the root's.
fn provider_region<'a>(resource: &'a Resource, changes: &'a ChangeSet) -> Option<Cow<'a, str>> {
    let tf = changes.terraform.as_ref()?;
    let provider = tf.provider_of(resource)?;
    let region = match &provider.region {
        Setting::Known(v) => v.as_str(),
        Setting::Unknown(_) => None,
        Setting::Unset => tf
            .providers
            .iter()
            .find(|p| p.name == provider.name && p.alias.is_none() && p.module.is_none())
            .and_then(|root| root.region.as_str()),
    }?;
    (!region.is_empty()).then_some(Cow::Borrowed(region))
}

/// The region the resource's own attributes name.
fn attribute_region<'a>(provider: &str, state: &'a Value) -> Option<Cow<'a, str>> {
    let get = |key: &str| {
        state
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match provider {
        "aws" => get("availability_zone")
            .and_then(aws_zone_region)
            .map(Cow::Borrowed),
        "google" => get("region")
            .map(|r| Cow::Borrowed(last_segment(r)))
            .or_else(|| get("zone").map(|z| Cow::Borrowed(gcp_zone_region(last_segment(z)))))
            .or_else(|| get("location").map(gcp_location)),
        "azurerm" => get("location").map(azure_location),
        _ => None,
    }
}

/// `us-east-1a` → `us-east-1`; a Local Zone (`us-east-1-bos-1a`) keeps its parent region.
fn aws_zone_region(zone: &str) -> Option<&str> {
    let trimmed = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
    if trimmed.len() == zone.len() || !trimmed.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // `us-east-1-bos-1` → `us-east-1`: the first three dash-separated parts.
    let mut parts = 0;
    for (i, c) in trimmed.char_indices() {
        if c == '-' {
            parts += 1;
            if parts == 3 {
                return trimmed.get(..i);
            }
        }
    }
    Some(trimmed)
}

/// The name at the end of a self link (`projects/p/zones/us-central1-a` → `us-central1-a`).
fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// `us-central1-a` → `us-central1`.
fn gcp_zone_region(zone: &str) -> &str {
    match zone.rsplit_once('-') {
        Some((region, suffix)) if suffix.len() == 1 && region.contains('-') => region,
        _ => zone,
    }
}

/// A GKE or Cloud Storage `location`: a zone, a region, or a multi-region (`US`), in any case.
fn gcp_location(location: &str) -> Cow<'_, str> {
    let region = gcp_zone_region(location);
    if region.chars().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(region.to_ascii_lowercase())
    } else {
        Cow::Borrowed(region)
    }
}

/// `East US` → `eastus` (Azure accepts display names and names).
fn azure_location(location: &str) -> Cow<'_, str> {
    if location.chars().any(|c| c.is_ascii_uppercase() || c == ' ') {
        Cow::Owned(
            location
                .chars()
                .filter(|c| *c != ' ')
                .map(|c| c.to_ascii_lowercase())
                .collect(),
        )
    } else {
        Cow::Borrowed(location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_locations_name_regions() {
        assert_eq!(aws_zone_region("us-east-1a"), Some("us-east-1"));
        assert_eq!(aws_zone_region("ap-southeast-1c"), Some("ap-southeast-1"));
        assert_eq!(aws_zone_region("us-east-1-bos-1a"), Some("us-east-1"));
        assert_eq!(aws_zone_region("us-east-1"), None);
        assert_eq!(gcp_zone_region("us-central1-a"), "us-central1");
        assert_eq!(gcp_zone_region("europe-west1"), "europe-west1");
        assert_eq!(gcp_location("US"), "us");
        assert_eq!(gcp_location("US-CENTRAL1"), "us-central1");
        assert_eq!(azure_location("West Europe"), "westeurope");
        assert_eq!(azure_location("eastus"), "eastus");
    }
}
