use super::pod::{containers, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

/// The UID the fix sets: high enough not to collide with users in the image or on the node.
const NON_ROOT_UID: i64 = 10001;

declare_rule! {
    /// ## What it checks
    /// `runAsUser: 0` in the pod's `securityContext` or in the `securityContext` of any
    /// container, init container or ephemeral container. Unset is fine for this control (the
    /// image's user applies, which "Running as Non-root", WD-K8S-014, covers).
    ///
    /// Pod Security Standards, **restricted** profile: "Running as Non-root user".
    ///
    /// ## Why it matters
    /// UID 0 is root: it owns the container's files, may change any of them, and is root on
    /// the node after a container escape or through a host mount. Setting it explicitly also
    /// defeats `runAsNonRoot: true`, since the kubelet refuses such a container only at start,
    /// after the manifest is already deployed.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { runAsUser: 0 }, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { runAsUser: 10001, runAsNonRoot: true }, containers: [ { name: web, image: "nginxinc/nginx-unprivileged:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `runAsUser` to `10001` where it is `0`. Check that the image works as that user
    /// (file ownership, ports below 1024).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov `CKV_K8S_40`; Trivy `AVD-KSV-0105`
    pub(crate) static RUN_AS_USER_ROOT = RuleMeta {
        id: "WD-K8S-015",
        name: "run-as-user-root",
        title: "Pod or container runs as UID 0",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_40", "AVD-KSV-0105"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = pod_spec(resource) else {
        return;
    };
    if spec.field("securityContext").field("runAsUser").as_i64() == Some(0) {
        let attribute = format!("{path}.securityContext.runAsUser");
        out.violation(resource, "the pod sets `runAsUser: 0` (root)")
            .at(&attribute)
            .fix(Fix::set(
                format!("run the pod as UID {NON_ROOT_UID}"),
                &attribute,
                NON_ROOT_UID,
            ));
    }
    for container in containers(resource) {
        if container.security_context().field("runAsUser").as_i64() != Some(0) {
            continue;
        }
        let attribute = container.at("securityContext.runAsUser");
        out.violation(
            resource,
            format!("{} sets `runAsUser: 0` (root)", container.label()),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!("run {} as UID {NON_ROOT_UID}", container.label()),
            &attribute,
            NON_ROOT_UID,
        ));
    }
}
