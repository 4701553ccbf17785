//! GCP rules (provider `hashicorp/google` and `google-beta`).

mod compute_instance_public_ip;
mod firewall_admin_port_open_to_world;
mod firewall_open_to_world;
mod gke_client_certificate_enabled;
mod gke_control_plane_open_to_world;
mod gke_legacy_abac_enabled;
mod gke_legacy_metadata_endpoints_enabled;
mod sql_instance_authorized_network_open_to_world;
mod sql_instance_public_ip;
mod storage_bucket_public_iam;
mod storage_bucket_uniform_access_disabled;

pub(crate) use crate::helpers::{blocks, left_to_provider, planned, Planned};
use crate::rule::RuleMeta;

/// The gcp rules, in id order.
pub static RULES: &[&RuleMeta] = &[
    &firewall_admin_port_open_to_world::FIREWALL_ADMIN_PORT_OPEN_TO_WORLD,
    &firewall_open_to_world::FIREWALL_OPEN_TO_WORLD,
    &sql_instance_authorized_network_open_to_world::SQL_INSTANCE_AUTHORIZED_NETWORK_OPEN_TO_WORLD,
    &sql_instance_public_ip::SQL_INSTANCE_PUBLIC_IP,
    &storage_bucket_public_iam::STORAGE_BUCKET_PUBLIC_IAM,
    &storage_bucket_uniform_access_disabled::STORAGE_BUCKET_UNIFORM_ACCESS_DISABLED,
    &compute_instance_public_ip::COMPUTE_INSTANCE_PUBLIC_IP,
    &gke_legacy_abac_enabled::GKE_LEGACY_ABAC_ENABLED,
    &gke_client_certificate_enabled::GKE_CLIENT_CERTIFICATE_ENABLED,
    &gke_legacy_metadata_endpoints_enabled::GKE_LEGACY_METADATA_ENDPOINTS_ENABLED,
    &gke_control_plane_open_to_world::GKE_CONTROL_PLANE_OPEN_TO_WORLD,
];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("gcp");
    }
}
