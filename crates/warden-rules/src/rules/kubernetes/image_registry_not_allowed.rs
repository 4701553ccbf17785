use super::pod::POD_CONTROLLERS;
use super::workload::{container_images, glob_match, ContainerImage};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init, ephemeral) whose image does not come from an allowed
    /// registry, when the `allowed` parameter lists any (the rule is inactive while it is
    /// empty).
    ///
    /// Each pattern is matched against the image's normalized name, `registry/repository`
    /// (`*` matches any characters, including `/`); a pattern without `/` names a registry
    /// host and matches every image from it. Images written without a registry are Docker
    /// Hub's, named as the runtime resolves them: `nginx` is `docker.io/library/nginx`,
    /// `bitnami/redis` is `docker.io/bitnami/redis`. So `registry.example.com.evil.io/app`
    /// does not match `registry.example.com/*`.
    ///
    /// ## Why it matters
    /// Registries you control are where images are scanned, signed and mirrored; an image from
    /// anywhere else skips that supply chain, and a typo or a look-alike repository on a public
    /// registry runs arbitrary code in the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// params: { allowed: ["registry.example.com/*", "ghcr.io/acme/*"] }
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { allowed: ["registry.example.com/*", "ghcr.io/acme/*"] }
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "registry.example.com/mirror/nginx:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// None automatic: mirror the image into an allowed registry and point the container at
    /// the mirror.
    ///
    /// ## Parameters
    /// - `allowed`: registry patterns (`registry.example.com/*`, `ghcr.io/acme/*`, or a bare
    ///   host `registry.example.com`); empty turns the rule off.
    ///
    /// ## References
    /// - [Kubernetes: Images](https://kubernetes.io/docs/concepts/containers/images/)
    /// - Trivy `AVD-KSV-0125` (trusted registries); Kyverno `best-practices/restrict-image-registries`
    pub(crate) static IMAGE_REGISTRY_NOT_ALLOWED = RuleMeta {
        id: "WD-K8S-022",
        name: "image-registry-not-allowed",
        title: "Container image comes from a registry that is not allowed",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::None,
        params: &[Param {
            name: "allowed",
            kind: ParamKind::StringList,
            default: "[]",
            doc: "Allowed registry patterns (`registry.example.com/*`); empty: rule inactive",
        }],
        aliases: &["AVD-KSV-0125"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let allowed: Vec<&str> = cx
        .param_strs("allowed")
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if allowed.is_empty() {
        return;
    }
    for ContainerImage {
        container,
        image,
        parsed,
    } in container_images(resource)
    {
        let name = parsed.name();
        let full = parsed.full();
        let ok = allowed.iter().any(|pattern| {
            if pattern.contains('/') {
                glob_match(pattern, &name) || glob_match(pattern, &full)
            } else {
                glob_match(&pattern.to_ascii_lowercase(), &parsed.registry)
            }
        });
        if ok {
            continue;
        }
        out.violation(
            resource,
            format!(
                "{} uses image `{image}` ({name}), which no allowed registry pattern matches",
                container.label()
            ),
        )
        .at(&container.at("image"));
    }
}
