//! Where the pod spec and the containers of a workload are, whatever its controller: every
//! pod rule applies to Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and
//! ReplicationController through the right template path, and its fix patches that path.

use warden_core::{Resource, Value};

use super::workload::is_windows;

/// Kinds that carry a pod spec.
pub(crate) const POD_CONTROLLERS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

/// The dotted path of the pod spec inside a manifest of `kind`.
#[must_use]
pub(crate) fn pod_spec_path(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("spec"),
        "CronJob" => Some("spec.jobTemplate.spec.template.spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some("spec.template.spec"),
        _ => None,
    }
}

/// The pod spec of a workload, with its dotted path (`spec.template.spec`).
#[must_use]
pub(crate) fn pod_spec(resource: &Resource) -> Option<(&Value, &'static str)> {
    let path = pod_spec_path(&resource.kind)?;
    resource.after.path(path).map(|spec| (spec, path))
}

/// The pod spec of a workload with its dotted path, unless the pod declares
/// `spec.os.name: windows`: for the restricted profile's Linux-only controls (privilege
/// escalation, seccomp, capabilities).
#[must_use]
pub(crate) fn linux_pod_spec(resource: &Resource) -> Option<(&Value, &'static str)> {
    pod_spec(resource).filter(|(spec, _)| !is_windows(spec))
}

/// The capabilities the baseline profile allows a container to add.
pub(crate) const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The metadata of the pods a workload creates (`spec.template.metadata`; the Pod's own for a
/// Pod), with its dotted path.
#[must_use]
pub(crate) fn pod_metadata(resource: &Resource) -> Option<(&Value, String)> {
    let spec = pod_spec_path(&resource.kind)?;
    let path = match spec.strip_suffix(".spec") {
        Some(template) => format!("{template}.metadata"),
        None => "metadata".to_owned(),
    };
    Some((resource.after.path(&path).unwrap_or(&NULL), path))
}

static NULL: Value = Value::Null;

/// Which list a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContainerKind {
    /// `containers`.
    Regular,
    /// `initContainers`.
    Init,
    /// `ephemeralContainers`.
    Ephemeral,
}

impl ContainerKind {
    /// How a message names it.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            ContainerKind::Regular => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }
}

/// One container of a pod spec.
#[derive(Debug, Clone)]
pub(crate) struct Container<'a> {
    /// The container object.
    pub(crate) value: &'a Value,
    /// Its dotted path in the manifest (`spec.template.spec.containers.0`).
    pub(crate) path: String,
    /// Which list it is in.
    pub(crate) kind: ContainerKind,
    /// Its `name`.
    pub(crate) name: &'a str,
}

impl<'a> Container<'a> {
    /// The container's `securityContext` (`null` when it has none).
    pub(crate) fn security_context(&self) -> &'a Value {
        self.value.field("securityContext")
    }

    /// The dotted path of an attribute of this container (`securityContext.privileged`).
    pub(crate) fn at(&self, attribute: &str) -> String {
        format!("{}.{attribute}", self.path)
    }

    /// `container `web`` / `init container `setup`` for messages.
    pub(crate) fn label(&self) -> String {
        format!("{} `{}`", self.kind.noun(), self.name)
    }
}

/// Every container of a workload (regular, init, ephemeral), in manifest order.
#[must_use]
pub(crate) fn containers(resource: &Resource) -> Vec<Container<'_>> {
    let Some((spec, path)) = pod_spec(resource) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, kind) in [
        ("containers", ContainerKind::Regular),
        ("initContainers", ContainerKind::Init),
        ("ephemeralContainers", ContainerKind::Ephemeral),
    ] {
        for (i, c) in spec.field(key).items().iter().enumerate() {
            out.push(Container {
                value: c,
                path: format!("{path}.{key}.{i}"),
                kind,
                name: c.field("name").as_str().unwrap_or_default(),
            });
        }
    }
    out
}

/// Every container of a workload, as [`containers`], unless the pod declares
/// `spec.os.name: windows` (none then): for the restricted profile's Linux-only controls.
#[must_use]
pub(crate) fn linux_containers(resource: &Resource) -> Vec<Container<'_>> {
    if linux_pod_spec(resource).is_none() {
        return Vec::new();
    }
    containers(resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::Action;

    fn workload(kind: &str, body: &str) -> Resource {
        let mut r = Resource::new(format!("apps/v1/{kind}/x"), kind, Action::Create);
        r.after = serde_json::from_str(body).unwrap();
        r
    }

    #[test]
    fn template_paths_per_controller() {
        let cron = workload(
            "CronJob",
            r#"{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"a"}],"initContainers":[{"name":"i"}]}}}}}}"#,
        );
        let found: Vec<(String, &str)> = containers(&cron)
            .into_iter()
            .map(|c| (c.path, c.name))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "spec.jobTemplate.spec.template.spec.containers.0".to_owned(),
                    "a"
                ),
                (
                    "spec.jobTemplate.spec.template.spec.initContainers.0".to_owned(),
                    "i"
                ),
            ]
        );
        let pod = workload("Pod", r#"{"spec":{"containers":[{"name":"a"}]}}"#);
        assert_eq!(
            containers(&pod)[0].at("securityContext.privileged"),
            "spec.containers.0.securityContext.privileged"
        );
        assert_eq!(
            pod_metadata(&cron).map(|(_, p)| p),
            Some("spec.jobTemplate.spec.template.metadata".to_owned())
        );
        assert!(containers(&workload("Service", "{}")).is_empty());
    }
}
