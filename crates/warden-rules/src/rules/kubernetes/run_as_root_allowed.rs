use super::pod::{containers, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Pods whose containers are not required to run as a non-root user: `runAsNonRoot` must be
    /// `true` in the pod's `securityContext` or in the `securityContext` of every container,
    /// init container and ephemeral container. A container's own value overrides the pod's, so
    /// a container that sets `runAsNonRoot: false` fails even when the pod sets `true`.
    ///
    /// One finding per container that sets `false` itself, and one for the pod when containers
    /// that do not set it inherit a pod-level value that is not `true`.
    ///
    /// Pod Security Standards, **restricted** profile: "Running as Non-root".
    ///
    /// ## Why it matters
    /// Most images run as root unless told otherwise. `runAsNonRoot: true` makes the kubelet
    /// refuse to start a container whose user is UID 0, so a container escape or a writable
    /// host mount does not start from root, and a root image is caught at deploy time instead
    /// of in an incident.
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
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { runAsNonRoot: true, runAsUser: 10001 }, containers: [ { name: web, image: "nginxinc/nginx-unprivileged:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets the pod-level `securityContext.runAsNonRoot` to `true` and removes a container's
    /// own `runAsNonRoot: false`. The image must then run as a non-zero UID: set `runAsUser`
    /// or a numeric `USER` in the image, or the kubelet refuses to start it.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov `CKV_K8S_23`; Trivy `AVD-KSV-0012`; Kyverno `pod-security/restricted/require-run-as-nonroot`
    pub(crate) static RUN_AS_ROOT_ALLOWED = RuleMeta {
        id: "WD-K8S-014",
        name: "run-as-root-allowed",
        title: "Containers are not required to run as non-root",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_23", "AVD-KSV-0012"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = pod_spec(resource) else {
        return;
    };
    let pod_attribute = format!("{path}.securityContext.runAsNonRoot");
    let pod_value = spec.field("securityContext").field("runAsNonRoot");
    let pod_true = pod_value.as_bool() == Some(true);
    let mut inheriting = Vec::new();
    for container in containers(resource) {
        let own = container.security_context().field("runAsNonRoot");
        if own.is_null() {
            if !pod_true {
                inheriting.push(container.label());
            }
            continue;
        }
        if own.as_bool() == Some(true) {
            continue;
        }
        let attribute = container.at("securityContext.runAsNonRoot");
        let mut fix = Fix::remove(
            format!(
                "remove `runAsNonRoot: false` from {} and require non-root for the pod",
                container.label()
            ),
            &attribute,
        );
        if !pod_true {
            fix = fix.and_set(&pod_attribute, true);
        }
        out.violation(
            resource,
            format!(
                "{} sets `runAsNonRoot: {}`, so it may run as root",
                container.label(),
                own.to_json()
            ),
        )
        .at(&attribute)
        .fix(fix);
    }
    if inheriting.is_empty() {
        return;
    }
    let pronoun = if inheriting.len() == 1 { "it" } else { "they" };
    let message = if pod_value.is_null() {
        format!(
            "neither the pod nor {} {} `runAsNonRoot: true`, so {pronoun} may run as root",
            inheriting.join(", "),
            if inheriting.len() == 1 { "sets" } else { "set" },
        )
    } else {
        format!(
            "the pod sets `runAsNonRoot: {}` and {} {} not override it, so {pronoun} may run as root",
            pod_value.to_json(),
            inheriting.join(", "),
            if inheriting.len() == 1 { "does" } else { "do" },
        )
    };
    out.violation(resource, message)
        .at(&pod_attribute)
        .fix(Fix::set(
            "set `runAsNonRoot: true` in the pod's securityContext",
            &pod_attribute,
            true,
        ));
}
