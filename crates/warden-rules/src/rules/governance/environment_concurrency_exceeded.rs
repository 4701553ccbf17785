use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// The lifecycle checkpoint of a launch: the environments already running (every state
    /// but terminated, denied and failed) against `max-per-user` (the requesting principal),
    /// `max-per-space` (the space's, `[spaces.<name>.environments]` or the account's) and
    /// `max-total` of `[environments]`, and `max-environments` of `[agents]` for an agent.
    /// Each limit reached is one finding naming the limit, the count and the environments.
    /// The server makes this finding; `warden check` never does.
    ///
    /// ## Why it matters
    /// Environments are cheap to launch and easy to forget; a limit per person and per team
    /// bounds the forgotten ones, and a limit per agent bounds what a runaway automation can
    /// create before a person notices.
    ///
    /// ## Example
    /// With `max-per-user = 2` and two environments running for `alice`:
    ///
    /// ```json
    /// {"outcome": "deny",
    ///  "findings": [{"rule_id": "WD-ENV-003",
    ///                "message": "alice has 2 environments running (3, 5); `max-per-user` is 2"}]}
    /// ```
    ///
    /// Use instead: terminate one first.
    ///
    /// ## Fix
    /// None: terminate an environment, or raise the limit in `warden.toml`.
    ///
    /// ## Parameters
    /// Set in `[environments]`, `[spaces.<name>.environments]` and `[agents]` of
    /// `warden.toml`, not under `[rules.WD-ENV-003]`. See
    /// [docs/environments.md](../environments.md).
    ///
    /// ## References
    /// - [Quali Torque: concurrency limits](https://docs.qtorque.io/)
    pub(crate) static ENVIRONMENT_CONCURRENCY_EXCEEDED = RuleMeta {
        id: "WD-ENV-003",
        name: "environment-concurrency-exceeded",
        title: "Too many environments running",
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
