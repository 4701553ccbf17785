use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Changes made outside the infrastructure code (drift) that break a policy the code kept.
    /// `warden drift` evaluates every drifted resource twice with the same policy set as
    /// `warden check` (built-in rules, Kyverno and Rego policies, exceptions): in the state
    /// the code last left it (Terraform's last-known state in a refresh-only plan's
    /// `resource_drift`; the desired Kubernetes manifest) and in its live state. A finding on
    /// the live state that the last-known state did not have is reported under this rule,
    /// naming the underlying rule and its message (`drift introduces WD-AWS-007: …`) and the
    /// attribute. Violations the last-known state already had are reported as pre-existing,
    /// not here; `warden check` finds those on the next plan.
    ///
    /// The rule never fires in `warden check`: its findings come from comparing the two
    /// evaluations. Configure it like any rule: `ignore` it, or set its enforcement under
    /// `[rules.WD-DRIFT-001]`. Its severity is high, or the underlying rule's when that is
    /// critical.
    ///
    /// ## Why it matters
    /// Policy checks at plan time only protect what goes through the plan. A security group
    /// opened to the internet from the console, a bucket made public by hand or a privileged
    /// container patched in with `kubectl edit` bypasses every gate and stays until someone
    /// looks. Drift that breaks policy is an incident, not housekeeping: it is exploitable
    /// now, and the next `terraform apply` may silently undo it or fail on it.
    ///
    /// ## Example
    /// A refresh-only plan (`terraform plan -refresh-only -out p && terraform show -json p`)
    /// whose `resource_drift` shows ingress opened by hand:
    ///
    /// ```json
    /// {"address": "aws_security_group.web", "type": "aws_security_group",
    ///  "change": {"actions": ["update"],
    ///   "before": {"ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"]}]},
    ///   "after":  {"ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}}
    /// ```
    ///
    /// Use instead: change the code and apply it through the gate, so the change is checked
    /// before it exists; drift that breaks nothing (a tag added by hand) is reported as drift
    /// without this finding.
    ///
    /// ```json
    /// {"address": "aws_security_group.web", "type": "aws_security_group",
    ///  "change": {"actions": ["update"],
    ///   "before": {"tags": {"team": "web"}},
    ///   "after":  {"tags": {"team": "web", "owner": "bob"}}}}
    /// ```
    ///
    /// ## Fix
    /// Revert: re-apply the code (`terraform apply`, `kubectl apply -f`), which puts back the
    /// last-known values; when every drifted attribute is a plain, non-sensitive value the
    /// finding carries that revert as a JSON Patch of the live state. Then find out who made
    /// the change and how (cloud audit logs), and close that path. Adopting the live value
    /// into the code instead would make `warden check` deny the change.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Terraform: refresh-only mode](https://developer.hashicorp.com/terraform/tutorials/state/refresh)
    /// - [Terraform JSON output: `resource_drift`](https://developer.hashicorp.com/terraform/internals/json-format#plan-representation)
    /// - [Kubernetes: `kubectl diff`](https://kubernetes.io/docs/reference/kubectl/generated/kubectl_diff/)
    /// - [Warden: `warden drift`](../drift.md)
    pub(crate) static DRIFT_INTRODUCES_VIOLATION = RuleMeta {
        id: "WD-DRIFT-001",
        name: "drift-introduces-violation",
        title: "A change made outside the code introduces a policy violation",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::Sometimes,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Derived,
    };
}
