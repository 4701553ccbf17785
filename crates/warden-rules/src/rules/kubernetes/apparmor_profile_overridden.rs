use super::pod::{containers, pod_metadata, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;
use warden_core::finding::{dotted_to_pointer, PatchOp};
use warden_core::value::escape_pointer_token;

declare_rule! {
    /// ## What it checks
    /// AppArmor profiles other than the runtime's default or a profile loaded on the node:
    /// - `securityContext.appArmorProfile.type` of the pod or of any container, init container
    ///   or ephemeral container set to anything but `RuntimeDefault` or `Localhost` (that is,
    ///   `Unconfined`);
    /// - the legacy annotation `container.apparmor.security.beta.kubernetes.io/<container>` on
    ///   the pod's metadata (the pod template's for a controller) set to anything but
    ///   `runtime/default` or `localhost/<profile>` (that is, `unconfined`).
    ///
    /// Applies to Pods and the pod templates of Deployments, StatefulSets, DaemonSets,
    /// ReplicaSets, Jobs, CronJobs and ReplicationControllers.
    ///
    /// Pod Security Standards, **baseline** profile: "AppArmor".
    ///
    /// ## Why it matters
    /// The runtime's default AppArmor profile blocks writes to `/proc` and `/sys`, mounts and
    /// other paths containers use to escape. `Unconfined` removes that layer, so one
    /// misconfiguration or kernel bug less stands between the container and the node.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { appArmorProfile: { type: Unconfined } }, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { appArmorProfile: { type: RuntimeDefault } }, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets the profile to `{ type: RuntimeDefault }`, or the annotation to `runtime/default`.
    /// If the workload needs more than the default allows, load a dedicated profile on the nodes
    /// and use `type: Localhost` with `localhostProfile`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [Kubernetes: Restrict a container's access to resources with AppArmor](https://kubernetes.io/docs/tutorials/security/apparmor/)
    /// - Trivy `AVD-KSV-0002`; Kyverno `pod-security/baseline/restrict-apparmor-profiles`
    pub(crate) static APPARMOR_PROFILE_OVERRIDDEN = RuleMeta {
        id: "WD-K8S-007",
        name: "apparmor-profile-overridden",
        title: "Pod or container runs without the default AppArmor profile",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-KSV-0002"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The legacy per-container annotation prefix.
const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The disallowed `appArmorProfile.type` of a security context, if any.
fn bad_type(security_context: &Value) -> Option<&str> {
    let kind = security_context
        .field("appArmorProfile")
        .field("type")
        .as_str()?;
    (!matches!(kind, "RuntimeDefault" | "Localhost")).then_some(kind)
}

fn runtime_default() -> Value {
    Value::object([("type", Value::from("RuntimeDefault"))])
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if let Some((spec, path)) = pod_spec(resource) {
        if let Some(kind) = bad_type(spec.field("securityContext")) {
            let profile = format!("{path}.securityContext.appArmorProfile");
            out.violation(
                resource,
                format!("pod sets AppArmor profile type `{kind}` as the default of its containers"),
            )
            .at(&format!("{profile}.type"))
            .fix(Fix::set(
                "use the runtime's default AppArmor profile for the pod",
                &profile,
                runtime_default(),
            ));
        }
    }
    for container in containers(resource) {
        if let Some(kind) = bad_type(container.security_context()) {
            let profile = container.at("securityContext.appArmorProfile");
            out.violation(
                resource,
                format!("{} sets AppArmor profile type `{kind}`", container.label()),
            )
            .at(&format!("{profile}.type"))
            .fix(Fix::set(
                format!(
                    "use the runtime's default AppArmor profile for {}",
                    container.label()
                ),
                &profile,
                runtime_default(),
            ));
        }
    }
    let Some((metadata, path)) = pod_metadata(resource) else {
        return;
    };
    for (key, value) in metadata.field("annotations").entries() {
        let Some(name) = key.strip_prefix(ANNOTATION_PREFIX) else {
            continue;
        };
        let Some(profile) = value.as_str() else {
            continue;
        };
        if profile.is_empty() || profile == "runtime/default" || profile.starts_with("localhost/") {
            continue;
        }
        let pointer = format!(
            "{}/annotations/{}",
            dotted_to_pointer(&path),
            escape_pointer_token(key)
        );
        out.violation(
            resource,
            format!("legacy annotation sets AppArmor profile `{profile}` for container `{name}`"),
        )
        .at(&format!("{path}.annotations.{key}"))
        .fix(Fix::patch(
            format!("set the AppArmor annotation of container `{name}` to `runtime/default`"),
            vec![PatchOp::Add {
                path: pointer,
                value: Value::from("runtime/default"),
            }],
        ));
    }
}
