use super::pod::POD_CONTROLLERS;
use super::workload::{container_images, ContainerImage};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init, ephemeral) whose image has no tag, or the tag `latest`,
    /// and no digest. An image pinned by digest (`app@sha256:…`, `app:latest@sha256:…`)
    /// passes: the digest decides what runs. References are parsed as the runtime parses them,
    /// so `registry:5000/app` is a registry with a port and no tag.
    ///
    /// ## Why it matters
    /// An untagged image means `latest`, and `latest` moves: two nodes pulling minutes apart
    /// can run different code, a rollback redeploys whatever is newest, and a compromised
    /// upstream push reaches the cluster at the next pod restart without any change to the
    /// manifest. Nobody can tell from the manifest what is running.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:latest" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27.3" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// None automatic: which version to run is a release decision. Use a version tag, or better
    /// a digest (see WD-K8S-021).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Images](https://kubernetes.io/docs/concepts/containers/images/)
    /// - Checkov `CKV_K8S_14`; Trivy `AVD-KSV-0013`; Kyverno `best-practices/disallow-latest-tag`
    pub(crate) static IMAGE_TAG_MUTABLE = RuleMeta {
        id: "WD-K8S-020",
        name: "image-tag-mutable",
        title: "Container image has no tag or uses latest",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_K8S_14", "AVD-KSV-0013"],
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
        let message = match parsed.tag.as_deref() {
            None => format!(
                "{} uses image `{image}` with no tag, which means `latest`",
                container.label()
            ),
            Some("latest") => format!(
                "{} uses image `{image}`, whose `latest` tag moves",
                container.label()
            ),
            Some(_) => continue,
        };
        out.violation(resource, message).at(&container.at("image"));
    }
}
