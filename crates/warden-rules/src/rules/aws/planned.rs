//! AWS-specific readings of a plan: account-wide EBS encryption and references to kinds.
//! The generic "left to the provider's default" logic lives in `crate::helpers` and is
//! re-exported here for the AWS rules.

use warden_core::{Attr, Resource};

use crate::context::CheckContext;

pub(crate) use crate::helpers::{left_to_provider, planned, Planned};

/// `true` when the plan keeps an `aws_ebs_encryption_by_default` resource enabled (its
/// `enabled` defaults to `true`) for the same provider configuration (account and region) as
/// `resource`: every new EBS volume there is encrypted whatever its own settings say.
#[must_use]
pub(crate) fn ebs_encrypted_by_default(resource: &Resource, cx: &CheckContext<'_>) -> bool {
    let own = cx.provider_of(resource).map(|p| p.key.as_str());
    cx.live_of_kind("aws_ebs_encryption_by_default")
        .any(|setting| {
            let enabled = match setting.attr("enabled") {
                Attr::Known(v) => v.as_bool() == Some(true),
                Attr::Absent => true,
                Attr::Unknown => false,
            };
            let same_provider = match (own, cx.provider_of(setting).map(|p| p.key.as_str())) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            enabled && same_provider
        })
}

/// `true` when every configuration reference of `attribute` points at a managed resource of
/// one of `kinds` (module prefixes ignored), and there is at least one.
#[must_use]
pub(crate) fn references_only(
    resource: &Resource,
    cx: &CheckContext<'_>,
    attribute: &str,
    kinds: &[&str],
) -> bool {
    let Some(config) = cx.config_of(resource) else {
        return false;
    };
    let references = config.references_of(attribute);
    !references.is_empty()
        && references.iter().all(|reference| {
            let local = strip_module_prefix(reference);
            kinds.iter().any(|kind| {
                local
                    .strip_prefix(kind)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
        })
}

/// `module.a.module.b.aws_x.y.arn` → `aws_x.y.arn`.
fn strip_module_prefix(reference: &str) -> &str {
    let mut rest = reference;
    while let Some(after) = rest.strip_prefix("module.") {
        match after.split_once('.') {
            Some((_, tail)) => rest = tail,
            None => return rest,
        }
    }
    rest
}
