use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// A launch request against its blueprint (the consumption checkpoint): the blueprint
    /// must allow the space (`spaces` in the blueprint file), every input must be one the
    /// blueprint declares, of its type, and one of its `allowed` values when it lists them,
    /// and every required input (one without a default) must be given. Each problem is one
    /// finding naming the input or the space. The server makes this finding when an
    /// environment is launched (`POST /v1/environments`); `warden check` never does.
    ///
    /// ## Why it matters
    /// A blueprint is the catalog's promise of what can be launched where: a sandbox
    /// blueprint in a production space, or an instance size the blueprint never offered,
    /// escapes the review the blueprint had when it was published.
    ///
    /// ## Example
    /// A blueprint allowing spaces `[dev]` and `instance_type` in `[t3.micro, t3.small]`,
    /// launched in `prod` with `instance_type=m5.24xlarge`:
    ///
    /// ```json
    /// {"outcome": "deny",
    ///  "findings": [{"rule_id": "WD-ENV-001",
    ///                "message": "blueprint sandbox does not allow space `prod` (allowed: dev)"},
    ///               {"rule_id": "WD-ENV-001",
    ///                "message": "input `instance_type` = `m5.24xlarge` is not one of the blueprint's allowed values: t3.micro, t3.small"}]}
    /// ```
    ///
    /// Use instead: a space and input values the blueprint lists.
    ///
    /// ## Fix
    /// None: choose an allowed value, or publish a new version of the blueprint.
    ///
    /// ## Parameters
    /// None: the blueprint file says what is allowed. See
    /// [docs/environments.md](../environments.md).
    ///
    /// ## References
    /// - [Quali Torque: blueprints](https://docs.qtorque.io/)
    pub(crate) static ENVIRONMENT_REQUEST_NOT_ALLOWED = RuleMeta {
        id: "WD-ENV-001",
        name: "environment-request-not-allowed",
        title: "Environment request not allowed by its blueprint",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Derived,
    };
}
