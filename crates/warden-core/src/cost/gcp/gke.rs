//! GKE: the cluster management fee per hour, the default node pool a cluster creates, and
//! node pools as their VMs (node counts are per zone).

use crate::cost::pricer::{Ctx, Priced, Unpriceable};
use crate::value::Value;

use super::compute;

/// The machine type GKE uses when a node pool names none.
const DEFAULT_MACHINE_TYPE: &str = "e2-medium";
/// Zones of a regional cluster when `node_locations` does not list them.
const REGIONAL_ZONES: f64 = 3.0;

/// `google_container_cluster`: the fee, plus its default node pool unless removed.
pub(crate) fn cluster(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    cx.hourly(
        out,
        "GKE cluster management",
        "gcp.gke",
        "cluster/hour",
        1.0,
    )?;
    if s.bool("enable_autopilot")?.unwrap_or(false) {
        out.note("Autopilot: pods are billed by their resource requests, not included");
        return Ok(());
    }
    if s.bool("remove_default_node_pool")?.unwrap_or(false) {
        return Ok(());
    }
    let per_zone = s.number("initial_node_count")?.unwrap_or(1.0);
    nodes(cx, out, "node_config.0", per_zone)
}

/// `google_container_node_pool`.
pub(crate) fn node_pool(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let per_zone = match s.number("node_count")? {
        Some(n) => n,
        None => match s.number("initial_node_count")? {
            Some(n) => n,
            None => {
                out.note("no node count: priced at the autoscaling minimum");
                s.number("autoscaling.0.min_node_count")?.unwrap_or(0.0)
            }
        },
    };
    nodes(cx, out, "node_config.0", per_zone)
}

/// `per_zone` nodes in each zone, of the machine type at `config`.
fn nodes(cx: &Ctx<'_>, out: &mut Priced, config: &str, per_zone: f64) -> Result<(), Unpriceable> {
    let s = &cx.state;
    compute::spot_check(cx, config)?;
    let machine_type = match s.str(&format!("{config}.machine_type"))? {
        Some(m) => m,
        None => {
            out.note(format!(
                "no `machine_type`: GKE's default {DEFAULT_MACHINE_TYPE} assumed"
            ));
            DEFAULT_MACHINE_TYPE
        }
    };
    let zones = match s.items("node_locations")? {
        [] => {
            let location = s.str("location")?.unwrap_or_default();
            if is_zone(location) {
                1.0
            } else {
                out.note(format!(
                    "regional: nodes in {REGIONAL_ZONES} zones assumed (`node_locations` not set)"
                ));
                REGIONAL_ZONES
            }
        }
        zones => {
            #[expect(clippy::cast_precision_loss, reason = "a handful of zones")]
            let n = zones
                .iter()
                .filter(|z| matches!(z, Value::String(_)))
                .count() as f64;
            n
        }
    };
    compute::vm(cx, out, machine_type, per_zone * zones)?;
    out.note("node boot disks not included");
    Ok(())
}

/// `us-central1-a` is a zone; `us-central1` a region.
fn is_zone(location: &str) -> bool {
    location.rsplit_once('-').is_some_and(|(_, suffix)| {
        suffix.len() == 1 && suffix.chars().all(|c| c.is_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::monthly;

    #[test]
    fn clusters_and_node_pools() {
        // fee 0.10 × 730 = 73.00; default pool 3 × e2-medium (zonal) 3 × 730 × 0.033503 =
        // 73.37157 → 73.37; total 146.37
        assert_eq!(
            monthly(
                "google_container_cluster",
                r#"{"location":"us-central1-a","initial_node_count":3,"node_config":[{"machine_type":"e2-medium"}]}"#
            ),
            146.37
        );
        // fee only when the default pool is removed
        assert_eq!(
            monthly(
                "google_container_cluster",
                r#"{"location":"us-central1","remove_default_node_pool":true,"initial_node_count":1}"#
            ),
            73.0
        );
        // regional pool, 2 nodes per zone × 3 zones of n2-standard-4: 6 × 730 × 0.194236 =
        // 850.75368 → 850.75
        assert_eq!(
            monthly(
                "google_container_node_pool",
                r#"{"location":"us-central1","node_count":2,"node_config":[{"machine_type":"n2-standard-4"}]}"#
            ),
            850.75
        );
    }
}
