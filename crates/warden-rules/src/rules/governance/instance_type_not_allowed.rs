use super::instance_types::{self, Denial};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Instance types outside your organisation's allow-list, or matching its deny-list:
    /// `instance_type` of `aws_instance`, `aws_launch_template` and
    /// `aws_launch_configuration`; `instance_class` of `aws_db_instance` and
    /// `aws_rds_cluster_instance`; every element of `aws_eks_node_group.instance_types`;
    /// `node_type` of `aws_elasticache_cluster` and `aws_elasticache_replication_group`;
    /// `machine_type` of `google_compute_instance` and `google_compute_instance_template`;
    /// `size` of `azurerm_linux_virtual_machine` and `azurerm_windows_virtual_machine`, and
    /// `vm_size` of `azurerm_virtual_machine`.
    ///
    /// Patterns are globs (`*` any run of characters, `?` one character) matched without
    /// regard to case, so `standard_d*` matches `Standard_D2s_v3`. A type matching a
    /// `forbidden` pattern is reported even when `allowed` also matches it. With both lists
    /// empty (the default) the rule is inactive and reports nothing.
    ///
    /// An instance or node group whose type comes from a launch template is checked on the
    /// `aws_launch_template`; a type known only after apply is reported as unknown.
    ///
    /// ## Why it matters
    /// Instance types decide most of a compute bill and which hardware (GPUs, bare metal,
    /// previous generations) a team can run on. An allow-list keeps environments on the sizes
    /// the organisation has budgeted, reserved or approved, and a deny-list keeps out types
    /// that are retired, unsupported by your images, or simply too expensive to launch by
    /// mistake.
    ///
    /// ## Example
    /// ```yaml
    /// params: { allowed: ["t3.*", "m6i.large"], forbidden: ["*.metal"] }
    /// resources:
    ///   aws_instance.web: { action: create, after: { ami: ami-123, instance_type: m5.24xlarge } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { allowed: ["t3.*", "m6i.large"], forbidden: ["*.metal"] }
    /// resources:
    ///   aws_instance.web: { action: create, after: { ami: ami-123, instance_type: m6i.large } }
    /// ```
    ///
    /// ## Fix
    /// When `allowed` contains an exact (non-glob) type of the same family (EC2, RDS `db.*`,
    /// ElastiCache `cache.*`, Compute Engine, Azure `Standard_*`), sets the attribute to the
    /// first such type; for a node group's `instance_types`, removes the rejected types (or
    /// replaces them with that type when none would remain). Review the size: the fix picks
    /// the first allowed type, not the closest one. Changing an instance type usually stops or
    /// replaces the instance.
    ///
    /// ## Parameters
    /// - `allowed`: globs of the allowed types; empty means no allow-list.
    /// - `forbidden`: globs of types that are never allowed.
    ///
    /// Both empty (the default): the rule is inactive.
    ///
    /// ```toml
    /// [rules.WD-GOV-002]
    /// allowed = ["t3.*", "m6i.*", "db.t4g.*", "e2-*", "standard_b*"]
    /// forbidden = ["*.metal*"]
    /// ```
    ///
    /// ## References
    /// - [Amazon EC2 instance types](https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-types.html)
    /// - [Torque AWS Prohibited Instance Types policy](https://github.com/QualiNext/opa)
    /// - [Spacelift enforce-instance-type-list policy](https://github.com/spacelift-io/spacelift-policies-example-library/blob/main/plan/enforce-instance-type-list.rego)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static INSTANCE_TYPE_NOT_ALLOWED = RuleMeta {
        id: "WD-GOV-002",
        name: "instance-type-not-allowed",
        title: "Instance type is not in the allowed list or is forbidden",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: instance_types::KINDS,
        fix: FixAvailability::Sometimes,
        params: &[
            Param {
                name: "allowed",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "Globs of allowed instance types (case-insensitive); empty means no allow-list",
            },
            Param {
                name: "forbidden",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "Globs of instance types that are never allowed (case-insensitive)",
            },
        ],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let allowed = cx.param_strs("allowed");
    let forbidden = cx.param_strs("forbidden");
    if allowed.is_empty() && forbidden.is_empty() {
        return;
    }
    let Some((site, values)) = instance_types::declared(resource, out) else {
        return;
    };
    let rejected: Vec<(&str, Denial<'_>)> = values
        .iter()
        .filter_map(|v| instance_types::denial(v, &allowed, &forbidden).map(|d| (*v, d)))
        .collect();
    if rejected.is_empty() {
        return;
    }
    let reasons: Vec<String> = rejected
        .iter()
        .map(|(v, denial)| match denial {
            Denial::Forbidden(p) => format!("`{v}`, which matches the forbidden pattern `{p}`"),
            Denial::NotAllowed => format!(
                "`{v}`, which is not in the allowed types ({})",
                helpers::code_list(&allowed, ", ")
            ),
        })
        .collect();
    let attribute = site.attribute;
    let message = format!("`{attribute}` {} {}", site.verb(), reasons.join("; "));
    let fallback = instance_types::replacement(site, &allowed, &forbidden);
    let fix = if site.list {
        let mut kept: Vec<&str> = values
            .iter()
            .copied()
            .filter(|v| !rejected.iter().any(|(r, _)| r == v))
            .collect();
        if kept.is_empty() {
            kept.extend(fallback);
        }
        (!kept.is_empty()).then(|| {
            Fix::set(
                format!(
                    "keep only allowed types in `{attribute}`: {}",
                    helpers::code_list(&kept, ", ")
                ),
                attribute,
                Value::from(kept.iter().map(|v| Value::from(*v)).collect::<Vec<_>>()),
            )
        })
    } else {
        fallback.map(|t| {
            Fix::set(
                format!("set `{attribute}` to `{t}`, the first allowed type"),
                attribute,
                t,
            )
        })
    };
    let pending = out.violation(resource, message).at(attribute);
    if let Some(fix) = fix {
        pending.fix(fix);
    }
}
