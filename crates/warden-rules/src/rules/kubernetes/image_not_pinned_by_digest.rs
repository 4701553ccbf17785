use super::pod::POD_CONTROLLERS;
use super::workload::{container_images, ContainerImage};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init, ephemeral) whose image is not pinned by a content digest
    /// (`@sha256:…`), whatever its tag.
    ///
    /// ## Why it matters
    /// A tag is a pointer the registry owner can move: `nginx:1.27` today is not necessarily
    /// the bytes it was when the manifest was reviewed, and a compromised registry account can
    /// repoint it. A digest names exactly one image, so what was scanned and approved is what
    /// runs. This is advisory: digests need tooling (Renovate, Dependabot, `kustomize edit set
    /// image`) to keep them current.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27.3" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27.3@sha256:0bf5d3a8e0a2ed0c2ab4d8e5e1b3d1b1b7c9b1a7f2e3d4c5b6a79881726354ab" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// None automatic: the digest must come from the registry. Resolve it with
    /// `crane digest <image>` or `docker buildx imagetools inspect <image>` and append
    /// `@sha256:<digest>` (keeping the tag for readers).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Images](https://kubernetes.io/docs/concepts/containers/images/#image-names)
    /// - Checkov `CKV_K8S_43`; Kyverno `other/require-image-digest`
    pub(crate) static IMAGE_NOT_PINNED_BY_DIGEST = RuleMeta {
        id: "WD-K8S-021",
        name: "image-not-pinned-by-digest",
        title: "Container image is not pinned by digest",
        severity: Severity::Low,
        enforcement: Enforcement::Advisory,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_K8S_43"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for ContainerImage {
        container,
        image,
        parsed,
    } in container_images(resource)
    {
        if parsed.pinned() {
            continue;
        }
        out.violation(
            resource,
            format!(
                "{} uses image `{image}`, which is not pinned by digest",
                container.label()
            ),
        )
        .at(&container.at("image"));
    }
}
