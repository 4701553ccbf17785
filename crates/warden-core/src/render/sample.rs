//! The one decision every renderer's tests render: every enforcement, an unknown-valued
//! finding, a patch fix with several source edits, a snippet fix, a waiver by exception and one
//! by tag, an expired-exception note, an engine error, two resources, a rule that is not in the
//! rule list (a Rego policy), a message full of Markdown- and XML-hostile characters, and a
//! cost estimate with an unpriced resource and a limit.

use time::macros::date;

use crate::changeset::{InputInfo, InputKind};
use crate::cost::{
    Catalog, Component, CostEstimate, CostLimit, LimitScope, RegionSource, ResourceCost, Unpriced,
    Usage,
};
use crate::decision::{
    Decision, EngineError, Outcome, Summary, Tool, WaivedFinding, SCHEMA_VERSION,
};
use crate::engine::RuleInfo;
use crate::exceptions::{Exception, Waiver};
use crate::finding::{Enforcement, Finding, Fix, Severity};
use crate::resource::{Action, Location};

const BUCKET: &str = "aws_s3_bucket.logs";
const INSTANCE: &str = "aws_instance.web";

fn bucket_location() -> Location {
    Location {
        file: Some("plan.json".to_owned()),
        line: Some(42),
        pointer: Some("/resource_changes/0".to_owned()),
    }
}

fn instance_location() -> Location {
    Location {
        file: Some("plan.json".to_owned()),
        line: Some(118),
        pointer: Some("/resource_changes/1".to_owned()),
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "a test helper that reads as a table"
)]
fn finding(
    rule_id: &str,
    rule_name: &str,
    title: &str,
    severity: Severity,
    enforcement: Enforcement,
    resource: &str,
    attribute: Option<&str>,
    message: &str,
    why: &str,
) -> Finding {
    let (kind, action, location) = if resource == BUCKET {
        ("aws_s3_bucket", Action::Create, bucket_location())
    } else {
        ("aws_instance", Action::Update, instance_location())
    };
    Finding {
        rule_id: rule_id.to_owned(),
        rule_name: rule_name.to_owned(),
        title: title.to_owned(),
        severity,
        enforcement,
        resource: resource.to_owned(),
        resource_kind: kind.to_owned(),
        action,
        attribute: attribute.map(str::to_owned),
        location,
        message: message.to_owned(),
        why: why.to_owned(),
        fix: None,
        unknown: false,
        aliases: Vec::new(),
        help_uri: Some(format!(
            "https://github.com/warden-dev/warden/blob/main/docs/rules/{rule_id}.md"
        )),
        note: None,
    }
}

/// The rules the sample was evaluated with (`ACME-TAGS-001`, a Rego policy, is missing on
/// purpose: SARIF must still describe it).
pub(crate) fn rules() -> Vec<RuleInfo> {
    let rule =
        |id: &str, name: &str, title: &str, severity, enforcement, kinds: &[&str], why: &str| {
            RuleInfo {
                id: id.to_owned(),
                name: name.to_owned(),
                title: title.to_owned(),
                severity,
                default_enforcement: enforcement,
                enforcement,
                kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
                why: why.to_owned(),
                docs: format!("# {id} {name}\n\n{why}\n"),
                help_uri: Some(format!(
                    "https://github.com/warden-dev/warden/blob/main/docs/rules/{id}.md"
                )),
                aliases: Vec::new(),
                fixable: true,
            }
        };
    let mut public_acl = rule(
        "WD-AWS-001",
        "s3-bucket-public-acl",
        "S3 bucket grants public access through its ACL",
        Severity::Critical,
        Enforcement::Deny,
        &["aws_s3_bucket", "aws_s3_bucket_acl"],
        "A public ACL exposes every object in the bucket to anyone on the internet.",
    );
    public_acl.aliases = vec!["CKV_AWS_20".to_owned(), "AVD-AWS-0092".to_owned()];
    vec![
        public_acl,
        rule(
            "WD-AWS-002",
            "ec2-imdsv1-enabled",
            "EC2 instance allows IMDSv1",
            Severity::High,
            Enforcement::RequireApproval,
            &["aws_instance", "aws_launch_template"],
            "IMDSv1 answers any request from the instance, so an SSRF bug leaks the instance role's credentials.",
        ),
        rule(
            "WD-AWS-003",
            "s3-bucket-versioning-disabled",
            "S3 bucket has versioning disabled",
            Severity::Medium,
            Enforcement::Warn,
            &["aws_s3_bucket"],
            "Without versioning, an overwrite or delete cannot be undone.",
        ),
        rule(
            "WD-AWS-004",
            "s3-bucket-access-logging-disabled",
            "S3 bucket has no access logging",
            Severity::Medium,
            Enforcement::Warn,
            &["aws_s3_bucket"],
            "Access logs are the only record of who read or changed an object.",
        ),
        rule(
            "WD-AWS-020",
            "ebs-volume-unencrypted",
            "EBS volume is not encrypted",
            Severity::High,
            Enforcement::Warn,
            &["aws_instance", "aws_ebs_volume"],
            "Unencrypted volumes and their snapshots can be read by anyone who obtains a copy.",
        ),
        rule(
            "WD-AWS-040",
            "ec2-public-ip",
            "EC2 instance has a public IP address",
            Severity::Medium,
            Enforcement::Warn,
            &["aws_instance"],
            "A public address puts the instance one security-group mistake away from the internet.",
        ),
    ]
}

/// The sample decision (already refreshed: sorted, counted).
pub(crate) fn decision() -> Decision {
    let mut public_acl = finding(
        "WD-AWS-001",
        "s3-bucket-public-acl",
        "S3 bucket grants public access through its ACL",
        Severity::Critical,
        Enforcement::Deny,
        BUCKET,
        Some("acl"),
        "Bucket `logs` grants `public-read` through its ACL.",
        "A public ACL exposes every object in the bucket to anyone on the internet.",
    );
    public_acl.fix = Some(Fix::set("Make the bucket ACL private.", "acl", "private"));
    public_acl.aliases = vec!["CKV_AWS_20".to_owned(), "AVD-AWS-0092".to_owned()];

    let mut imds = finding(
        "WD-AWS-002",
        "ec2-imdsv1-enabled",
        "EC2 instance allows IMDSv1",
        Severity::High,
        Enforcement::RequireApproval,
        INSTANCE,
        Some("metadata_options.0.http_tokens"),
        "Instance `web` allows IMDSv1: `metadata_options.http_tokens` is `optional`.",
        "IMDSv1 answers any request from the instance, so an SSRF bug leaks the instance role's credentials.",
    );
    imds.fix = Some(
        Fix::set(
            "Require IMDSv2 session tokens and keep them on the instance.",
            "metadata_options.0.http_tokens",
            "required",
        )
        .and_set("metadata_options.0.http_put_response_hop_limit", 1_i64),
    );
    imds.note = Some(
        "exception for `WD-AWS-002` on `aws_instance.*` expired on 2025-03-31 (reason was: IMDSv2 migration in Q1)"
            .to_owned(),
    );

    let mut logging = finding(
        "WD-AWS-004",
        "s3-bucket-access-logging-disabled",
        "S3 bucket has no access logging",
        Severity::Medium,
        Enforcement::Warn,
        BUCKET,
        None,
        "Bucket `logs` has no `aws_s3_bucket_logging` resource.",
        "Access logs are the only record of who read or changed an object.",
    );
    logging.fix = Some(Fix::snippet(
        "Send the bucket's access logs to the audit bucket.",
        "resource \"aws_s3_bucket_logging\" \"logs\" {\n  bucket        = aws_s3_bucket.logs.id\n  target_bucket = \"acme-audit-logs\"\n  target_prefix = \"s3/logs/\"\n}",
    ));

    let mut encryption = finding(
        "WD-AWS-020",
        "ebs-volume-unencrypted",
        "EBS volume is not encrypted",
        Severity::High,
        Enforcement::Warn,
        INSTANCE,
        Some("root_block_device.0.encrypted"),
        "Root volume encryption of `web` is known only after apply.",
        "Unencrypted volumes and their snapshots can be read by anyone who obtains a copy.",
    );
    encryption.unknown = true;

    let mut tags = finding(
        "ACME-TAGS-001",
        "missing-cost-center",
        "Resources carry a cost-center tag",
        Severity::Low,
        Enforcement::Advisory,
        INSTANCE,
        Some("tags.CostCenter"),
        "Tag `CostCenter` is missing; Name is web <prod|blue> & owner is \"ops\".\nFinance reports group by it.",
        "Untagged spend lands in the shared bucket | nobody owns it.",
    );
    tags.help_uri = None;

    let versioning = finding(
        "WD-AWS-003",
        "s3-bucket-versioning-disabled",
        "S3 bucket has versioning disabled",
        Severity::Medium,
        Enforcement::Warn,
        BUCKET,
        Some("versioning.0.enabled"),
        "Bucket `logs` has versioning disabled.",
        "Without versioning, an overwrite or delete cannot be undone.",
    );
    let public_ip = finding(
        "WD-AWS-040",
        "ec2-public-ip",
        "EC2 instance has a public IP address",
        Severity::Medium,
        Enforcement::Warn,
        INSTANCE,
        Some("associate_public_ip_address"),
        "Instance `web` gets a public IP address.",
        "A public address puts the instance one security-group mistake away from the internet.",
    );

    let inputs = vec![InputInfo {
        path: "plan.json".to_owned(),
        kind: InputKind::TerraformPlan,
        digest: crate::digest::sha256(b"sample plan"),
        format_version: Some("1.2".to_owned()),
        tool_version: Some("1.9.5".to_owned()),
    }];
    let input_digest = crate::digest::sha256_parts(inputs.iter().map(|i| i.digest.as_bytes()));
    let mut decision = Decision {
        schema_version: SCHEMA_VERSION,
        outcome: Outcome::Allow,
        summary: Summary {
            resources: 2,
            rules: 6,
            ..Summary::default()
        },
        findings: vec![tags, encryption, logging, imds, public_acl],
        waived: vec![
            WaivedFinding {
                finding: versioning,
                waiver: Waiver::Exception {
                    exception: Exception {
                        rule: "WD-AWS-003".to_owned(),
                        resource: "aws_s3_bucket.logs".to_owned(),
                        reason: "Log objects are write-once; versioning only adds cost.".to_owned(),
                        owner: Some("platform-team".to_owned()),
                        expires: date!(2026 - 12 - 31),
                    },
                },
            },
            WaivedFinding {
                finding: public_ip,
                waiver: Waiver::Tag {
                    value: "WD-AWS-040 behind the CDN allowlist".to_owned(),
                    reason: "behind the CDN allowlist".to_owned(),
                },
            },
        ],
        errors: vec![EngineError {
            engine: "rego".to_owned(),
            message: "policy/naming.rego:12: rego_type_error: undefined function `count_keys`"
                .to_owned(),
        }],
        inputs,
        input_digest,
        policy_revision: crate::digest::sha256(b"sample policy"),
        bundles: Vec::new(),
        evaluated_at: "2025-06-01T12:00:00Z".to_owned(),
        duration_ms: 12.5,
        tool: Tool {
            name: "warden".to_owned(),
            version: "0.1.0".to_owned(),
        },
        cost: Some(cost()),
        risk: Some(crate::risk::Risk::from_factors(vec![
            crate::risk::RiskFactor::new(
                "exposure",
                15,
                "network exposure changes: aws_s3_bucket_public_access_block.site",
            ),
            crate::risk::RiskFactor::new("cost", 5, "monthly cost delta +$146.61"),
        ])),
    };
    decision.refresh();
    decision
}

/// The instance grows from t3.micro to m5.large; the bucket has no usage figures.
fn cost() -> CostEstimate {
    let catalog = Catalog::embedded();
    let mut e = CostEstimate::empty(catalog, &Usage::default());
    e.resources.push(ResourceCost {
        address: INSTANCE.to_owned(),
        kind: "aws_instance".to_owned(),
        action: Action::Update,
        region: "us-east-1".to_owned(),
        region_source: RegionSource::Provider,
        before: 7.59,
        after: 70.08,
        delta: 62.49,
        components_before: vec![Component::new(
            "t3.micro instance (Linux, on-demand)",
            "hour",
            0.0104,
            730.0,
        )],
        components: vec![Component::new(
            "m5.large instance (Linux, on-demand)",
            "hour",
            0.096,
            730.0,
        )],
        notes: Vec::new(),
    });
    e.unpriced.push(Unpriced {
        address: BUCKET.to_owned(),
        kind: "aws_s3_bucket".to_owned(),
        action: Action::Update,
        reason: "usage-based: set `storage_gb` for it in the usage file".to_owned(),
        unknown: false,
        kind_priced: true,
    });
    e.refresh();
    e.limits.push(CostLimit::check(
        "cost.approval-above",
        LimitScope::Change,
        50.0,
        e.delta,
    ));
    e
}

/// A clean decision: no findings, no waivers, no errors.
pub(crate) fn clean() -> Decision {
    let mut d = decision();
    d.findings.clear();
    d.waived.clear();
    d.errors.clear();
    d.refresh();
    d
}
