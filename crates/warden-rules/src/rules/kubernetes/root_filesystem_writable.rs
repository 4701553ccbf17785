use super::pod::{containers, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init, ephemeral) without `securityContext.readOnlyRootFilesystem:
    /// true` (unset means writable).
    ///
    /// ## Why it matters
    /// A writable root filesystem lets an attacker who gets code execution drop tools, modify
    /// the application's binaries or configuration and persist until the container is
    /// replaced. Read-only, the image stays what was scanned; the few paths an application
    /// must write (`/tmp`, caches) become `emptyDir` mounts.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", securityContext: { readOnlyRootFilesystem: true }, volumeMounts: [ { name: tmp, mountPath: /tmp } ] } ], volumes: [ { name: tmp, emptyDir: {} } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `securityContext.readOnlyRootFilesystem` to `true` on the container. Mount an
    /// `emptyDir` volume on each path the application writes to, or it fails at start.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Configure a Security Context for a Pod or Container](https://kubernetes.io/docs/tasks/configure-pod-container/security-context/)
    /// - Checkov `CKV_K8S_22`; Trivy `AVD-KSV-0014`; Kyverno `best-practices/require-ro-rootfs`
    pub(crate) static ROOT_FILESYSTEM_WRITABLE = RuleMeta {
        id: "WD-K8S-023",
        name: "root-filesystem-writable",
        title: "Container root filesystem is writable",
        severity: Severity::Low,
        enforcement: Enforcement::Warn,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_22", "AVD-KSV-0014"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in containers(resource) {
        let attribute = container.at("securityContext.readOnlyRootFilesystem");
        let value = container.security_context().field("readOnlyRootFilesystem");
        if value.as_bool() == Some(true) {
            continue;
        }
        let message = if value.is_null() {
            format!(
                "{} does not set `readOnlyRootFilesystem: true`, so its root filesystem is writable",
                container.label()
            )
        } else {
            format!(
                "{} sets `readOnlyRootFilesystem: {}`",
                container.label(),
                value.to_json()
            )
        };
        out.violation(resource, message)
            .at(&attribute)
            .fix(Fix::set(
                format!(
                    "make the root filesystem of {} read-only",
                    container.label()
                ),
                &attribute,
                true,
            ));
    }
}
