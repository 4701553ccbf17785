use super::instance_types;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Very large or expensive instance types that a person should approve before they are
    /// launched: bare metal, 24xlarge and bigger, GPU and accelerator families, high-memory
    /// families. It reads the same attributes as WD-GOV-002 (`instance-type-not-allowed`):
    /// `instance_type` of `aws_instance`, `aws_launch_template` and
    /// `aws_launch_configuration`; `instance_class` of `aws_db_instance` and
    /// `aws_rds_cluster_instance`; `aws_eks_node_group.instance_types`; `node_type` of
    /// `aws_elasticache_cluster` and `aws_elasticache_replication_group`; `machine_type` of
    /// `google_compute_instance` and `google_compute_instance_template`; `size` of
    /// `azurerm_linux_virtual_machine` and `azurerm_windows_virtual_machine`, and `vm_size` of
    /// `azurerm_virtual_machine`.
    ///
    /// Patterns are globs matched without regard to case. A type that WD-GOV-002 denies is not
    /// reported here too (the deny wins): give this rule the same `allowed` and `forbidden`
    /// lists as WD-GOV-002. An empty `patterns` list makes the rule inactive.
    ///
    /// ## Why it matters
    /// One `p5.48xlarge` costs more per month than most teams' whole development account, and
    /// bare-metal or high-memory hosts are rarely what a change meant to launch. These types
    /// are sometimes right, so the change is not denied, but someone who owns the budget
    /// should say yes first.
    ///
    /// ## Example
    /// ```yaml
    /// aws_instance.train: { action: create, after: { ami: ami-123, instance_type: p4d.24xlarge } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_instance.train: { action: create, after: { ami: ami-123, instance_type: g5.xlarge } }
    /// ```
    ///
    /// ## Fix
    /// None: pick a smaller type if the size was a mistake; otherwise get the change approved,
    /// or add an exception for the resource.
    ///
    /// ## Parameters
    /// - `patterns`: globs of the types that need approval. The default covers bare metal
    ///   (`*.metal*`), 24xlarge and larger, AWS GPU/accelerator and high-memory families
    ///   (`p3*`, `p4*`, `p5*`, `p6*`, `trn*`, `x1*`, `x2*`, `u-*`, `u7*`, `db.x1*`, `db.x2*`),
    ///   Compute Engine accelerator and memory-optimised families (`a2-*`, `a3-*`, `m1-*`,
    ///   `m2-*`, `m3-*`, `*-megamem-*`, `*-ultramem-*`) and Azure GPU, HPC and M-series sizes
    ///   (`standard_n*`, `standard_h*`, `standard_m*`).
    /// - `allowed`, `forbidden`: the same lists as WD-GOV-002's; types they reject are left to
    ///   WD-GOV-002 so one type never gets both a deny and an approval finding. Unless set here,
    ///   both are taken from WD-GOV-002's configuration, so they are set once.
    ///
    /// ## References
    /// - [Amazon EC2 instance types](https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-types.html)
    /// - [Compute Engine machine families](https://cloud.google.com/compute/docs/machine-resource)
    /// - [Azure VM sizes](https://learn.microsoft.com/en-us/azure/virtual-machines/sizes/overview)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static INSTANCE_TYPE_REQUIRES_APPROVAL = RuleMeta {
        id: "WD-GOV-009",
        name: "instance-type-requires-approval",
        title: "Very large or expensive instance type needs approval",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: instance_types::KINDS,
        fix: FixAvailability::None,
        params: &[
            Param {
                name: "patterns",
                kind: ParamKind::StringList,
                default: r#"["*.metal*", "*.24xlarge", "*.32xlarge", "*.48xlarge", "*.96xlarge", "*.112xlarge",
                    "*.224xlarge", "p3*", "p4*", "p5*", "p6*", "trn*", "x1*", "x2*", "u-*", "u7*", "db.x1*", "db.x2*",
                    "a2-*", "a3-*", "m1-*", "m2-*", "m3-*", "*-megamem-*", "*-ultramem-*",
                    "standard_n*", "standard_h*", "standard_m*"]"#,
                doc: "Globs of instance types that need approval (case-insensitive)",
            },
            Param {
                name: "allowed",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "types WD-GOV-002 rejects are reported there, not here; defaults to WD-GOV-002's `allowed` setting",
            },
            Param {
                name: "forbidden",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "types WD-GOV-002 rejects are reported there, not here; defaults to WD-GOV-002's `forbidden` setting",
            },
        ],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let patterns = cx.param_strs("patterns");
    if patterns.is_empty() {
        return;
    }
    let Some((site, values)) = instance_types::declared(resource, out) else {
        return;
    };
    let allowed = cx.param_strs("allowed");
    let forbidden = cx.param_strs("forbidden");
    let large: Vec<String> = values
        .iter()
        .filter(|v| instance_types::denial(v, &allowed, &forbidden).is_none())
        .filter_map(|v| {
            patterns
                .iter()
                .find(|p| instance_types::matches(p, v))
                .map(|p| format!("`{v}` (matches `{p}`)"))
        })
        .collect();
    if large.is_empty() {
        return;
    }
    let attribute = site.attribute;
    let verb = site.verb();
    let _ = out
        .violation(
            resource,
            format!(
                "`{attribute}` {verb} {}, a very large or expensive type that needs approval",
                large.join(", ")
            ),
        )
        .at(attribute);
}
