use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// How many times an agent has tried the same change. An agent that gets a `deny` reads
    /// the findings, fixes what they name and submits again; each submission is an attempt
    /// at the same change (the same `subject` — given with the request, or derived from the
    /// set of resource addresses the change touches). Once `max-attempts` attempts in a row
    /// have been denied (or held for approval) within `attempt-window-hours`, the next
    /// attempt that would be denied is not: its deny findings are turned into
    /// require_approval findings, each noting the escalation, and this finding lists the
    /// attempt history — decision ids, digests, outcomes and the rules that blocked each.
    /// The request then waits for a person, bound to the digest of that exact change like
    /// any approval.
    ///
    /// Only agent principals (tokens of kind `agent`) are counted; an allowed or warned
    /// decision ends the series. The server makes this finding (the built-in engine does
    /// not run it); `warden check` never does.
    ///
    /// ## Why it matters
    /// An agent that cannot satisfy a policy keeps trying variations: it may loop for hours,
    /// or find the one variation that passes the letter of the rules and not their intent.
    /// After a few failed attempts a person should look at what it is trying to do — the
    /// self-correcting loop with a human at its end — instead of the agent grinding on.
    ///
    /// ## Example
    /// With `[agents] max-attempts = 3`, an agent's fourth submission of a plan that still
    /// opens a database port to the internet, after three denied attempts:
    ///
    /// ```json
    /// {"outcome": "require_approval",
    ///  "findings": [{"rule_id": "WD-AGENT-001",
    ///                "message": "attempt 4 at this change by claude-infra; the last 3 were denied: …"}]}
    /// ```
    ///
    /// Use instead: a change that passes the policy, or a governed exception requested with
    /// a justification (`POST /v1/exceptions`) before the attempts run out.
    ///
    /// ## Fix
    /// None for the agent: a person approves or rejects the request (`warden approvals`),
    /// and the attempt history in this finding tells them what the agent tried.
    ///
    /// ## Parameters
    /// Set in `[agents]` of `warden.toml`, not under `[rules.WD-AGENT-001]`:
    /// - `max-attempts`: denied attempts in a row before the next escalates (default 3; 0
    ///   never escalates).
    /// - `attempt-window-hours`: attempts older than this do not count (default 24).
    ///
    /// See [docs/agents.md](../agents.md).
    ///
    /// ## References
    /// - [Model Context Protocol: tools and human oversight](https://modelcontextprotocol.io/specification)
    /// - [OWASP Top 10 for LLM Applications: excessive agency](https://genai.owasp.org/)
    pub(crate) static AGENT_ATTEMPTS_EXHAUSTED = RuleMeta {
        id: "WD-AGENT-001",
        name: "agent-attempts-exhausted",
        title: "An agent's repeated attempts at a change need a person",
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
