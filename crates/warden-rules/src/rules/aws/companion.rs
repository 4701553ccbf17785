//! What the rules that ask for a separate resource next to a new one share (a bucket's public
//! access block or encryption configuration, a VPC's flow log): whether the plan has one that
//! refers to the new resource, and how a suggested block refers to it.

use crate::prelude::*;

/// How a block suggested next to a resource refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// The lines that make the block iterate like the resource (`count` or `for_each`, then a
    /// blank line), or nothing for a single resource.
    pub(super) iteration: String,
    /// The resource instance inside the block: `aws_s3_bucket.b`, `each.value`,
    /// `aws_s3_bucket.b[count.index]`.
    pub(super) instance: String,
}

/// For a resource being created or replaced that no live `kind` in the plan refers to through
/// `attribute` (a reference in the configuration, or a known value equal to one of the
/// resource's `target_attrs`): how a suggested `kind` block would refer to it. `None` when the
/// resource is not new or already has one.
#[must_use]
pub(super) fn missing(
    resource: &Resource,
    cx: &CheckContext<'_>,
    kind: &str,
    attribute: &str,
    target_attrs: &[&str],
) -> Option<Target> {
    if !matches!(resource.action, Action::Create | Action::Replace)
        || !cx
            .referrers(resource, kind, attribute, target_attrs)
            .is_empty()
    {
        return None;
    }
    let block = format!("{}.{}", resource.kind, resource.name);
    Some(match &resource.index {
        Some(Value::String(_)) => Target {
            iteration: format!("  for_each = {block}\n\n"),
            instance: "each.value".to_owned(),
        },
        Some(_) => Target {
            iteration: format!("  count = length({block})\n\n"),
            instance: format!("{block}[count.index]"),
        },
        None => Target {
            iteration: String::new(),
            instance: block,
        },
    })
}
