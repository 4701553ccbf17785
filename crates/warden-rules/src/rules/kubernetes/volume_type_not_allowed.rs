use super::pod::{pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

/// The volume sources the restricted profile allows.
const ALLOWED: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

declare_rule! {
    /// ## What it checks
    /// Pod volumes whose source is not one of `configMap`, `csi`, `downwardAPI`, `emptyDir`,
    /// `ephemeral`, `persistentVolumeClaim`, `projected` or `secret`: for example `nfs`,
    /// `iscsi`, `rbd`, `cephfs`, `gitRepo` or the in-tree cloud disk drivers, in a Pod or the
    /// pod template of any controller. One finding per volume.
    ///
    /// Pod Security Standards, **restricted** profile: "Volume Types". `hostPath` volumes are
    /// left to the baseline rule WD-K8S-005 ("HostPath Volumes"), so they are not reported
    /// twice.
    ///
    /// ## Why it matters
    /// The restricted profile lets a pod reach storage only through the abstractions the
    /// cluster administrator controls (persistent volume claims, CSI drivers): a volume that
    /// names a network file server or a block device directly bypasses storage classes and
    /// their access controls, mounts whatever the node can reach, and often runs privileged
    /// kernel code paths on the node.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: Pod, metadata: { name: reports }, spec: { containers: [ { name: app, image: "app:1.0" } ], volumes: [ { name: share, nfs: { server: nfs.internal, path: /exports } } ] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: Pod, metadata: { name: reports }, spec: { containers: [ { name: app, image: "app:1.0" } ], volumes: [ { name: share, persistentVolumeClaim: { claimName: reports } } ] } }
    /// ```
    ///
    /// ## Fix
    /// None automatic: the volume's mounts and the storage behind it must change together.
    /// Expose the storage as a PersistentVolume (or through its CSI driver) and mount it with a
    /// `persistentVolumeClaim` volume.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov has no equivalent; Trivy `AVD-KSV-0028`; Kyverno `pod-security/restricted/restrict-volume-types`
    pub(crate) static VOLUME_TYPE_NOT_ALLOWED = RuleMeta {
        id: "WD-K8S-012",
        name: "volume-type-not-allowed",
        title: "Pod uses a volume type the restricted profile forbids",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::None,
        params: &[],
        aliases: &["AVD-KSV-0028"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = pod_spec(resource) else {
        return;
    };
    for (i, volume) in spec.field("volumes").items().iter().enumerate() {
        let name = volume.field("name").as_str().unwrap_or_default();
        let sources: Vec<&str> = volume
            .entries()
            .iter()
            .filter(|(key, value)| key.as_str() != "name" && !value.is_null())
            .map(|(key, _)| key.as_str())
            .filter(|key| !ALLOWED.contains(key) && *key != "hostPath")
            .collect();
        if sources.is_empty() {
            continue;
        }
        let sources = sources
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out.violation(
            resource,
            format!("volume `{name}` uses {sources}, which the restricted profile does not allow"),
        )
        .at(&format!("{path}.volumes.{i}"));
    }
}
