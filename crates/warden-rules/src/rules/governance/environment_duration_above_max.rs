use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// The lifecycle checkpoint of a launch or an extension: the environment's duration
    /// (from launch to its end, an extension included) against the blueprint's
    /// `duration.max`. Longer needs a person's approval: the approval is bound to the exact
    /// request (environment and new end), so approving it lets that extension through and
    /// nothing else. The server makes this finding; `warden check` never does.
    ///
    /// ## Why it matters
    /// Temporary environments that quietly become permanent are where cloud spend and
    /// unpatched infrastructure accumulate. A maximum that can be passed only with an
    /// approval keeps long-lived ones deliberate.
    ///
    /// ## Example
    /// A blueprint with `duration: {max: 72h}`; an environment launched 70 hours ago
    /// extended by 8 hours:
    ///
    /// ```json
    /// {"outcome": "require_approval",
    ///  "findings": [{"rule_id": "WD-ENV-002",
    ///                "message": "environment 7 would last 78h, above blueprint sandbox's maximum 72h"}]}
    /// ```
    ///
    /// Use instead: an end within the maximum.
    ///
    /// ## Fix
    /// None: ask for less time, or have the extension approved.
    ///
    /// ## Parameters
    /// None: `duration.max` of the blueprint. See [docs/environments.md](../environments.md).
    ///
    /// ## References
    /// - [Quali Torque: environment duration](https://docs.qtorque.io/)
    pub(crate) static ENVIRONMENT_DURATION_ABOVE_MAX = RuleMeta {
        id: "WD-ENV-002",
        name: "environment-duration-above-max",
        title: "Environment duration above its blueprint's maximum",
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
