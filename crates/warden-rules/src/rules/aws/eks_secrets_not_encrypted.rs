use super::planned::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// EKS clusters (`aws_eks_cluster`) with no `encryption_config` whose `resources` include
    /// `"secrets"`: Kubernetes secrets are not envelope-encrypted with a KMS key of yours.
    ///
    /// ## Why it matters
    /// Kubernetes secrets hold database passwords, API tokens and TLS keys. Envelope encryption
    /// with your own KMS key means a copy of etcd is useless without that key, every decryption
    /// is logged in CloudTrail, and access can be revoked by disabling the key. Clusters on
    /// Kubernetes 1.28 or later get a default envelope encryption with an AWS owned key, which
    /// gives none of that control or audit trail; older clusters have only disk-level
    /// encryption.
    ///
    /// ## Example
    /// ```yaml
    /// aws_eks_cluster.main: { action: create, after: { name: main, version: "1.30" } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_eks_cluster.main: { action: create, after: { name: main, version: "1.30", encryption_config: [{ resources: [secrets], provider: [{ key_arn: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }] }] } }
    /// ```
    ///
    /// ## Fix
    /// A snippet: create a customer managed KMS key with rotation and add an
    /// `encryption_config` block for `secrets` that uses it. Encryption can be added to an
    /// existing cluster but never removed; the cluster role needs `kms:Encrypt`,
    /// `kms:Decrypt`, `kms:DescribeKey` and `kms:CreateGrant` on the key.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Encrypt Kubernetes secrets with KMS on existing clusters](https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html)
    /// - [AWS: Default envelope encryption for all Kubernetes API data](https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html)
    /// - Checkov `CKV_AWS_58`; Trivy `AVD-AWS-0039`
    pub(crate) static EKS_SECRETS_NOT_ENCRYPTED = RuleMeta {
        id: "WD-AWS-026",
        name: "eks-secrets-not-encrypted",
        title: "EKS cluster does not encrypt Kubernetes secrets with a KMS key",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_eks_cluster"],
        fix: FixAvailability::Sometimes,
        params: &[],
        aliases: &["CKV_AWS_58", "AVD-AWS-0039"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// What to add: a key and the `encryption_config` block.
const SNIPPET: &str = r#"resource "aws_kms_key" "eks_secrets" {
  description         = "EKS secrets envelope encryption"
  enable_key_rotation = true
}

# in the aws_eks_cluster block:
encryption_config {
  resources = ["secrets"]
  provider {
    key_arn = aws_kms_key.eks_secrets.arn
  }
}"#;

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let configs = match planned(resource, cx, "encryption_config") {
        Planned::Set(v) => v.items(),
        Planned::Unknown => return out.unknown(resource, "encryption_config"),
        Planned::Default => &[],
    };
    for i in 0..configs.len() {
        let path = format!("encryption_config.{i}.resources");
        match resource.attr(&path) {
            Attr::Known(r) if helpers::string_or_list(Some(r)).contains(&"secrets") => return,
            Attr::Unknown => return out.unknown(resource, &path),
            _ => {}
        }
    }
    let found = if configs.is_empty() {
        "no `encryption_config` block"
    } else {
        "no `encryption_config` covers `secrets`"
    };
    out.violation(
        resource,
        format!("Kubernetes secrets are not envelope-encrypted with a KMS key of yours: {found}"),
    )
    .at("encryption_config")
    .fix(Fix::snippet(
        "add a customer managed KMS key and an `encryption_config` block for `secrets`",
        SNIPPET,
    ));
}
