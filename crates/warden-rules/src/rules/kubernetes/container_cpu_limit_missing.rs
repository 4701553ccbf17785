use super::pod::{containers, ContainerKind, POD_CONTROLLERS};
use super::workload::{default_within, is_set};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers and init containers without `resources.limits.cpu`. (Ephemeral containers
    /// cannot have resources and are skipped.)
    ///
    /// ## Why it matters
    /// Without a CPU limit one busy container can use every core its node has spare, slowing
    /// the other pods there, and a runaway or cryptomining process is not contained. Many
    /// teams deliberately leave CPU unlimited to avoid throttling, so this is a warning: set a
    /// limit, or turn the rule off where requests alone are the policy.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } } } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { cpu: 500m, memory: 256Mi } } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `resources.limits.cpu` from the parameter (`500m` by default), or to the CPU
    /// request when that is higher (a limit below the request is rejected). Setting the
    /// parameter to `""` turns the fix off.
    ///
    /// ## Parameters
    /// - `default-limits-cpu`: the CPU limit the fix sets (default `"500m"`).
    ///
    /// ## References
    /// - [Kubernetes: Resource Management for Pods and Containers](https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/)
    /// - Checkov `CKV_K8S_11`; Trivy `AVD-KSV-0011`
    pub(crate) static CONTAINER_CPU_LIMIT_MISSING = RuleMeta {
        id: "WD-K8S-019",
        name: "container-cpu-limit-missing",
        title: "Container has no CPU limit",
        severity: Severity::Low,
        enforcement: Enforcement::Warn,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Sometimes,
        params: &[Param {
            name: "default-limits-cpu",
            kind: ParamKind::String,
            default: r#""500m""#,
            doc: "CPU limit the fix sets; \"\" for no fix",
        }],
        aliases: &["CKV_K8S_11", "AVD-KSV-0011"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in containers(resource) {
        if container.kind == ContainerKind::Ephemeral {
            continue;
        }
        let resources = container.value.field("resources");
        if is_set(resources.path("limits.cpu")) {
            continue;
        }
        let attribute = container.at("resources.limits.cpu");
        let request = resources.path("requests.cpu");
        let pending = out
            .violation(resource, format!("{} has no CPU limit", container.label()))
            .at(&attribute);
        if let Some(default) = cx
            .param("default-limits-cpu")
            .as_str()
            .filter(|d| !d.is_empty())
        {
            pending.fix(Fix::set(
                format!("limit the CPU of {}", container.label()),
                &attribute,
                default_within(default, request, false),
            ));
        }
    }
}
