use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// The risk score every decision carries — 0 to 100, the sum of named factors: blast
    /// radius (resources destroyed or replaced), stateful resources destroyed or replaced,
    /// IAM and network exposure changes, the monthly cost delta, findings on values known
    /// only after apply, a production space, an AI agent proposing, the agent's recent
    /// denials, a change outside the change window — against the thresholds of `[risk]` in
    /// `warden.toml`. At or above `approval-at` the change needs approval; at or above
    /// `deny-at` it is denied. The finding names the score, the threshold and every factor
    /// with its points. The rule never fires without a threshold; the decision's risk step
    /// makes the finding (the built-in engine does not run it). See
    /// [docs/risk.md](../risk.md) for the points of each factor.
    ///
    /// ## Why it matters
    /// No single rule sees that a change is an agent's, made on a Saturday night, in
    /// production, replacing a database and opening a security group — each finding alone
    /// may be a warning. The score adds what each finding leaves out, so the changes that
    /// combine many risks get a person's eyes even when no one rule blocks them.
    ///
    /// ## Example
    /// With `[risk] approval-at = 50`, an agent's change in space `prod` that replaces an
    /// `aws_db_instance` scores agent 10 + production 15 + blast radius 6 + stateful 15 +
    /// exposure 10 (it also edits a security group) = 56, and needs approval:
    ///
    /// ```json
    /// {"risk": {"score": 56, "level": "high", "factors": [
    ///   {"factor": "stateful", "points": 15, "detail": "data-holding resources destroyed or replaced: aws_db_instance.main"}]}}
    /// ```
    ///
    /// Use instead: split the change — the database replacement on its own, reviewed — or
    /// make it inside the change window, by a person.
    ///
    /// ## Fix
    /// None: the score explains itself factor by factor; lower it by changing less at once,
    /// or get the change approved.
    ///
    /// ## Parameters
    /// Set in `[risk]` of `warden.toml`, not under `[rules.WD-RISK-001]`:
    /// - `approval-at`: a score at or above this needs approval.
    /// - `deny-at`: a score at or above this is denied.
    /// - `production-spaces`: globs of the spaces that add the `production` factor
    ///   (default `["prod*", "production*"]`).
    /// - `change-window`: days and UTC hours in which changes are expected
    ///   (`"Mon-Fri 08:00-18:00"`).
    ///
    /// ## References
    /// - [NIST SP 800-128: security-focused configuration management](https://csrc.nist.gov/pubs/sp/800/128/upd1/final)
    /// - [Google SRE: managing change risk](https://sre.google/sre-book/release-engineering/)
    pub(crate) static RISK_SCORE_ABOVE_THRESHOLD = RuleMeta {
        id: "WD-RISK-001",
        name: "risk-score-above-threshold",
        title: "Change's risk score is at or above a configured threshold",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Derived,
    };
}
