//! Where each resource kind keeps its instance type (machine type, VM size, DB instance
//! class, cache node type), and the allow/forbid matching WD-GOV-002 and WD-GOV-009 share.

use warden_core::exceptions::glob_matches;
use warden_core::{Attr, Resource, Value};

use crate::context::Report;

/// The resource kinds that carry an instance type.
pub(super) const KINDS: &[&str] = &[
    "aws_instance",
    "aws_launch_template",
    "aws_launch_configuration",
    "aws_db_instance",
    "aws_rds_cluster_instance",
    "aws_eks_node_group",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "google_compute_instance",
    "google_compute_instance_template",
    "azurerm_linux_virtual_machine",
    "azurerm_windows_virtual_machine",
    "azurerm_virtual_machine",
];

/// The naming family of an instance type, so a fix never proposes an EC2 type for an RDS
/// instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// EC2 (`m5.large`).
    Ec2,
    /// RDS (`db.r6g.large`).
    Rds,
    /// ElastiCache (`cache.r6g.large`).
    Cache,
    /// Compute Engine (`e2-medium`).
    Gce,
    /// Azure VM sizes (`Standard_D2s_v3`).
    Azure,
}

/// The attribute of a resource that holds its instance type(s).
#[derive(Debug, Clone, Copy)]
pub(super) struct Site {
    /// Attribute name.
    pub(super) attribute: &'static str,
    /// `true` when the attribute is a list of types (`aws_eks_node_group.instance_types`).
    pub(super) list: bool,
    /// The family of types the attribute takes.
    pub(super) family: Family,
}

impl Site {
    /// How a message says what the attribute holds: a list `includes` a type, a single
    /// attribute `is` one.
    #[must_use]
    pub(super) fn verb(self) -> &'static str {
        if self.list {
            "includes"
        } else {
            "is"
        }
    }
}

/// The instance type attribute of a resource kind.
#[must_use]
pub(super) fn site(kind: &str) -> Option<Site> {
    let (attribute, list, family) = match kind {
        "aws_instance" | "aws_launch_template" | "aws_launch_configuration" => {
            ("instance_type", false, Family::Ec2)
        }
        "aws_db_instance" | "aws_rds_cluster_instance" => ("instance_class", false, Family::Rds),
        "aws_eks_node_group" => ("instance_types", true, Family::Ec2),
        "aws_elasticache_cluster" | "aws_elasticache_replication_group" => {
            ("node_type", false, Family::Cache)
        }
        "google_compute_instance" | "google_compute_instance_template" => {
            ("machine_type", false, Family::Gce)
        }
        "azurerm_linux_virtual_machine" | "azurerm_windows_virtual_machine" => {
            ("size", false, Family::Azure)
        }
        "azurerm_virtual_machine" => ("vm_size", false, Family::Azure),
        _ => return None,
    };
    Some(Site {
        attribute,
        list,
        family,
    })
}

/// The instance type attribute of a resource and the types it declares there. `None` when the
/// kind carries no instance type, the type comes from elsewhere (a launch template), or it is
/// known only after apply, which is reported as unknown.
#[must_use]
pub(super) fn declared<'a>(
    resource: &'a Resource,
    out: &mut Report<'_>,
) -> Option<(Site, Vec<&'a str>)> {
    let site = site(&resource.kind)?;
    match types(resource, site) {
        Types::Known(values) => Some((site, values)),
        Types::Unknown => {
            out.unknown(resource, site.attribute);
            None
        }
        Types::Absent => None,
    }
}

/// The instance types of a resource.
#[derive(Debug)]
enum Types<'a> {
    /// Known types (for a list attribute, its known elements).
    Known(Vec<&'a str>),
    /// Known only after apply.
    Unknown,
    /// Not set here (the type comes from elsewhere, e.g. a launch template).
    Absent,
}

/// The instance types a resource declares.
#[must_use]
fn types<'a>(resource: &'a Resource, site: Site) -> Types<'a> {
    match resource.attr(site.attribute) {
        Attr::Known(Value::String(s)) => Types::Known(vec![s.as_str()]),
        Attr::Known(Value::Array(items)) => {
            Types::Known(items.iter().filter_map(Value::as_str).collect())
        }
        Attr::Known(_) | Attr::Absent => Types::Absent,
        // An instance or node group launched from a launch template takes its type from the
        // template, which is checked on its own.
        Attr::Unknown if uses_launch_template(resource) => Types::Absent,
        Attr::Unknown => Types::Unknown,
    }
}

fn uses_launch_template(resource: &Resource) -> bool {
    matches!(
        resource.kind.as_str(),
        "aws_instance" | "aws_eks_node_group"
    ) && (!resource.after.field("launch_template").items().is_empty()
        || resource.is_unknown("launch_template"))
}

/// A type as patterns see it: lower case, and for Compute Engine the last segment of a
/// `zones/<zone>/machineTypes/<type>` URL.
#[must_use]
pub(super) fn normalize(value: &str) -> String {
    value
        .rsplit('/')
        .next()
        .unwrap_or(value)
        .trim()
        .to_ascii_lowercase()
}

/// `true` when the glob (case-insensitive) matches the type.
#[must_use]
pub(super) fn matches(pattern: &str, value: &str) -> bool {
    glob_matches(&pattern.trim().to_ascii_lowercase(), &normalize(value))
}

/// Why WD-GOV-002 rejects a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Denial<'p> {
    /// It matches this forbidden pattern.
    Forbidden(&'p str),
    /// The allow-list is not empty and no pattern of it matches.
    NotAllowed,
}

/// Whether an allow-list (empty: no allow-list) and a deny-list reject a type; forbidden
/// patterns are checked first.
#[must_use]
pub(super) fn denial<'p>(
    value: &str,
    allowed: &[&'p str],
    forbidden: &[&'p str],
) -> Option<Denial<'p>> {
    if let Some(pattern) = forbidden.iter().find(|p| matches(p, value)) {
        return Some(Denial::Forbidden(pattern));
    }
    (!allowed.is_empty() && !allowed.iter().any(|p| matches(p, value)))
        .then_some(Denial::NotAllowed)
}

/// The family a type's name belongs to.
#[must_use]
pub(super) fn family_of(value: &str) -> Option<Family> {
    let v = normalize(value);
    if v.starts_with("db.") {
        Some(Family::Rds)
    } else if v.starts_with("cache.") {
        Some(Family::Cache)
    } else if v.starts_with("standard_") || v.starts_with("basic_") {
        Some(Family::Azure)
    } else if v.contains('.') {
        Some(Family::Ec2)
    } else if v.contains('-') {
        Some(Family::Gce)
    } else {
        None
    }
}

/// `true` when the pattern is a plain value, not a glob.
#[must_use]
pub(super) fn is_exact(pattern: &str) -> bool {
    !pattern.contains(['*', '?'])
}

/// The first exact allowed type of the attribute's family that is not itself forbidden: what
/// a fix can set.
#[must_use]
pub(super) fn replacement<'p>(
    site: Site,
    allowed: &[&'p str],
    forbidden: &[&'p str],
) -> Option<&'p str> {
    allowed.iter().copied().find(|p| {
        is_exact(p) && family_of(p) == Some(site.family) && denial(p, allowed, forbidden).is_none()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_is_case_insensitive_and_reads_machine_type_urls() {
        assert!(matches("standard_d*", "Standard_D2s_v3"));
        assert!(matches(
            "e2-*",
            "zones/europe-west1-b/machineTypes/e2-medium"
        ));
        assert!(!matches("m5.*", "m6i.large"));
    }

    #[test]
    fn forbidden_wins_and_empty_allow_list_allows_everything() {
        assert_eq!(
            denial("m5.24xlarge", &[], &["*.24xlarge"]),
            Some(Denial::Forbidden("*.24xlarge"))
        );
        assert_eq!(denial("m5.large", &[], &["*.24xlarge"]), None);
        assert_eq!(denial("m5.large", &["t3.*"], &[]), Some(Denial::NotAllowed));
        assert_eq!(
            denial("m5.24xlarge", &["m5.*"], &["*.24xlarge"]),
            Some(Denial::Forbidden("*.24xlarge"))
        );
    }

    #[test]
    fn replacement_stays_in_the_family() {
        let rds = site("aws_db_instance")
            .map(|s| replacement(s, &["t3.micro", "db.*", "db.t3.micro"], &[]));
        assert_eq!(rds, Some(Some("db.t3.micro")));
        let ec2 = site("aws_instance").map(|s| replacement(s, &["db.t3.micro"], &[]));
        assert_eq!(ec2, Some(None));
    }
}
