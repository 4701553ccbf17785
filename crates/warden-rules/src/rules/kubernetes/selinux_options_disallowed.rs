use super::pod::{containers, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;
use warden_core::finding::{dotted_to_pointer, PatchOp};

declare_rule! {
    /// ## What it checks
    /// Custom SELinux options: `securityContext.seLinuxOptions` of the pod or of any container,
    /// init container or ephemeral container of a Pod or pod template that
    /// - sets `type` to anything but `container_t`, `container_init_t`, `container_kvm_t` or
    ///   `container_engine_t` (the last allowed since Kubernetes 1.31), or
    /// - sets `user` or `role` at all.
    ///
    /// `level` (the MCS categories) is allowed. One finding per `seLinuxOptions` object, naming
    /// every offending field.
    ///
    /// Pod Security Standards, **baseline** profile: "SELinux".
    ///
    /// ## Why it matters
    /// SELinux confines containers by their process type: `container_t` can touch only files
    /// labelled for containers. Another type (`spc_t`, `unconfined_t`) or another user or role
    /// lifts that confinement, and a container with the node's labels can read and write the
    /// node's files.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { seLinuxOptions: { type: spc_t } }, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { seLinuxOptions: { level: "s0:c123,c456" } }, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Removes the offending fields (`type`, `user`, `role`) so the runtime assigns its default
    /// container type.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Trivy `AVD-KSV-0025`; Kyverno `pod-security/baseline/disallow-selinux`
    pub(crate) static SELINUX_OPTIONS_DISALLOWED = RuleMeta {
        id: "WD-K8S-008",
        name: "selinux-options-disallowed",
        title: "Pod or container sets a disallowed SELinux type, user or role",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-KSV-0025"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The SELinux types the baseline allows.
const ALLOWED_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// The offending fields of a `seLinuxOptions` object, as `(field, description)`.
fn offending(options: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let set = |field: &str| {
        options
            .get(field)
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
    };
    if let Some(kind) = set("type") {
        let kind = kind.as_str().unwrap_or_default();
        if !ALLOWED_TYPES.contains(&kind) {
            out.push(("type", format!("type `{kind}`")));
        }
    }
    for field in ["user", "role"] {
        if let Some(value) = set(field) {
            out.push((
                field,
                format!("{field} `{}`", value.as_str().unwrap_or_default()),
            ));
        }
    }
    out
}

fn report(resource: &Resource, out: &mut Report<'_>, options: &Value, path: &str, who: &str) {
    let bad = offending(options);
    if bad.is_empty() {
        return;
    }
    let described: Vec<&str> = bad.iter().map(|(_, d)| d.as_str()).collect();
    let fields: Vec<String> = bad.iter().map(|(f, _)| format!("`{f}`")).collect();
    let ops = bad
        .iter()
        .map(|(field, _)| PatchOp::Remove {
            path: dotted_to_pointer(&format!("{path}.{field}")),
        })
        .collect();
    out.violation(
        resource,
        format!("{who} sets SELinux {}", described.join(", ")),
    )
    .at(path)
    .fix(Fix::patch(
        format!(
            "remove {} from the SELinux options of {}",
            fields.join(", "),
            if who == "pod" { "the pod" } else { who }
        ),
        ops,
    ));
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if let Some((spec, path)) = pod_spec(resource) {
        report(
            resource,
            out,
            spec.field("securityContext").field("seLinuxOptions"),
            &format!("{path}.securityContext.seLinuxOptions"),
            "pod",
        );
    }
    for container in containers(resource) {
        report(
            resource,
            out,
            container.security_context().field("seLinuxOptions"),
            &container.at("securityContext.seLinuxOptions"),
            &container.label(),
        );
    }
}
