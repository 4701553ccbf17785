use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// A space's monthly budget for environments (`budget-monthly` of
    /// `[spaces.<name>.environments]`): the monthly cost of the environments the space has
    /// running plus the new one's. Over the budget the launch is denied; the finding names
    /// the budget, the amount committed, this environment's cost and the headroom left. The
    /// server makes this finding; `warden check` never does.
    ///
    /// ## Why it matters
    /// A per-environment cap does not see the sum: ten small environments cost as much as a
    /// large one. A budget per team keeps the total where the team agreed it would be.
    ///
    /// ## Example
    /// With `budget-monthly = 600.0` and $450.00 a month running in `dev`, a launch costing
    /// $200.00 a month:
    ///
    /// ```json
    /// {"outcome": "deny",
    ///  "findings": [{"rule_id": "WD-ENV-005",
    ///                "message": "space dev's environment budget `budget-monthly` is $600.00: running $450.00, this environment +$200.00, over by $50.00 (headroom $150.00)"}]}
    /// ```
    ///
    /// Use instead: an environment within the $150.00 headroom, or terminate one first.
    ///
    /// ## Fix
    /// None: terminate environments, choose smaller inputs, or raise the budget.
    ///
    /// ## Parameters
    /// `budget-monthly` of `[spaces.<name>.environments]`. See
    /// [docs/environments.md](../environments.md).
    ///
    /// ## References
    /// - [FinOps Foundation: budgeting](https://www.finops.org/)
    pub(crate) static ENVIRONMENT_SPACE_BUDGET_EXCEEDED = RuleMeta {
        id: "WD-ENV-005",
        name: "environment-space-budget-exceeded",
        title: "Space's monthly environment budget exceeded",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Derived,
    };
}
