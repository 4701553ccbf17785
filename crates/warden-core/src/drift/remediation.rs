//! A remediation per drifted resource: revert (re-apply the code) or adopt (change the code
//! to the live value, shown as the edit to make).
//!
//! Revert is suggested when the drift introduces a violation, when the object is gone, and
//! by default (the code is the source of truth); adopt when the drift only resolves
//! violations the code still has, and for an extra live object that breaks no policy
//! (deleting what something else may need is not a default).

use super::{
    AttributeChange, ChangeKind, DriftedResource, Remediation, Source, Status, Suggestion,
};
use crate::render::hcl_value;
use crate::value::Value;

/// A placeholder until the resource is complete.
pub(crate) fn none() -> Remediation {
    Remediation {
        suggested: Suggestion::Revert,
        reason: String::new(),
        revert: String::new(),
        adopt: Vec::new(),
    }
}

/// The remediation of a Terraform resource.
pub(crate) fn terraform(r: &DriftedResource) -> Remediation {
    suggest(Source::Terraform, r)
}

/// The remediation of a resource from either source.
pub(crate) fn suggest(source: Source, r: &DriftedResource) -> Remediation {
    let (suggested, reason) = choose(r);
    let address = shell_quote(&r.address);
    let file = r.location.file.as_deref().map(shell_quote);
    let file_or = |fallback: &str| file.clone().unwrap_or_else(|| fallback.to_owned());
    let (revert, adopt) = match (source, r.status) {
        (Source::Terraform, Status::Deleted) => (
            format!("terraform apply -target={address} re-creates it (review the plan first)"),
            vec![format!(
                "# remove the `{}` block (or add a `removed` block), or: terraform state rm {address}",
                r.address
            )],
        ),
        (Source::Terraform, _) => (
            format!(
                "terraform apply -target={address} puts back the configured values (review the plan first)"
            ),
            r.changes.iter().map(hcl_line).collect(),
        ),
        (Source::Kubernetes, Status::Missing) => (
            format!("kubectl apply -f {} re-creates it", file_or("<manifest>")),
            vec![format!(
                "# remove {} from {}",
                r.address,
                file_or("the manifests")
            )],
        ),
        (Source::Kubernetes, Status::Extra) => (
            format!(
                "kubectl delete {} (if nothing else manages it)",
                kubectl_target(&r.address, &r.resource_kind)
            ),
            vec![format!(
                "# add {} to the manifests (kubectl get -o yaml, without status and server-set metadata)",
                r.address
            )],
        ),
        (Source::Kubernetes, _) => (
            format!(
                "kubectl apply -f {} puts back the manifest's values",
                file_or("<manifest>")
            ),
            r.changes.iter().map(yaml_line).collect(),
        ),
    };
    Remediation {
        suggested,
        reason,
        revert,
        adopt,
    }
}

fn choose(r: &DriftedResource) -> (Suggestion, String) {
    let ids = |v: &[super::Violation]| {
        let mut ids: Vec<&str> = v.iter().map(|v| v.rule_id.as_str()).collect();
        ids.dedup();
        ids.join(", ")
    };
    if !r.introduced.is_empty() {
        return (
            Suggestion::Revert,
            format!(
                "the live state violates {}, which the code does not",
                ids(&r.introduced)
            ),
        );
    }
    match r.status {
        Status::Deleted | Status::Missing => {
            return (
                Suggestion::Revert,
                "the object is gone: re-create it, or remove it from the code if it was retired on purpose".to_owned(),
            )
        }
        Status::Extra => {
            return (
                Suggestion::Adopt,
                "the object exists outside the code and breaks no policy: add it to the code, or delete it if nothing needs it".to_owned(),
            )
        }
        Status::Changed => {}
    }
    if !r.resolved.is_empty() {
        return (
            Suggestion::Adopt,
            format!(
                "the live state no longer violates {}; bring the code up to date",
                ids(&r.resolved)
            ),
        );
    }
    (
        Suggestion::Revert,
        "no policy changes either way: revert keeps the code the source of truth; adopt if the change was intended".to_owned(),
    )
}

/// `ingress[0].cidr_blocks = ["0.0.0.0/0"]`, `# remove description`.
fn hcl_line(c: &AttributeChange) -> String {
    let path = hcl_path(&c.pointer);
    match (c.change, c.sensitive) {
        (ChangeKind::Removed, _) => format!("# remove {path}"),
        (_, true) => format!("# {path}: a sensitive value changed; set it from your secret store"),
        _ => format!("{path} = {}", hcl_value(&c.after)),
    }
}

/// `spec.replicas: 5`, `# remove metadata.labels["team"]`.
fn yaml_line(c: &AttributeChange) -> String {
    let path = hcl_path(&c.pointer);
    match (c.change, c.sensitive) {
        (ChangeKind::Removed, _) => format!("# remove {path}"),
        (_, true) => format!("# {path}: a secret value changed; take it from your secret store"),
        _ => format!(
            "{path}: {}",
            serde_json::to_string(&c.after).unwrap_or_else(|_| "null".to_owned())
        ),
    }
}

/// A JSON Pointer as an HCL-ish traversal: `/ingress/0/cidr_blocks` → `ingress[0].cidr_blocks`,
/// `/tags/kubernetes.io~1role` → `tags["kubernetes.io/role"]`.
fn hcl_path(pointer: &str) -> String {
    let mut out = String::new();
    for raw in pointer.split('/').skip(1) {
        let token = crate::value::unescape_pointer_token(raw);
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else if is_identifier(&token) {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        } else {
            out.push_str(&format!("[{}]", hcl_value(&Value::string(token.as_str()))));
        }
    }
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:=@+,".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `deployment.apps/web -n shop` from `apps/v1/Deployment/shop/web`.
fn kubectl_target(address: &str, kind: &str) -> String {
    let parts: Vec<&str> = address.split('/').collect();
    let kind_at = parts.iter().position(|p| *p == kind).unwrap_or(0);
    let group = if kind_at >= 2 {
        parts.first().copied().unwrap_or_default()
    } else {
        ""
    };
    let rest = parts.get(kind_at + 1..).unwrap_or_default();
    let resource = if group.is_empty() {
        kind.to_ascii_lowercase()
    } else {
        format!("{}.{group}", kind.to_ascii_lowercase())
    };
    match rest {
        [ns, name] => format!(
            "{} -n {}",
            shell_quote(&format!("{resource}/{name}")),
            shell_quote(ns)
        ),
        [name] => shell_quote(&format!("{resource}/{name}")),
        _ => shell_quote(&resource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_hcl() {
        assert_eq!(hcl_path("/ingress/0/cidr_blocks"), "ingress[0].cidr_blocks");
        assert_eq!(
            hcl_path("/tags/kubernetes.io~1role"),
            r#"tags["kubernetes.io/role"]"#
        );
        assert_eq!(hcl_path("/description"), "description");
    }

    #[test]
    fn kubectl_targets() {
        assert_eq!(
            kubectl_target("apps/v1/Deployment/shop/web", "Deployment"),
            "deployment.apps/web -n shop"
        );
        assert_eq!(
            kubectl_target("v1/ConfigMap/default/c", "ConfigMap"),
            "configmap/c -n default"
        );
        assert_eq!(
            kubectl_target("v1/Namespace/shop", "Namespace"),
            "namespace/shop"
        );
        assert_eq!(
            shell_quote("aws_s3_bucket.b[\"x\"]"),
            r#"'aws_s3_bucket.b["x"]'"#
        );
    }
}
