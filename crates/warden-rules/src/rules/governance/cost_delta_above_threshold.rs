use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// The monthly cost delta of a change — the estimate every decision carries (`cost` in
    /// the JSON, the `Cost:` line of the text report; `warden cost` shows it resource by
    /// resource) — against the thresholds of `[cost]` in `warden.toml`. Above
    /// `approval-above` the change needs approval; above `deny-above` it is denied. The
    /// finding is reported once, on the plan (its address is the first input's path, its kind
    /// `terraform_plan`), naming the threshold, the amount, the headroom, and how many
    /// resources could not be priced.
    ///
    /// The delta counts every input of the decision together, priced from the embedded
    /// catalog with the user's catalog and usage file merged over it. Resources the catalog
    /// cannot price are not counted; when some of them could not be priced only because a
    /// value is known only after apply, and the priced delta stays under the thresholds, the
    /// finding is an unknown one (enforced as `[unknown]` says), not a pass.
    ///
    /// The rule never fires without a threshold, and the built-in engine does not run it:
    /// the decision's cost step does (`warden_policy::cost`). Configure it like any rule:
    /// `ignore` it, add exceptions for it, or set `[rules.WD-COST-001] enforcement` for the
    /// `approval-above` findings (findings above `deny-above` always deny). A space
    /// (`[spaces.<name>.cost]`) may set lower thresholds, never higher ones.
    ///
    /// ## Why it matters
    /// A one-line change can cost thousands a month: an instance type bumped from `large`
    /// to `24xlarge`, a NAT gateway per subnet, a Multi-AZ flag on a big database. Cost is
    /// seen on the invoice, weeks after the apply; a threshold puts a person in front of an
    /// expensive change while it is still a plan, and stops the changes no one should make
    /// without a budget discussion — whoever proposes them, person, pipeline or agent.
    ///
    /// ## Example
    /// With `[cost] approval-above = 500.0` and `deny-above = 2000.0`, a plan that creates
    /// four `m5.4xlarge` instances adds 4 × 730 h × $0.768 = $2,242.56 a month (plus their
    /// root volumes) and is denied:
    ///
    /// ```json
    /// {"address": "aws_instance.worker[0]", "type": "aws_instance",
    ///  "change": {"actions": ["create"], "before": null,
    ///             "after": {"instance_type": "m5.4xlarge"}}}
    /// ```
    ///
    /// Use instead: the size the workload needs, or a change reviewed and approved for its
    /// cost (four `m5.large` add $283.52 a month, under both thresholds).
    ///
    /// ```json
    /// {"address": "aws_instance.worker[0]", "type": "aws_instance",
    ///  "change": {"actions": ["create"], "before": null,
    ///             "after": {"instance_type": "m5.large"}}}
    /// ```
    ///
    /// ## Fix
    /// None: choose smaller or fewer resources, split the change, or get it approved.
    /// `warden cost plan.json` shows where the money goes, resource by resource; a usage
    /// file (`[cost] usage`) prices what the plan cannot say (GB stored, GB processed), and
    /// a catalog file (`[cost] catalog`) your negotiated prices.
    ///
    /// ## Parameters
    /// Set in `[cost]` of `warden.toml`, not under `[rules.WD-COST-001]`:
    /// - `approval-above`: monthly delta in USD above which the change needs approval.
    /// - `deny-above`: monthly delta in USD above which the change is denied.
    /// - `catalog`, `usage`: a price catalog merged over the embedded one, and a usage file.
    ///
    /// See [docs/cost.md](../cost.md).
    ///
    /// ## References
    /// - [AWS EC2 on-demand pricing](https://aws.amazon.com/ec2/pricing/on-demand/)
    /// - [Infracost: cost policies](https://www.infracost.io/docs/features/cost_policies/)
    /// - [FinOps Foundation: shift-left cost estimation](https://www.finops.org/)
    pub(crate) static COST_DELTA_ABOVE_THRESHOLD = RuleMeta {
        id: "WD-COST-001",
        name: "cost-delta-above-threshold",
        title: "Change raises the monthly cost above a configured threshold",
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
