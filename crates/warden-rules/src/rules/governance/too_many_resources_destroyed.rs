use warden_core::Mode;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Plans that destroy more than `max` managed resources, counting deletes and
    /// replacements (a replacement destroys the existing object too). The finding is reported
    /// once, on the plan itself (its address is the plan file's path, its kind
    /// `terraform_plan`), with the counts and the first few addresses.
    ///
    /// ## Why it matters
    /// A large destroy is rarely what a change meant to do: a renamed module, a moved
    /// `for_each` key, a wrong workspace or a provider upgrade can turn a one-line edit into
    /// the deletion of an environment. Requiring a person to look before such a plan is
    /// applied limits the blast radius of mistakes, human or automated.
    ///
    /// ## Example
    /// ```yaml
    /// params: { max: 1 }
    /// resources:
    ///   aws_instance.a: { action: delete, before: { instance_type: t3.micro } }
    ///   aws_instance.b: { action: replace, after: { instance_type: t3.micro } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { max: 1 }
    /// resources:
    ///   aws_instance.a: { action: delete, before: { instance_type: t3.micro } }
    ///   aws_instance.b: { action: update, after: { instance_type: t3.small } }
    /// ```
    ///
    /// ## Fix
    /// None. Check that the destroys are intended: use `moved` blocks for renames and
    /// refactors, split the change into smaller plans, or get it approved.
    ///
    /// ## Parameters
    /// - `max`: the largest number of deletes plus replacements allowed without approval
    ///   (default 10).
    ///
    /// ## References
    /// - [Spacelift check-blast-radius policy](https://github.com/spacelift-io/spacelift-policies-example-library/blob/main/plan/check-blast-radius.rego)
    /// - [Terraform: Refactoring with `moved` blocks](https://developer.hashicorp.com/terraform/language/modules/develop/refactoring)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static TOO_MANY_RESOURCES_DESTROYED = RuleMeta {
        id: "WD-GOV-006",
        name: "too-many-resources-destroyed",
        title: "Plan destroys more resources than allowed without approval",
        severity: Severity::High,
        enforcement: Enforcement::RequireApproval,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[Param {
            name: "max",
            kind: ParamKind::Integer,
            default: "10",
            doc: "Largest number of deletes plus replacements allowed without approval",
        }],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::ChangeSet(check),
    };
}

/// How many addresses the message names.
const SHOWN: usize = 5;

fn check(changes: &ChangeSet, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let max = usize::try_from(cx.param_i64("max").unwrap_or(10)).unwrap_or(0);
    let destroyed: Vec<&Resource> = changes
        .resources
        .iter()
        .filter(|r| r.mode == Mode::Managed && r.action.destroys())
        .collect();
    if destroyed.len() <= max {
        return;
    }
    let deletes = destroyed
        .iter()
        .filter(|r| r.action == Action::Delete)
        .count();
    let replaces = destroyed.len() - deletes;
    let mut addresses: Vec<&str> = destroyed.iter().map(|r| r.address.as_str()).collect();
    addresses.sort_unstable();
    addresses.dedup();
    let mut named = helpers::code_list(addresses.iter().take(SHOWN), ", ");
    if addresses.len() > SHOWN {
        named.push_str(&format!(" and {} more", addresses.len() - SHOWN));
    }
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut plan = Resource::new(changes.input.path.clone(), "terraform_plan", Action::NoOp);
    plan.name = changes.input.path.clone();
    plan.provider = "terraform".to_owned();
    plan.provider_source = "terraform".to_owned();
    plan.source.file = Some(changes.input.path.clone());
    out.violation(
        &plan,
        format!(
            "this plan destroys {} ({}, {}), more than the {max} allowed without approval: {named}",
            plural(destroyed.len(), "resource", "resources"),
            plural(deletes, "delete", "deletes"),
            plural(replaces, "replacement", "replacements"),
        ),
    );
}
