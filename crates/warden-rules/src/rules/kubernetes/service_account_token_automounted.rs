use super::pod::{pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Pods (and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
    /// Jobs, CronJobs and ReplicationControllers) that get their ServiceAccount's API token
    /// mounted: the pod spec does not set `automountServiceAccountToken: false`, and the
    /// ServiceAccount it runs as (`serviceAccountName`, `default` when unset) is not in the
    /// same change with `automountServiceAccountToken: false`. The pod-level setting wins
    /// over the ServiceAccount's, so a pod that sets `true` is reported whatever its
    /// ServiceAccount says.
    ///
    /// ## Why it matters
    /// Every container of the pod can read the token at
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token` and call the Kubernetes API with
    /// it. Most applications never talk to the API, but an attacker who gets code execution
    /// in one does: the token is the first step to listing Secrets or creating pods,
    /// depending on what the ServiceAccount (often `default`, bound to who knows what) is
    /// allowed.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web, namespace: shop }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web, namespace: shop }, spec: { template: { spec: { automountServiceAccountToken: false, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `automountServiceAccountToken: false` on the pod spec. A workload that does call
    /// the API (an operator, a controller) should run as a dedicated ServiceAccount with a
    /// minimal Role; keep the token for it and accept the finding with an exception, or
    /// mount a short-lived projected token with the audience it needs.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Opt out of API credential automounting](https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting)
    /// - Checkov `CKV_K8S_38`; Trivy `AVD-KSV-0036`
    pub(crate) static SERVICE_ACCOUNT_TOKEN_AUTOMOUNTED = RuleMeta {
        id: "WD-K8S-029",
        name: "service-account-token-automounted",
        title: "Pod mounts its ServiceAccount's API token",
        severity: Severity::Low,
        enforcement: Enforcement::Warn,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_38", "AVD-KSV-0036"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn namespace(resource: &Resource) -> Option<&str> {
    resource
        .after
        .field("metadata")
        .field("namespace")
        .as_str()
        .filter(|ns| !ns.is_empty())
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = pod_spec(resource) else {
        return;
    };
    let attribute = format!("{path}.automountServiceAccountToken");
    let account = spec
        .field("serviceAccountName")
        .as_str()
        .or_else(|| spec.field("serviceAccount").as_str())
        .filter(|name| !name.is_empty())
        .unwrap_or("default");
    let message = match spec.field("automountServiceAccountToken").as_bool() {
        Some(false) => return,
        Some(true) => format!(
            "pod sets `automountServiceAccountToken: true`: every container gets the API token of ServiceAccount `{account}`"
        ),
        None => {
            let ns = namespace(resource);
            let opted_out = cx.live_of_kind("ServiceAccount").any(|sa| {
                sa.provider == "kubernetes"
                    && sa.after.field("metadata").field("name").as_str() == Some(account)
                    && namespace(sa) == ns
                    && sa.after.field("automountServiceAccountToken").as_bool() == Some(false)
            });
            if opted_out {
                return;
            }
            format!(
                "every container gets the API token of ServiceAccount `{account}`: neither the pod nor the ServiceAccount sets `automountServiceAccountToken: false`"
            )
        }
    };
    out.violation(resource, message)
        .at(&attribute)
        .fix(Fix::set(
            "do not mount the ServiceAccount token (`automountServiceAccountToken: false`)",
            &attribute,
            false,
        ));
}
