use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// S3 Block Public Access settings, on a bucket (`aws_s3_bucket_public_access_block`) or on
    /// the whole account (`aws_s3_account_public_access_block`), that leave any of the four
    /// switches off: `block_public_acls`, `block_public_policy`, `ignore_public_acls`,
    /// `restrict_public_buckets`. An unset switch is `false`, the provider's default.
    ///
    /// ## Why it matters
    /// Block Public Access is the guard rail that keeps a bucket private even when someone
    /// later attaches a public ACL or bucket policy by mistake. Each switch closes a different
    /// path: the two ACL switches stop new public ACLs and neutralize existing ones, the two
    /// policy switches stop public bucket policies and cut off public and cross-account access
    /// granted by one. Leaving one off re-opens that path.
    ///
    /// ## Example
    /// ```yaml
    /// aws_s3_bucket_public_access_block.logs:
    ///   after: { bucket: logs, block_public_acls: true, block_public_policy: false, ignore_public_acls: true, restrict_public_buckets: true }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_s3_bucket_public_access_block.logs:
    ///   after: { bucket: logs, block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true }
    /// ```
    ///
    /// ## Fix
    /// Sets all four switches to `true`. A bucket that must really be public (a static website
    /// without CloudFront) needs an exception for this rule, recorded with its reason.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Blocking public access to your Amazon S3 storage](https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html)
    /// - Checkov `CKV_AWS_53`, `CKV_AWS_54`, `CKV_AWS_55`, `CKV_AWS_56`; Trivy `AVD-AWS-0086`, `AVD-AWS-0087`, `AVD-AWS-0091`, `AVD-AWS-0093`
    pub(crate) static S3_PUBLIC_ACCESS_BLOCK_INCOMPLETE = RuleMeta {
        id: "WD-AWS-003",
        name: "s3-public-access-block-incomplete",
        title: "S3 Block Public Access leaves a setting disabled",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &[
            "CKV_AWS_53",
            "CKV_AWS_54",
            "CKV_AWS_55",
            "CKV_AWS_56",
            "AVD-AWS-0086",
            "AVD-AWS-0087",
            "AVD-AWS-0091",
            "AVD-AWS-0093",
        ],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const SWITCHES: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let mut off = Vec::new();
    let mut unknown = None;
    for switch in SWITCHES {
        match resource.attr(switch) {
            Attr::Known(v) if v.as_bool() == Some(true) => {}
            Attr::Unknown => {
                unknown.get_or_insert(switch);
            }
            // Absent, `false`, or anything that is not a boolean: the switch is off.
            _ => off.push(switch),
        }
    }
    if let Some(&first) = off.first() {
        let scope = if resource.kind == "aws_s3_account_public_access_block" {
            "account"
        } else {
            "bucket"
        };
        let list = helpers::code_list(&off, ", ");
        let fix = Fix::set(
            "turn on all four Block Public Access settings",
            SWITCHES[0],
            true,
        )
        .and_set(SWITCHES[1], true)
        .and_set(SWITCHES[2], true)
        .and_set(SWITCHES[3], true);
        out.violation(
            resource,
            format!("{scope}-level Block Public Access leaves {list} disabled"),
        )
        .at(first)
        .fix(fix);
    } else if let Some(switch) = unknown {
        out.unknown(resource, switch);
    }
}
