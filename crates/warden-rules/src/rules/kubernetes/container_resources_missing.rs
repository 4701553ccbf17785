use super::pod::{containers, ContainerKind, POD_CONTROLLERS};
use super::workload::{default_within, is_set};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers and init containers that do not set all of `resources.requests.cpu`,
    /// `resources.requests.memory` and `resources.limits.memory`. One finding per container,
    /// naming what is missing. (Ephemeral containers cannot have resources and are skipped;
    /// the CPU limit is the separate, softer WD-K8S-019.)
    ///
    /// ## Why it matters
    /// The scheduler places pods by their requests: without them a node is overcommitted and
    /// the pod is the first evicted under pressure (BestEffort class). Without a memory limit a
    /// leak or a hostile input grows until the node runs out of memory and the kernel kills
    /// other tenants' processes. A memory limit turns that into a restart of the one
    /// container.
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
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets the missing values from the parameters (`100m`, `128Mi`, `256Mi` by default). When
    /// the other side of a pair is already set, the fix never puts a request above its limit:
    /// it uses the set value instead of the default. Setting a parameter to `""` turns the fix
    /// off for containers missing that value. Size the values from real usage afterwards.
    ///
    /// ## Parameters
    /// - `default-requests-cpu`: the CPU request the fix sets (default `"100m"`).
    /// - `default-requests-memory`: the memory request the fix sets (default `"128Mi"`).
    /// - `default-limits-memory`: the memory limit the fix sets (default `"256Mi"`).
    ///
    /// ## References
    /// - [Kubernetes: Resource Management for Pods and Containers](https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/)
    /// - Checkov `CKV_K8S_10`, `CKV_K8S_12`, `CKV_K8S_13`; Trivy `AVD-KSV-0015`, `AVD-KSV-0016`, `AVD-KSV-0018`
    pub(crate) static CONTAINER_RESOURCES_MISSING = RuleMeta {
        id: "WD-K8S-018",
        name: "container-resources-missing",
        title: "Container does not set CPU and memory requests and a memory limit",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Sometimes,
        params: &[
            Param {
                name: "default-requests-cpu",
                kind: ParamKind::String,
                default: r#""100m""#,
                doc: "CPU request the fix sets; \"\" for no fix",
            },
            Param {
                name: "default-requests-memory",
                kind: ParamKind::String,
                default: r#""128Mi""#,
                doc: "Memory request the fix sets; \"\" for no fix",
            },
            Param {
                name: "default-limits-memory",
                kind: ParamKind::String,
                default: r#""256Mi""#,
                doc: "Memory limit the fix sets; \"\" for no fix",
            },
        ],
        aliases: &[
            "CKV_K8S_10",
            "CKV_K8S_12",
            "CKV_K8S_13",
            "AVD-KSV-0015",
            "AVD-KSV-0016",
            "AVD-KSV-0018",
        ],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// (field under `resources`, the parameter with its default, the field bounding it, is it a request).
const FIELDS: &[(&str, &str, &str, bool)] = &[
    ("requests.cpu", "default-requests-cpu", "limits.cpu", true),
    (
        "requests.memory",
        "default-requests-memory",
        "limits.memory",
        true,
    ),
    (
        "limits.memory",
        "default-limits-memory",
        "requests.memory",
        false,
    ),
];

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in containers(resource) {
        if container.kind == ContainerKind::Ephemeral {
            continue;
        }
        let resources = container.value.field("resources");
        // The values as the fix leaves them, so a limit set by the fix is bounded by a request
        // also set by it.
        let mut after: Vec<(&str, Value)> = Vec::new();
        let mut missing = Vec::new();
        let mut fixable = true;
        for (field, param, bound, is_request) in FIELDS {
            if is_set(resources.path(field)) {
                continue;
            }
            missing.push(format!("`{field}`"));
            let Some(default) = cx.param(param).as_str().filter(|d| !d.is_empty()) else {
                fixable = false;
                continue;
            };
            let other = after
                .iter()
                .find(|(f, _)| f == bound)
                .map(|(_, v)| v)
                .or_else(|| resources.path(bound));
            let value = default_within(default, other, *is_request);
            after.push((field, value));
        }
        if missing.is_empty() {
            continue;
        }
        let attribute = container.at("resources");
        let pending = out
            .violation(
                resource,
                format!("{} does not set {}", container.label(), missing.join(", ")),
            )
            .at(&attribute);
        if !fixable {
            continue;
        }
        let mut fix: Option<Fix> = None;
        let description = format!("set the missing resources of {}", container.label());
        for (field, value) in after {
            let path = container.at(&format!("resources.{field}"));
            fix = Some(match fix {
                None => Fix::set(description.clone(), &path, value),
                Some(f) => f.and_set(&path, value),
            });
        }
        if let Some(fix) = fix {
            pending.fix(fix);
        }
    }
}
