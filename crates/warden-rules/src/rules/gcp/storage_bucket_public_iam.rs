use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Cloud Storage buckets made readable (or writable) by everyone: a grant to `allUsers`
    /// (anyone on the internet) or `allAuthenticatedUsers` (anyone with a Google account)
    /// through `google_storage_bucket_iam_member` (`member`),
    /// `google_storage_bucket_iam_binding` (`members`), `google_storage_bucket_iam_policy`
    /// (`policy_data`), `google_storage_bucket_access_control` (`entity`), or
    /// `google_storage_bucket_acl` (`role_entity` entries such as `READER:allUsers`, or a
    /// public `predefined_acl` / `default_acl`: `publicRead`, `publicReadWrite`,
    /// `authenticatedRead`).
    ///
    /// ## Why it matters
    /// A public bucket exposes every object in it to the internet, and `allAuthenticatedUsers`
    /// is no better: it means any Google account, not your organization. Public buckets are
    /// one of the most common sources of cloud data leaks; they are enumerated by automated
    /// scanners.
    ///
    /// ## Example
    /// ```yaml
    /// google_storage_bucket_iam_member.public: { after: { bucket: assets, role: roles/storage.objectViewer, member: allUsers } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_storage_bucket_iam_member.public: { after: { bucket: assets, role: roles/storage.objectViewer, member: "group:readers@example.com" } }
    /// ```
    ///
    /// ## Fix
    /// For a binding, removes `allUsers` and `allAuthenticatedUsers` from `members` (when
    /// other members remain); for a bucket ACL, removes the public `role_entity` entries and
    /// sets a public `predefined_acl` or `default_acl` to `projectPrivate`. A public
    /// `google_storage_bucket_iam_member`, `google_storage_bucket_access_control` or policy
    /// has no machine fix: delete the grant. To serve content publicly on purpose, put Cloud
    /// CDN or a load balancer with a backend bucket in front, or use signed URLs, and set
    /// `public_access_prevention = "enforced"` on buckets that must never be public.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Making data public](https://cloud.google.com/storage/docs/access-control/making-data-public)
    /// - [Google Cloud: Public access prevention](https://cloud.google.com/storage/docs/public-access-prevention)
    /// - Checkov `CKV_GCP_28`; Trivy `AVD-GCP-0001`
    pub(crate) static STORAGE_BUCKET_PUBLIC_IAM = RuleMeta {
        id: "WD-GCP-005",
        name: "storage-bucket-public-iam",
        title: "Cloud Storage bucket is granted to allUsers or allAuthenticatedUsers",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &[
            "google_storage_bucket_iam_member",
            "google_storage_bucket_iam_binding",
            "google_storage_bucket_iam_policy",
            "google_storage_bucket_access_control",
            "google_storage_bucket_acl",
        ],
        fix: FixAvailability::Sometimes,
        params: &[],
        aliases: &["CKV_GCP_28", "AVD-GCP-0001"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Principals that mean "everyone".
const PUBLIC: &[&str] = &["allUsers", "allAuthenticatedUsers"];

/// Canned ACLs that grant everyone access.
const PUBLIC_ACLS: &[&str] = &["publicRead", "publicReadWrite", "authenticatedRead"];

fn is_public(principal: &str) -> bool {
    PUBLIC.contains(&principal.trim())
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.kind.as_str() {
        "google_storage_bucket_iam_member" => single(resource, "member", out),
        "google_storage_bucket_access_control" => single(resource, "entity", out),
        "google_storage_bucket_iam_binding" => binding(resource, out),
        "google_storage_bucket_iam_policy" => policy(resource, out),
        _ => acl(resource, out),
    }
}

fn role_of(resource: &Resource) -> String {
    resource
        .after_str("role")
        .map_or_else(String::new, |r| format!("`{r}` "))
}

/// `member` of an IAM member, `entity` of an access control: no fix but deleting the grant.
fn single(resource: &Resource, key: &str, out: &mut Report<'_>) {
    match resource.attr(key) {
        Attr::Known(v) => {
            if let Some(principal) = v.as_str().filter(|p| is_public(p)) {
                let _ = out
                    .violation(
                        resource,
                        format!(
                            "grants {}to `{principal}`: everyone can access the bucket",
                            role_of(resource)
                        ),
                    )
                    .at(key);
            }
        }
        Attr::Unknown => out.unknown(resource, key),
        Attr::Absent => {}
    }
}

fn binding(resource: &Resource, out: &mut Report<'_>) {
    let members = match resource.attr("members") {
        Attr::Known(v) => v.items(),
        Attr::Unknown => return out.unknown(resource, "members"),
        Attr::Absent => return,
    };
    let public: Vec<&str> = members
        .iter()
        .filter_map(Value::as_str)
        .filter(|m| is_public(m))
        .collect();
    if public.is_empty() {
        if members.iter().any(Value::is_null) && resource.is_unknown("members") {
            out.unknown(resource, "members");
        }
        return;
    }
    let kept: Vec<Value> = members
        .iter()
        .filter(|m| !m.as_str().is_some_and(is_public))
        .cloned()
        .collect();
    let listed = helpers::code_list(&public, " and ");
    let pending = out
        .violation(
            resource,
            format!(
                "grants {}to {listed}: everyone can access the bucket",
                role_of(resource)
            ),
        )
        .at("members");
    if !kept.is_empty() {
        pending.fix(Fix::set(
            format!("remove {listed} from `members`"),
            "members",
            Value::from(kept),
        ));
    }
}

fn policy(resource: &Resource, out: &mut Report<'_>) {
    if resource.is_unknown("policy_data") && resource.after_str("policy_data").is_none() {
        return out.unknown(resource, "policy_data");
    }
    let Some(document) = helpers::policy_document(resource, "policy_data") else {
        return;
    };
    let mut grants: Vec<String> = Vec::new();
    for binding in document.field("bindings").items() {
        let role = binding.field("role").as_str().unwrap_or("a role");
        for member in binding
            .field("members")
            .items()
            .iter()
            .filter_map(Value::as_str)
            .filter(|m| is_public(m))
        {
            grants.push(format!("`{role}` to `{member}`"));
        }
    }
    if !grants.is_empty() {
        let _ = out
            .violation(
                resource,
                format!(
                    "the policy grants {}: everyone can access the bucket",
                    grants.join(", ")
                ),
            )
            .at("policy_data");
    }
}

fn acl(resource: &Resource, out: &mut Report<'_>) {
    for key in ["predefined_acl", "default_acl"] {
        match resource.attr(key) {
            Attr::Known(v) => {
                if let Some(canned) = v.as_str().filter(|a| PUBLIC_ACLS.contains(a)) {
                    let what = if key == "default_acl" {
                        "every new object"
                    } else {
                        "the bucket"
                    };
                    out.violation(
                        resource,
                        format!("`{key}` is `{canned}`: everyone can access {what}"),
                    )
                    .at(key)
                    .fix(Fix::set(
                        format!("set `{key}` to `projectPrivate`"),
                        key,
                        "projectPrivate",
                    ));
                }
            }
            Attr::Unknown => out.unknown(resource, key),
            Attr::Absent => {}
        }
    }
    let entries = match resource.attr("role_entity") {
        Attr::Known(v) => v.items(),
        Attr::Unknown => return out.unknown(resource, "role_entity"),
        Attr::Absent => return,
    };
    let entity_is_public = |e: &&str| {
        e.split_once(':')
            .is_some_and(|(_, entity)| is_public(entity))
    };
    let public: Vec<&str> = entries
        .iter()
        .filter_map(Value::as_str)
        .filter(entity_is_public)
        .collect();
    if public.is_empty() {
        return;
    }
    let kept: Vec<Value> = entries
        .iter()
        .filter(|e| !e.as_str().as_ref().is_some_and(entity_is_public))
        .cloned()
        .collect();
    let listed = helpers::code_list(&public, ", ");
    out.violation(
        resource,
        format!("ACL entries {listed} give everyone access to the bucket"),
    )
    .at("role_entity")
    .fix(Fix::set(
        format!("remove {listed} from `role_entity`"),
        "role_entity",
        Value::from(kept),
    ));
}
