use super::{blocks, planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// GKE clusters (`google_container_cluster`) whose control plane (the Kubernetes API
    /// server) accepts connections from the whole internet on its public endpoint: no
    /// `master_authorized_networks_config` block, or one whose `cidr_blocks` include
    /// `0.0.0.0/0`. Clusters whose public endpoint is off are not reported:
    /// `private_cluster_config.enable_private_endpoint = true`, or
    /// `control_plane_endpoints_config.ip_endpoints_config.enabled = false`.
    ///
    /// A `master_authorized_networks_config` block with no `cidr_blocks` is closed, not open:
    /// it enables authorized networks and allows no external range. Its
    /// `gcp_public_cidrs_access_enabled` (access from any Google Cloud VM's public IP) is not
    /// reported.
    ///
    /// ## Why it matters
    /// An API server reachable from anywhere is exposed to credential stuffing with leaked
    /// kubeconfigs and service-account tokens, and to every Kubernetes API vulnerability the
    /// moment it is disclosed. Authorized networks cut that exposure to the ranges you
    /// administer from at no cost. Some teams rely on IAM alone and accept the exposure, so
    /// the rule asks for approval.
    ///
    /// ## Example
    /// ```yaml
    /// google_container_cluster.main: { after: { name: main, location: europe-west1, master_authorized_networks_config: [] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_container_cluster.main:
    ///   after: { name: main, location: europe-west1, master_authorized_networks_config: [{ cidr_blocks: [{ cidr_block: "203.0.113.0/24", display_name: office }] }] }
    /// ```
    ///
    /// ## Fix
    /// Enables authorized networks with the non-world `cidr_blocks` already listed (none when
    /// the block was missing), which closes the public endpoint to the internet. Add the
    /// ranges you run `kubectl` and CI from (`cidr_blocks { cidr_block = "…" }`), or make the
    /// endpoint private and connect through a bastion, Connect Gateway or the DNS-based
    /// endpoint.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Add authorized networks for control plane access](https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks)
    /// - [Terraform: google_container_cluster](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/container_cluster#master_authorized_networks_config)
    /// - Checkov `CKV_GCP_20`; Trivy `AVD-GCP-0061`
    pub(crate) static GKE_CONTROL_PLANE_OPEN_TO_WORLD = RuleMeta {
        id: "WD-GCP-011",
        name: "gke-control-plane-open-to-world",
        title: "GKE control plane accepts connections from the whole internet",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["google_container_cluster"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_20", "AVD-GCP-0061"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const PRIVATE_ENDPOINT: &str = "private_cluster_config.0.enable_private_endpoint";
const IP_ENDPOINTS: &str = "control_plane_endpoints_config.0.ip_endpoints_config.0.enabled";
const NETWORKS: &str = "master_authorized_networks_config";
const CIDRS: &str = "master_authorized_networks_config.0.cidr_blocks";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match planned(resource, cx, PRIVATE_ENDPOINT) {
        Planned::Set(v) if v.as_bool() == Some(true) => return,
        Planned::Unknown => return out.unknown(resource, PRIVATE_ENDPOINT),
        _ => {}
    }
    match planned(resource, cx, IP_ENDPOINTS) {
        Planned::Set(v) if v.as_bool() == Some(false) => return,
        Planned::Unknown => return out.unknown(resource, IP_ENDPOINTS),
        _ => {}
    }
    let (config, unknown) = blocks(resource, cx, NETWORKS);
    if unknown {
        return out.unknown(resource, NETWORKS);
    }
    if config.is_empty() {
        out.violation(resource, "no `master_authorized_networks_config`: the public endpoint accepts connections from any IP address")
            .at(NETWORKS)
            .fix(Fix::set(
                "enable authorized networks, then add the ranges you administer the cluster from",
                CIDRS,
                Value::from(Vec::<Value>::new()),
            ));
        return;
    }
    let (cidrs, unknown) = blocks(resource, cx, CIDRS);
    if unknown {
        return out.unknown(resource, CIDRS);
    }
    let world: Vec<&str> = cidrs
        .iter()
        .filter_map(|c| c.field("cidr_block").as_str())
        .filter(|c| helpers::is_world(c))
        .collect();
    if world.is_empty() {
        if let Some(i) =
            (0..cidrs.len()).find(|i| resource.is_unknown(&format!("{CIDRS}.{i}.cidr_block")))
        {
            out.unknown(resource, &format!("{CIDRS}.{i}.cidr_block"));
        }
        return;
    }
    let kept: Vec<Value> = cidrs
        .iter()
        .filter(|c| {
            !c.field("cidr_block")
                .as_str()
                .is_some_and(helpers::is_world)
        })
        .cloned()
        .collect();
    let listed = helpers::code_list(&world, " and ");
    out.violation(
        resource,
        format!("authorized network {listed} lets any IP address reach the public endpoint"),
    )
    .at(CIDRS)
    .fix(Fix::set(
        format!("remove {listed} from the authorized networks"),
        CIDRS,
        Value::from(kept),
    ));
}
