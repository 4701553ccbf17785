use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Symmetric encryption KMS keys (`aws_kms_key` whose `customer_master_key_spec` is unset or
    /// `SYMMETRIC_DEFAULT`) without automatic key rotation: `enable_key_rotation` is `false`
    /// or not set (the default is `false`).
    ///
    /// Asymmetric, HMAC and custom key store keys (`custom_key_store_id`) are skipped: KMS
    /// cannot rotate them automatically.
    ///
    /// ## Why it matters
    /// Rotation limits how much data is protected by one key version and how long a
    /// compromised key version stays useful. KMS rotates the key material transparently (old
    /// versions keep decrypting what they encrypted), so there is no operational cost, and
    /// standards such as PCI DSS and the CIS AWS Foundations Benchmark require it.
    ///
    /// ## Example
    /// ```yaml
    /// aws_kms_key.data: { action: create, after: { description: data, enable_key_rotation: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_kms_key.data: { action: create, after: { description: data, enable_key_rotation: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `enable_key_rotation = true` (yearly by default; `rotation_period_in_days` sets
    /// a period between 90 and 2560 days).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Rotate AWS KMS keys](https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html)
    /// - Checkov `CKV_AWS_7`; Trivy `AVD-AWS-0065`
    pub(crate) static KMS_KEY_ROTATION_DISABLED = RuleMeta {
        id: "WD-AWS-027",
        name: "kms-key-rotation-disabled",
        title: "KMS key does not rotate automatically",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_kms_key"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_7", "AVD-AWS-0065"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr("customer_master_key_spec") {
        Attr::Known(spec) if spec.as_str().is_some_and(|s| s != "SYMMETRIC_DEFAULT") => return,
        Attr::Unknown => return out.unknown(resource, "customer_master_key_spec"),
        _ => {}
    }
    if resource
        .after_str("key_usage")
        .is_some_and(|u| u != "ENCRYPT_DECRYPT")
    {
        return;
    }
    match resource.attr("custom_key_store_id") {
        Attr::Known(id) if id.as_str().is_some_and(|s| !s.is_empty()) => return,
        Attr::Unknown => return,
        _ => {}
    }
    let found = match resource.attr("enable_key_rotation") {
        Attr::Known(v) => match v.as_bool() {
            Some(false) => "`enable_key_rotation` is false",
            _ => return,
        },
        Attr::Unknown => return out.unknown(resource, "enable_key_rotation"),
        Attr::Absent => "`enable_key_rotation` is not set (defaults to false)",
    };
    out.violation(
        resource,
        format!("symmetric KMS key does not rotate its key material: {found}"),
    )
    .at("enable_key_rotation")
    .fix(Fix::set(
        "set `enable_key_rotation = true`",
        "enable_key_rotation",
        true,
    ));
}
