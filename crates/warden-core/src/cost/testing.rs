//! Test helpers: plans from a few resources, and the figures of one resource.

use crate::changeset::ChangeSet;

use super::{estimate, Catalog, CostEstimate, Usage};

/// A plan of these `resource_changes` (a JSON array), no provider configuration.
pub(crate) fn plan(resources: &str) -> ChangeSet {
    plan_with_providers(resources, "{}")
}

/// A plan of these `resource_changes` and this `configuration.provider_config`.
pub(crate) fn plan_with_providers(resources: &str, providers: &str) -> ChangeSet {
    // Fill in what every test resource has the same way: mode, name, provider.
    let mut list: serde_json::Value =
        serde_json::from_str(resources).unwrap_or_else(|e| panic!("test resources: {e}"));
    for r in list.as_array_mut().into_iter().flatten() {
        let address = r["address"].as_str().unwrap_or_default().to_owned();
        let kind = r["type"].as_str().unwrap_or_default().to_owned();
        let name = address.rsplit('.').next().unwrap_or_default().to_owned();
        let provider = kind.split('_').next().unwrap_or_default().to_owned();
        let object = r.as_object_mut().expect("a test resource is an object");
        object.entry("mode").or_insert("managed".into());
        object.entry("name").or_insert(name.into());
        object
            .entry("provider_name")
            .or_insert(format!("registry.terraform.io/hashicorp/{provider}").into());
    }
    let resources = list.to_string();
    let text = format!(
        r#"{{"format_version":"1.2","resource_changes":{resources},"configuration":{{"provider_config":{providers},"root_module":{{}}}}}}"#
    );
    crate::inputs::parse(&crate::inputs::InputBytes {
        name: "plan.json".into(),
        bytes: text.into_bytes(),
    })
    .unwrap_or_else(|e| panic!("test plan: {e}"))
}

/// A plan creating one resource of `kind` with these `after` values (a JSON object).
pub(crate) fn create(kind: &str, after: &str) -> ChangeSet {
    plan(&format!(
        r#"[{{"address":"{kind}.x","type":"{kind}","change":{{"actions":["create"],"before":null,"after":{after}}}}}]"#
    ))
}

/// The estimate of a plan creating one resource, on the embedded catalog, with usage YAML.
pub(crate) fn estimate_one(kind: &str, after: &str, usage: &str) -> CostEstimate {
    let usage = if usage.is_empty() {
        Usage::default()
    } else {
        Usage::parse("usage.yaml", usage).unwrap_or_else(|e| panic!("test usage: {e}"))
    };
    estimate(&create(kind, after), Catalog::embedded(), &usage)
}

/// The monthly cost after creating one resource; panics with the reason when unpriced.
pub(crate) fn monthly(kind: &str, after: &str) -> f64 {
    monthly_with(kind, after, "")
}

/// [`monthly`] with a usage file.
pub(crate) fn monthly_with(kind: &str, after: &str, usage: &str) -> f64 {
    let e = estimate_one(kind, after, usage);
    if let Some(u) = e.unpriced.first() {
        panic!("{kind} unpriced: {}", u.reason);
    }
    e.after
}

/// Why creating one resource is unpriced; panics when it is priced.
pub(crate) fn unpriced(kind: &str, after: &str) -> String {
    let e = estimate_one(kind, after, "");
    match e.unpriced.first() {
        Some(u) => u.reason.clone(),
        None => panic!("{kind} priced at {}", e.after),
    }
}

/// `(before, after)` of one priced resource.
pub(crate) fn price_of(e: &CostEstimate, address: &str) -> (f64, f64) {
    let r = e
        .resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("{address} not priced: {:?}", e.unpriced));
    (r.before, r.after)
}
