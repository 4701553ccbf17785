//! Kubernetes rules: the Pod Security Standards (baseline and restricted, one rule per
//! control), workload hygiene (resources, images, root filesystem), exposure (Services,
//! Ingress, NetworkPolicy) and RBAC. Pod rules apply to every pod controller through
//! [`pod`].

pub(crate) mod pod;
mod privileged_container;

use crate::rule::RuleMeta;

/// The Kubernetes rules, in id order.
pub static RULES: &[&RuleMeta] = &[&privileged_container::PRIVILEGED_CONTAINER];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("kubernetes");
    }
}
