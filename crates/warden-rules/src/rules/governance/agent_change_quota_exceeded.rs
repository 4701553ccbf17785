use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// The number of changes an agent principal submitted for evaluation in the last hour
    /// (a rolling hour, every space, every outcome), against `changes-per-hour` of
    /// `[agents]` — or of `[agents.principals.<name>]` when the agent has its own quotas.
    /// At or above the quota the change is denied, naming the quota, the count and when the
    /// oldest counted change leaves the window. The server makes this finding (the built-in
    /// engine does not run it); `warden check` never does.
    ///
    /// ## Why it matters
    /// A runaway agent — a loop, a prompt injection, a misread goal — can submit hundreds of
    /// changes an hour, each one a potential apply, a flood of approval requests for the
    /// people behind it and a bill. A per-agent quota caps the damage one agent can do
    /// before someone notices, without touching people or pipelines.
    ///
    /// ## Example
    /// With `[agents] changes-per-hour = 60`, an agent's 61st evaluation within an hour:
    ///
    /// ```json
    /// {"outcome": "deny",
    ///  "findings": [{"rule_id": "WD-AGENT-002",
    ///                "message": "agent claude-infra submitted 60 changes in the last hour; its quota `changes-per-hour` is 60 …"}]}
    /// ```
    ///
    /// Use instead: fewer, larger changes, or a higher quota for that agent in
    /// `[agents.principals.<name>]` if the rate is intended.
    ///
    /// ## Fix
    /// None: wait until the window frees a slot (the message says when), or raise the
    /// agent's quota in `warden.toml`.
    ///
    /// ## Parameters
    /// Set in `[agents]` (or `[agents.principals.<name>]`) of `warden.toml`, not under
    /// `[rules.WD-AGENT-002]`:
    /// - `changes-per-hour`: evaluations per agent in a rolling hour (unset: no quota).
    ///
    /// See [docs/agents.md](../agents.md).
    ///
    /// ## References
    /// - [OWASP Top 10 for LLM Applications: unbounded consumption](https://genai.owasp.org/)
    pub(crate) static AGENT_CHANGE_QUOTA_EXCEEDED = RuleMeta {
        id: "WD-AGENT-002",
        name: "agent-change-quota-exceeded",
        title: "Agent exceeded its changes-per-hour quota",
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
