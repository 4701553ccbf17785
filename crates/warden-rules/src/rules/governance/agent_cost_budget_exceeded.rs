use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// An agent principal's monthly cost budget: the monthly cost deltas of the agent's
    /// allowed (and warned) changes this calendar month (UTC), plus the delta of this
    /// change, against `monthly-cost` of `[agents]` — or of `[agents.principals.<name>]`.
    /// Above the budget the change is denied, naming the budget, what the agent has
    /// committed this month, this change's delta and the headroom left. Changes that lower
    /// the cost are never denied by it. The delta is the decision's cost estimate (see
    /// WD-COST-001 and `warden cost`). The server makes this finding (the built-in engine
    /// does not run it); `warden check` never does.
    ///
    /// ## Why it matters
    /// Each change an agent makes may be cheap; thirty of them in a month may not be. A
    /// per-change threshold (WD-COST-001) does not see the sum. A monthly budget per agent
    /// bounds what one automated actor can commit the organisation to before a person
    /// decides it should have more.
    ///
    /// ## Example
    /// With `[agents] monthly-cost = 500.0`, an agent that has committed $450.00 a month of
    /// changes this month submits one adding $120.00 a month:
    ///
    /// ```json
    /// {"outcome": "deny",
    ///  "findings": [{"rule_id": "WD-AGENT-003",
    ///                "message": "agent claude-infra's monthly cost budget `monthly-cost` is $500.00: committed this month $450.00, this change +$120.00, over by $70.00"}]}
    /// ```
    ///
    /// Use instead: a change within the $50.00 headroom, or a larger budget for the agent.
    ///
    /// ## Fix
    /// None: choose cheaper resources, have a person make the change, or raise the agent's
    /// budget in `warden.toml`.
    ///
    /// ## Parameters
    /// Set in `[agents]` (or `[agents.principals.<name>]`) of `warden.toml`, not under
    /// `[rules.WD-AGENT-003]`:
    /// - `monthly-cost`: USD a month (unset: no budget).
    ///
    /// See [docs/agents.md](../agents.md) and [docs/cost.md](../cost.md).
    ///
    /// ## References
    /// - [FinOps Foundation: budgeting](https://www.finops.org/)
    pub(crate) static AGENT_COST_BUDGET_EXCEEDED = RuleMeta {
        id: "WD-AGENT-003",
        name: "agent-cost-budget-exceeded",
        title: "Agent exceeded its monthly cost budget",
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
