use super::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// GKE node configurations that turn the legacy Compute Engine metadata endpoints back on:
    /// `node_config.metadata["disable-legacy-endpoints"] = "false"` on a
    /// `google_container_node_pool`, or on a `google_container_cluster` (its default
    /// `node_config` and each inline `node_pool`). GKE disables the legacy endpoints by
    /// default (since 1.12), so only an explicit `"false"` is reported.
    ///
    /// ## Why it matters
    /// The legacy `v0.1` and `v1beta1` metadata endpoints answer requests without the
    /// `Metadata-Flavor: Google` header, which is what stops server-side request forgery (SSRF)
    /// bugs in a workload from reading the node's metadata: its service account token and
    /// the kubelet credentials. Google has shut these endpoints down on current images, so a
    /// configuration that asks for them is at best dead and at worst targets old node images
    /// where they still answer.
    ///
    /// ## Example
    /// ```yaml
    /// google_container_node_pool.main: { after: { name: main, node_config: [{ machine_type: e2-standard-4, metadata: { disable-legacy-endpoints: "false" } }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_container_node_pool.main: { after: { name: main, node_config: [{ machine_type: e2-standard-4, metadata: { disable-legacy-endpoints: "true" } }] } }
    /// ```
    ///
    /// ## Fix
    /// Sets `disable-legacy-endpoints` to `"true"` in the node configuration's `metadata`.
    /// Changing node metadata recreates the pool's nodes; pair it with Workload Identity or the
    /// GKE metadata server (`workload_metadata_config.mode = "GKE_METADATA"`) to hide node
    /// credentials from pods entirely.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Harden your cluster — protect node metadata](https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#protect_node_metadata_default_for_112)
    /// - [Google Cloud: Transitioning to the v1 metadata server endpoint](https://cloud.google.com/kubernetes-engine/docs/how-to/protecting-cluster-metadata#concealment)
    /// - Checkov `CKV_GCP_67`; Trivy `AVD-GCP-0048`
    pub(crate) static GKE_LEGACY_METADATA_ENDPOINTS_ENABLED = RuleMeta {
        id: "WD-GCP-010",
        name: "gke-legacy-metadata-endpoints-enabled",
        title: "GKE nodes enable the legacy metadata endpoints",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["google_container_cluster", "google_container_node_pool"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_67", "AVD-GCP-0048"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "disable-legacy-endpoints";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    check_node_config(resource, cx, "node_config.0", None, out);
    if resource.kind == "google_container_cluster" {
        for (i, pool) in resource.after.field("node_pool").items().iter().enumerate() {
            let name = pool
                .field("name")
                .as_str()
                .map(|n| format!("node pool `{n}`"));
            check_node_config(
                resource,
                cx,
                &format!("node_pool.{i}.node_config.0"),
                name,
                out,
            );
        }
    }
}

fn check_node_config(
    resource: &Resource,
    cx: &CheckContext<'_>,
    prefix: &str,
    pool: Option<String>,
    out: &mut Report<'_>,
) {
    let attribute = format!("{prefix}.metadata.{KEY}");
    match planned(resource, cx, &attribute) {
        Planned::Set(v) if v.as_bool() == Some(false) => {
            let whose = pool.unwrap_or_else(|| "the node configuration".to_owned());
            out.violation(
                resource,
                format!("{whose} sets `{KEY}` to `{}`: the legacy metadata endpoints answer without the `Metadata-Flavor` header", text(v)),
            )
            .at(&attribute)
            .fix(Fix::set(format!("set `{KEY}` to \"true\" in the node metadata"), &attribute, "true"));
        }
        Planned::Unknown => out.unknown(resource, &attribute),
        Planned::Set(_) | Planned::Default => {}
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}
