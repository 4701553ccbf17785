use super::pod::{containers, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;
use warden_core::finding::{dotted_to_pointer, PatchOp};

declare_rule! {
    /// ## What it checks
    /// `hostPath` volumes: any entry of `volumes` with a `hostPath` in a Pod or in the pod
    /// template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or
    /// ReplicationController. Each hostPath volume is one finding; the message says when the
    /// path exposes the container runtime's socket (`docker.sock`, `containerd.sock`,
    /// `crio.sock`, `/var/run`, `/run/containerd` ...) or the node's root file system.
    ///
    /// Pod Security Standards, **baseline** profile: "HostPath Volumes".
    ///
    /// ## Why it matters
    /// A hostPath volume gives the pod a directory or file of the node. Writable, it can plant
    /// binaries or cron jobs on the node; readable, it can read the kubelet's credentials and
    /// other pods' secrets under `/var/lib/kubelet`. A mounted container runtime socket is the
    /// worst case: whoever can talk to it starts a privileged container on the node, which is
    /// root on the node.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: DaemonSet, metadata: { name: builder }, spec: { template: { spec: { containers: [ { name: b, image: "docker:27", volumeMounts: [ { name: sock, mountPath: /var/run/docker.sock } ] } ], volumes: [ { name: sock, hostPath: { path: /var/run/docker.sock, type: Socket } } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: DaemonSet, metadata: { name: builder }, spec: { template: { spec: { containers: [ { name: b, image: "buildkit:0.16", volumeMounts: [ { name: cache, mountPath: /cache } ] } ], volumes: [ { name: cache, emptyDir: {} } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Removes the volume and the `volumeMounts` of every container that mount it (a mount of
    /// a missing volume is rejected by the API server). Use an `emptyDir`, a ConfigMap, Secret
    /// or PersistentVolumeClaim for the data instead; build images without the node's runtime
    /// (BuildKit rootless, Kaniko).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [Kubernetes: hostPath volumes](https://kubernetes.io/docs/concepts/storage/volumes/#hostpath)
    /// - Checkov `CKV_K8S_27` (Docker socket); Trivy `AVD-KSV-0023`, `AVD-KSV-0006` (Docker socket); Kyverno `pod-security/baseline/disallow-host-path`
    pub(crate) static HOST_PATH_VOLUME = RuleMeta {
        id: "WD-K8S-005",
        name: "host-path-volume",
        title: "Pod mounts a hostPath volume",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_27", "AVD-KSV-0023", "AVD-KSV-0006"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Socket file names of container runtimes.
const SOCKETS: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "dockershim.sock",
    "podman.sock",
];

/// Directories that hold a runtime socket.
const SOCKET_DIRS: &[&str] = &[
    "/run",
    "/var/run",
    "/run/docker",
    "/var/run/docker",
    "/run/containerd",
    "/var/run/containerd",
    "/run/crio",
    "/var/run/crio",
    "/run/cri-dockerd",
    "/var/run/cri-dockerd",
    "/run/podman",
    "/var/run/podman",
];

/// What a host path exposes beyond "a directory of the node".
#[derive(Clone, Copy)]
enum Danger {
    /// `/`: everything, the runtime socket included.
    Root,
    /// A runtime socket file.
    Socket,
    /// A directory holding a runtime socket.
    SocketDir,
}

fn danger(path: &str) -> Option<Danger> {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() && path.trim().starts_with('/') {
        return Some(Danger::Root);
    }
    let file = trimmed.rsplit('/').next().unwrap_or(trimmed);
    if SOCKETS.contains(&file) {
        Some(Danger::Socket)
    } else if SOCKET_DIRS.contains(&trimmed) {
        Some(Danger::SocketDir)
    } else {
        None
    }
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = pod_spec(resource) else {
        return;
    };
    for (i, volume) in spec.field("volumes").items().iter().enumerate() {
        let Some(host_path) = volume.get("hostPath").filter(|v| !v.is_null()) else {
            continue;
        };
        let name = volume.field("name").as_str().unwrap_or_default();
        let host = host_path.field("path").as_str().unwrap_or_default();
        const ROOT: &str = "critical: whoever reaches the runtime socket is root on the node";
        let message = match danger(host) {
            Some(Danger::Root) => format!(
                "volume `{name}` mounts the node's whole file system (`{host}`), container runtime socket included; {ROOT}"
            ),
            Some(Danger::Socket) => format!(
                "volume `{name}` mounts the container runtime socket `{host}` from the node; {ROOT}"
            ),
            Some(Danger::SocketDir) => format!(
                "volume `{name}` mounts host path `{host}`, which holds the container runtime socket; {ROOT}"
            ),
            None => format!("volume `{name}` mounts host path `{host}` from the node"),
        };
        // Mounts first (their paths do not move when the volume goes), each container's in
        // descending order so earlier removals do not shift later ones.
        let mut ops = Vec::new();
        for container in containers(resource) {
            let mounts = container.value.field("volumeMounts").items();
            for (j, mount) in mounts.iter().enumerate().rev() {
                if mount.field("name").as_str() == Some(name) {
                    ops.push(PatchOp::Remove {
                        path: dotted_to_pointer(&container.at(&format!("volumeMounts.{j}"))),
                    });
                }
            }
        }
        let mounted = ops.len();
        ops.push(PatchOp::Remove {
            path: dotted_to_pointer(&format!("{path}.volumes.{i}")),
        });
        let description = if mounted == 0 {
            format!("remove the hostPath volume `{name}`")
        } else {
            format!("remove the hostPath volume `{name}` and its mounts")
        };
        out.violation(resource, message)
            .at(&format!("{path}.volumes.{i}.hostPath"))
            .fix(Fix::patch(description, ops));
    }
}
