//! Cost estimates: the monthly cost of every resource before and after a change, from a
//! dated catalog of public list prices (`data/prices.json`), a user's catalog merged over it,
//! and a usage file for usage-based prices.
//!
//! ```text
//! ChangeSet + Catalog + Usage -> estimate() -> CostEstimate { before, after, delta,
//!                                                            resources, free, unpriced }
//! ```
//!
//! Each resource kind has one pricer (`aws/ec2.rs`, `gcp/sql.rs` ...) that reads one state of
//! the resource and adds price components (unit price × quantity). A resource whose kind has
//! no pricer, or whose state a pricer cannot price (an unknown instance type, a region the
//! catalog does not price, a value known only after apply), is listed as unpriced with the
//! reason — never priced at zero. Kinds that cost nothing by nature (security groups, IAM)
//! are listed as free. Pure: no I/O besides reading the catalog and usage files given by path.
//! It runs in every decision, so lookups are by map and nothing is parsed per call.

mod aws;
mod azure;
pub mod catalog;
pub mod estimate;
mod gcp;
pub mod money;
mod pricer;
mod region;
pub mod usage;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::changeset::ChangeSet;
use crate::resource::{Action, Mode, Resource};
use crate::value::Value;

pub use catalog::Catalog;
pub use estimate::{
    Component, CostCounts, CostEstimate, CostLimit, FreeResource, LimitScope, RegionSource,
    ResourceCost, Unpriced,
};
pub use usage::Usage;

use pricer::{Ctx, PriceFn, Priced, State, Unpriceable};

/// Hours in a month, as the cloud providers' monthly figures count them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Why a catalog or usage file could not be used. Each names the file and the place in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// The file could not be read.
    #[error("{path}: cannot read: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The file is not valid JSON, or a member has the wrong type or name.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed, but a value is wrong.
    #[error("{path}: {key}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// The key (`tables.aws.ec2.prices.us-east-1.t3.micro`, `aws_s3_bucket.b.storage_gb`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The usage file is not valid YAML or JSON.
    #[error(transparent)]
    Input(#[from] crate::inputs::InputError),
}

/// The pricer of each kind, from every provider's list.
fn pricers() -> &'static HashMap<&'static str, PriceFn> {
    static PRICERS: OnceLock<HashMap<&'static str, PriceFn>> = OnceLock::new();
    PRICERS.get_or_init(|| {
        aws::PRICERS
            .iter()
            .chain(gcp::PRICERS)
            .chain(azure::PRICERS)
            .copied()
            .collect()
    })
}

/// `true` when a pricer covers the kind.
#[must_use]
pub fn is_priced_kind(kind: &str) -> bool {
    pricers().contains_key(kind)
}

/// `true` when a managed resource of the change sets is of a kind a pricer covers: only then
/// does an estimate belong in a decision (checked without touching the catalog).
#[must_use]
pub fn has_priced_kinds(changes: &[&ChangeSet]) -> bool {
    let pricers = pricers();
    changes.iter().any(|c| {
        c.resources
            .iter()
            .any(|r| r.mode == Mode::Managed && pricers.contains_key(r.kind.as_str()))
    })
}

/// The monthly cost of every managed resource of a change set, before and after the change.
#[must_use]
pub fn estimate(changes: &ChangeSet, catalog: &Catalog, usage: &Usage) -> CostEstimate {
    let mut out = CostEstimate::empty(catalog, usage);
    add(&mut out, changes, catalog, usage);
    out.refresh();
    out
}

/// One estimate over several change sets (the inputs of one decision).
#[must_use]
pub fn estimate_all(changes: &[&ChangeSet], catalog: &Catalog, usage: &Usage) -> CostEstimate {
    let mut out = CostEstimate::empty(catalog, usage);
    for c in changes {
        add(&mut out, c, catalog, usage);
    }
    out.refresh();
    out
}

fn add(out: &mut CostEstimate, changes: &ChangeSet, catalog: &Catalog, usage: &Usage) {
    for resource in &changes.resources {
        if resource.mode == Mode::Data || resource.action == Action::Read {
            continue;
        }
        if catalog.is_free(&resource.kind) {
            out.free.push(FreeResource {
                address: resource.address.clone(),
                kind: resource.kind.clone(),
            });
            continue;
        }
        match price_resource(resource, changes, catalog, usage) {
            Ok(priced) => out.resources.push(priced),
            Err(why) => out.unpriced.push(Unpriced {
                address: resource.address.clone(),
                kind: resource.kind.clone(),
                action: resource.action,
                reason: why.reason,
                unknown: why.unknown,
                kind_priced: is_priced_kind(&resource.kind),
            }),
        }
    }
}

/// Prices both states of a resource.
fn price_resource(
    resource: &Resource,
    changes: &ChangeSet,
    catalog: &Catalog,
    usage: &Usage,
) -> Result<ResourceCost, Unpriceable> {
    let Some(&price) = pricers().get(resource.kind.as_str()) else {
        return Err(Unpriceable::new(if resource.provider == "kubernetes" {
            "Kubernetes objects are not priced: their cost is the nodes they run on".to_owned()
        } else {
            format!("the catalog does not price `{}`", resource.kind)
        }));
    };
    let before_value = resource.before_state();
    let (has_before, has_after) = match resource.action {
        Action::Create => (false, true),
        Action::Delete => (true, false),
        // Removed from state, not destroyed: it keeps costing, outside Terraform.
        Action::Forget => (true, false),
        Action::Update | Action::Replace | Action::NoOp | Action::Read => (true, true),
    };
    let located = if has_after {
        &resource.after
    } else {
        before_value
    };
    let config = changes
        .terraform
        .as_ref()
        .and_then(|t| t.config_of(resource));
    let (region, region_source) =
        region::resolve(resource, located, changes, catalog).ok_or_else(|| {
            Unpriceable::new(format!(
                "no region: the plan names none and the catalog has no default region for `{}`",
                resource.provider
            ))
        })?;
    let view = usage.view(resource);
    let ctx = |value: &'_ Value, unknown: &'_ Value| -> Result<Priced, Unpriceable> {
        let cx = Ctx {
            state: State {
                value,
                unknown,
                config,
                config_prefix: "",
            },
            changes,
            catalog,
            region: &region,
            usage: view,
            hours: view.hours_per_month().unwrap_or(HOURS_PER_MONTH),
        };
        let mut priced = Priced::default();
        price(&cx, &mut priced)?;
        Ok(priced)
    };
    let no_op = resource.action == Action::NoOp;
    let after = if has_after {
        Some(
            ctx(&resource.after, &resource.after_unknown)
                .map_err(|e| side("after", e, has_before && !no_op))?,
        )
    } else {
        None
    };
    let before = if has_before && !no_op {
        Some(ctx(before_value, &Value::Null).map_err(|e| side("before", e, has_after))?)
    } else {
        None
    };
    let mut notes = Vec::new();
    if region_source == RegionSource::Default {
        notes.push(format!(
            "priced in {region}, the default region: the plan names no region for it"
        ));
    }
    let mut add_notes = |priced: &mut Priced| {
        for n in priced.notes.drain(..) {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
    };
    let (before_monthly, after_monthly, components_before, components) = match (before, after) {
        (Some(mut b), None) => {
            add_notes(&mut b);
            let m = b.monthly();
            // Forgotten: it keeps costing, outside Terraform.
            let after = if resource.action == Action::Forget {
                m
            } else {
                0.0
            };
            (m, after, Vec::new(), b.components)
        }
        (None, Some(mut a)) => {
            add_notes(&mut a);
            let m = a.monthly();
            (if no_op { m } else { 0.0 }, m, Vec::new(), a.components)
        }
        (Some(mut b), Some(mut a)) => {
            add_notes(&mut b);
            add_notes(&mut a);
            let (bm, am) = (b.monthly(), a.monthly());
            let before_components = if b.components == a.components {
                Vec::new()
            } else {
                b.components
            };
            (bm, am, before_components, a.components)
        }
        (None, None) => (0.0, 0.0, Vec::new(), Vec::new()),
    };
    if resource.action == Action::Forget {
        notes.push("removed from Terraform's state, not destroyed: it keeps costing".to_owned());
    }
    let before_monthly = money::round_cents(before_monthly);
    let after_monthly = money::round_cents(after_monthly);
    Ok(ResourceCost {
        address: resource.address.clone(),
        kind: resource.kind.clone(),
        action: resource.action,
        region: region.into_owned(),
        region_source,
        before: before_monthly,
        after: after_monthly,
        delta: money::round_cents(after_monthly - before_monthly),
        components_before,
        components,
        notes,
    })
}

/// Names the state a reason is about when both states are priced.
fn side(which: &str, mut e: Unpriceable, both: bool) -> Unpriceable {
    if both {
        e.reason = format!("{which} the change: {}", e.reason);
    }
    e
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::testing::{plan, price_of};
    use super::*;

    #[test]
    fn created_updated_deleted_and_unchanged_resources() {
        // t3.micro 0.0104/h, t3.small 0.0208/h, m5.large 0.096/h in us-east-1; 730 h; each
        // with the assumed 8 GB gp2 root volume: 8 × 0.10 = 0.80.
        let changes = plan(
            r#"[
            {"address":"aws_instance.new","type":"aws_instance","change":{"actions":["create"],"before":null,
              "after":{"instance_type":"t3.micro","root_block_device":[]}}},
            {"address":"aws_instance.grown","type":"aws_instance","change":{"actions":["update"],
              "before":{"instance_type":"t3.micro","root_block_device":[]},
              "after":{"instance_type":"t3.small","root_block_device":[]}}},
            {"address":"aws_instance.gone","type":"aws_instance","change":{"actions":["delete"],
              "before":{"instance_type":"m5.large","root_block_device":[]},"after":null}},
            {"address":"aws_instance.same","type":"aws_instance","change":{"actions":["no-op"],
              "before":{"instance_type":"t3.micro","root_block_device":[]},
              "after":{"instance_type":"t3.micro","root_block_device":[]}}},
            {"address":"aws_security_group.sg","type":"aws_security_group","change":{"actions":["create"],"before":null,"after":{}}},
            {"address":"aws_sqs_queue.q","type":"aws_sqs_queue","change":{"actions":["create"],"before":null,"after":{}}}
            ]"#,
        );
        let e = estimate(&changes, Catalog::embedded(), &Usage::default());
        // new: 0 → 0.0104 × 730 = 7.592 → 7.59, + 0.80 = 8.39
        assert_eq!(price_of(&e, "aws_instance.new"), (0.0, 8.39));
        // grown: 8.39 → 0.0208 × 730 = 15.184 → 15.18, + 0.80 = 15.98
        assert_eq!(price_of(&e, "aws_instance.grown"), (8.39, 15.98));
        // gone: 0.096 × 730 = 70.08, + 0.80 = 70.88 → 0
        assert_eq!(price_of(&e, "aws_instance.gone"), (70.88, 0.0));
        // same: 8.39 both sides
        assert_eq!(price_of(&e, "aws_instance.same"), (8.39, 8.39));
        // before 8.39 + 70.88 + 8.39 = 87.66; after 8.39 + 15.98 + 8.39 = 32.76
        assert_eq!((e.before, e.after, e.delta), (87.66, 32.76, -54.9));
        assert_eq!(
            e.counts,
            CostCounts {
                priced: 4,
                free: 1,
                unpriced: 1
            }
        );
        assert_eq!(e.free[0].address, "aws_security_group.sg");
        assert_eq!(
            e.unpriced[0].reason,
            "the catalog does not price `aws_sqs_queue`"
        );
        assert!(e.is_relevant());
        assert_eq!(
            e.summary(),
            "-$54.90/month (before $87.66, after $32.76); 1 resource unpriced"
        );
    }

    #[test]
    fn regions_come_from_the_provider_then_the_zone_then_the_default() {
        let resources = r#"[
            {"address":"aws_instance.a","type":"aws_instance","change":{"actions":["create"],"before":null,
              "after":{"instance_type":"t3.micro","availability_zone":"eu-west-1b","root_block_device":[]}}}]"#;
        // No provider configuration: the zone says eu-west-1 (0.0114 × 730 = 8.322 → 8.32,
        // root 8 GB gp2 × 0.11 = 0.88; 9.20).
        let e = estimate(&plan(resources), Catalog::embedded(), &Usage::default());
        assert_eq!(e.resources[0].region, "eu-west-1");
        assert_eq!(e.resources[0].region_source, RegionSource::Attribute);
        assert_eq!(e.after, 9.2);
        // A provider configuration wins (eu-central-1: 0.012 × 730 = 8.76, root
        // 8 × 0.119 = 0.952 → 0.95; 9.71).
        let with_provider = testing::plan_with_providers(
            resources,
            r#"{"aws":{"name":"aws","expressions":{"region":{"constant_value":"eu-central-1"}}}}"#,
        );
        let e = estimate(&with_provider, Catalog::embedded(), &Usage::default());
        assert_eq!(e.resources[0].region_source, RegionSource::Provider);
        assert_eq!(e.after, 9.71);
        // Neither: the default region, said in a note (us-east-1: 7.59 + 0.80).
        let e = estimate(
            &plan(
                r#"[{"address":"aws_instance.a","type":"aws_instance","change":{"actions":["create"],"before":null,"after":{"instance_type":"t3.micro","root_block_device":[]}}}]"#,
            ),
            Catalog::embedded(),
            &Usage::default(),
        );
        assert_eq!(e.resources[0].region_source, RegionSource::Default);
        assert!(e.resources[0].notes[0].contains("default region"));
        assert_eq!(e.after, 8.39);
        // A region the catalog does not price is unpriced, never zero.
        let e = estimate(
            &plan(
                r#"[{"address":"aws_instance.a","type":"aws_instance","change":{"actions":["create"],"before":null,"after":{"instance_type":"t3.micro","availability_zone":"eu-north-1a","root_block_device":[]}}}]"#,
            ),
            Catalog::embedded(),
            &Usage::default(),
        );
        assert_eq!(
            e.unpriced[0].reason,
            "no price for region eu-north-1 (`aws.ec2`)"
        );
        assert_eq!(e.after, 0.0);
        assert!(e.is_relevant());
    }

    #[test]
    fn values_known_only_after_apply_are_unpriced_and_say_so() {
        let changes = plan(
            r#"[{"address":"aws_instance.a","type":"aws_instance","change":{"actions":["update"],
                "before":{"instance_type":"t3.micro","root_block_device":[]},
                "after":{"instance_type":null,"root_block_device":[]},
                "after_unknown":{"instance_type":true}}}]"#,
        );
        let e = estimate(&changes, Catalog::embedded(), &Usage::default());
        assert_eq!(
            e.unpriced[0].reason,
            "after the change: `instance_type` is known only after apply"
        );
        assert!(e.unpriced[0].unknown);
        assert_eq!(e.unknown().count(), 1);
    }

    #[test]
    fn kubernetes_manifests_are_not_relevant() {
        let input = crate::inputs::InputBytes {
            name: "m.yaml".into(),
            bytes: b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n".to_vec(),
        };
        let changes = crate::inputs::parse(&input).unwrap();
        let e = estimate(&changes, Catalog::embedded(), &Usage::default());
        assert!(!e.is_relevant());
        assert!(e.unpriced[0].reason.contains("Kubernetes"));
    }

    #[test]
    fn every_pricer_kind_is_unique_and_not_free() {
        let kinds: Vec<&str> = aws::PRICERS
            .iter()
            .chain(gcp::PRICERS)
            .chain(azure::PRICERS)
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(kinds.len(), pricers().len(), "a kind has two pricers");
        for k in kinds {
            assert!(!Catalog::embedded().is_free(k), "{k} is priced and free");
        }
    }
}
