//! Kubernetes rules: the Pod Security Standards (baseline and restricted, one rule per
//! control), workload hygiene (resources, images, root filesystem), exposure (Services,
//! Ingress, NetworkPolicy) and RBAC. Pod rules apply to every pod controller through
//! [`pod`].

mod apparmor_profile_overridden;
mod capabilities_not_dropped;
mod capability_beyond_baseline;
mod cluster_admin_binding;
mod container_cpu_limit_missing;
mod container_resources_missing;
mod default_namespace;
mod host_namespace_shared;
mod host_path_volume;
mod host_port;
mod host_process_container;
mod image_not_pinned_by_digest;
mod image_registry_not_allowed;
mod image_tag_mutable;
mod ingress_without_tls;
mod network_policy_ingress_from_world;
pub(crate) mod pod;
mod privilege_escalation_allowed;
mod privileged_container;
mod proc_mount_unmasked;
mod rbac_wildcard;
mod required_labels_missing;
mod root_filesystem_writable;
mod run_as_root_allowed;
mod run_as_user_root;
mod seccomp_profile_missing;
mod seccomp_profile_unconfined;
mod secret_in_env_literal;
mod selinux_options_disallowed;
mod service_account_token_automounted;
mod service_exposed_externally;
mod service_external_ips;
mod unsafe_sysctl;
mod volume_type_not_allowed;
mod workload;

use crate::rule::RuleMeta;

/// The Kubernetes rules, in id order.
pub static RULES: &[&RuleMeta] = &[
    &host_process_container::HOST_PROCESS_CONTAINER,
    &host_namespace_shared::HOST_NAMESPACE_SHARED,
    &privileged_container::PRIVILEGED_CONTAINER,
    &capability_beyond_baseline::CAPABILITY_BEYOND_BASELINE,
    &host_path_volume::HOST_PATH_VOLUME,
    &host_port::HOST_PORT,
    &apparmor_profile_overridden::APPARMOR_PROFILE_OVERRIDDEN,
    &selinux_options_disallowed::SELINUX_OPTIONS_DISALLOWED,
    &proc_mount_unmasked::PROC_MOUNT_UNMASKED,
    &seccomp_profile_unconfined::SECCOMP_PROFILE_UNCONFINED,
    &unsafe_sysctl::UNSAFE_SYSCTL,
    &volume_type_not_allowed::VOLUME_TYPE_NOT_ALLOWED,
    &privilege_escalation_allowed::PRIVILEGE_ESCALATION_ALLOWED,
    &run_as_root_allowed::RUN_AS_ROOT_ALLOWED,
    &run_as_user_root::RUN_AS_USER_ROOT,
    &seccomp_profile_missing::SECCOMP_PROFILE_MISSING,
    &capabilities_not_dropped::CAPABILITIES_NOT_DROPPED,
    &container_resources_missing::CONTAINER_RESOURCES_MISSING,
    &container_cpu_limit_missing::CONTAINER_CPU_LIMIT_MISSING,
    &image_tag_mutable::IMAGE_TAG_MUTABLE,
    &image_not_pinned_by_digest::IMAGE_NOT_PINNED_BY_DIGEST,
    &image_registry_not_allowed::IMAGE_REGISTRY_NOT_ALLOWED,
    &root_filesystem_writable::ROOT_FILESYSTEM_WRITABLE,
    &service_exposed_externally::SERVICE_EXPOSED_EXTERNALLY,
    &service_external_ips::SERVICE_EXTERNAL_IPS,
    &rbac_wildcard::RBAC_WILDCARD,
    &cluster_admin_binding::CLUSTER_ADMIN_BINDING,
    &default_namespace::DEFAULT_NAMESPACE,
    &service_account_token_automounted::SERVICE_ACCOUNT_TOKEN_AUTOMOUNTED,
    &secret_in_env_literal::SECRET_IN_ENV_LITERAL,
    &network_policy_ingress_from_world::NETWORK_POLICY_INGRESS_FROM_WORLD,
    &ingress_without_tls::INGRESS_WITHOUT_TLS,
    &required_labels_missing::REQUIRED_LABELS_MISSING,
];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("kubernetes");
    }
}
