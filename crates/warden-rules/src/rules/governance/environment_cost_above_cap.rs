use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// The monthly cost of one environment against `max-monthly-cost` of `[environments]`
    /// (or the space's lower one). The cost is the estimate of the runner's plan
    /// (`warden_core::cost`, as `warden cost` prices it) or, when the plan prices nothing,
    /// the blueprint's `cost.monthly`. The finding names the cap, the amount and the
    /// headroom. The server makes this finding; `warden check` never does.
    ///
    /// ## Why it matters
    /// A sandbox that costs as much as production is a mistake more often than a need; a cap
    /// per environment catches the wrong instance size before it runs for a month.
    ///
    /// ## Example
    /// With `max-monthly-cost = 200.0`, a plan estimated at $561.60 a month:
    ///
    /// ```json
    /// {"outcome": "deny",
    ///  "findings": [{"rule_id": "WD-ENV-004",
    ///                "message": "environment cost $561.60/month is above the per-environment cap `max-monthly-cost` $200.00 (over by $361.60)"}]}
    /// ```
    ///
    /// Use instead: smaller inputs.
    ///
    /// ## Fix
    /// None: choose smaller inputs, or raise the cap.
    ///
    /// ## Parameters
    /// `max-monthly-cost` of `[environments]` or `[spaces.<name>.environments]`. See
    /// [docs/environments.md](../environments.md).
    ///
    /// ## References
    /// - [FinOps Foundation: budgeting](https://www.finops.org/)
    pub(crate) static ENVIRONMENT_COST_ABOVE_CAP = RuleMeta {
        id: "WD-ENV-004",
        name: "environment-cost-above-cap",
        title: "Environment cost above the per-environment cap",
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
