//! The consumption and lifecycle checkpoints: who may launch what, where, for how long, how
//! many, at what cost. Findings of the derived rules WD-ENV-001..005, added to the decision
//! of the request (see [`Checkpoint`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use warden_core::cost::money::usd;
use warden_core::{Decision, Enforcement, Finding};
use warden_policy::environments::{format_duration, EnvironmentSettings, SpaceEnvironments};
use warden_store::Environment;

use super::blueprint::{coerce, type_fits, BlueprintSpec};

/// A finding of one of the WD-ENV rules about `resource` (`environment/<id>`, or the
/// blueprint for a launch).
#[must_use]
pub fn finding(
    rule_id: &str,
    enforcement: Enforcement,
    resource: &str,
    message: String,
) -> Finding {
    warden_rules::derived_finding(
        rule_id,
        resource.to_owned(),
        "environment",
        enforcement,
        message,
    )
}

/// The inputs of a launch resolved against the blueprint: defaults filled in, text read as
/// the declared type; WD-ENV-001 findings for unknown, ill-typed, disallowed or missing ones.
#[must_use]
pub fn resolve_inputs(
    spec: &BlueprintSpec,
    given: &serde_json::Map<String, Value>,
    resource: &str,
) -> (serde_json::Map<String, Value>, Vec<Finding>) {
    let mut out = serde_json::Map::new();
    let mut findings = Vec::new();
    let mut deny = |m: String| findings.push(finding("WD-ENV-001", Enforcement::Deny, resource, m));
    for name in given.keys().filter(|k| !spec.inputs.contains_key(*k)) {
        let declared: Vec<&str> = spec.inputs.keys().map(String::as_str).collect();
        deny(format!(
            "input `{name}` is not declared by blueprint {} (inputs: {})",
            spec.name,
            if declared.is_empty() {
                "none".into()
            } else {
                declared.join(", ")
            }
        ));
    }
    for (name, input) in &spec.inputs {
        let value = match (given.get(name), &input.default) {
            (Some(v), _) => coerce(input.kind, v),
            (None, Some(d)) => d.clone(),
            (None, None) => {
                deny(format!(
                    "input `{name}` is required by blueprint {}",
                    spec.name
                ));
                continue;
            }
        };
        if !type_fits(input.kind, &value) {
            deny(format!("input `{name}` = {value} is not a {:?}", input.kind).to_lowercase());
            continue;
        }
        if !input.allowed.is_empty() && !input.allowed.contains(&value) {
            let allowed: Vec<String> = input
                .allowed
                .iter()
                .map(super::blueprint::var_text)
                .collect();
            deny(format!(
                "input `{name}` = `{}` is not one of the blueprint's allowed values: {}",
                super::blueprint::var_text(&value),
                allowed.join(", ")
            ));
        }
        out.insert(name.clone(), value);
    }
    (out, findings)
}

/// WD-ENV-001 for a space the blueprint does not allow.
#[must_use]
pub fn space_finding(spec: &BlueprintSpec, space: &str, resource: &str) -> Option<Finding> {
    (!spec.allows_space(space)).then(|| {
        finding(
            "WD-ENV-001",
            Enforcement::Deny,
            resource,
            format!(
                "blueprint {} does not allow space `{space}` (allowed: {})",
                spec.name,
                spec.spaces.join(", ")
            ),
        )
    })
}

/// WD-ENV-002 when an environment would last longer than the blueprint's maximum.
#[must_use]
pub fn duration_finding(
    spec: &BlueprintSpec,
    total: Duration,
    what: &str,
    resource: &str,
) -> Option<Finding> {
    (total > spec.max_duration).then(|| {
        finding(
            "WD-ENV-002",
            Enforcement::RequireApproval,
            resource,
            format!(
                "{what} would last {}, above blueprint {}'s maximum {}",
                format_duration(total),
                spec.name,
                format_duration(spec.max_duration)
            ),
        )
    })
}

/// WD-ENV-003 for each concurrency limit a new environment would pass.
#[must_use]
pub fn concurrency_findings(
    settings: &EnvironmentSettings,
    space: &SpaceEnvironments,
    agent_limit: Option<u32>,
    running: &[Environment],
    owner: &str,
    space_name: &str,
    resource: &str,
) -> Vec<Finding> {
    let ids = |f: &dyn Fn(&Environment) -> bool| -> Vec<String> {
        running
            .iter()
            .filter(|e| f(e))
            .map(|e| e.id.to_string())
            .collect()
    };
    let mut checks: Vec<(String, Option<u32>, Vec<String>)> = vec![
        (
            format!("{owner} has {{n}} environments running ({{ids}}); `max-per-user` is {{limit}}"),
            space.limits.max_per_user,
            ids(&|e| e.owner == owner),
        ),
        (
            format!("space {space_name} has {{n}} environments running ({{ids}}); `max-per-space` is {{limit}}"),
            space.limits.max_per_space,
            ids(&|e| e.space == space_name),
        ),
        (
            "the account has {n} environments running ({ids}); `max-total` is {limit}".to_owned(),
            settings.max_total,
            ids(&|_| true),
        ),
    ];
    if let Some(limit) = agent_limit {
        checks.push((
            format!("agent {owner} has {{n}} environments running ({{ids}}); `[agents] max-environments` is {{limit}}"),
            Some(limit),
            ids(&|e| e.owner == owner),
        ));
    }
    checks
        .into_iter()
        .filter_map(|(template, limit, ids)| {
            let limit = limit?;
            (ids.len() >= limit as usize).then(|| {
                finding(
                    "WD-ENV-003",
                    Enforcement::Deny,
                    resource,
                    template
                        .replace("{n}", &ids.len().to_string())
                        .replace("{ids}", &ids.join(", "))
                        .replace("{limit}", &limit.to_string()),
                )
            })
        })
        .collect()
}

/// The cost checks of a launch, made once the plan's estimate is known: the per-environment
/// cap (WD-ENV-004) and the space's budget over its running environments (WD-ENV-005). Given
/// to [`crate::ops::decide`] with the findings known before the plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// Findings of the consumption and lifecycle checks.
    pub findings: Vec<Finding>,
    /// What the findings are about (`environment/<id>`).
    pub resource: String,
    /// The per-environment cap.
    pub cap: Option<f64>,
    /// The space's budget: its name, the budget and what its running environments cost.
    pub budget: Option<(String, f64, f64)>,
    /// The blueprint's cost, used when the plan prices nothing.
    pub fallback_cost: Option<f64>,
}

impl Checkpoint {
    /// The environment's monthly cost: the plan's estimate when it priced anything, else the
    /// blueprint's.
    #[must_use]
    pub fn monthly_cost(&self, decision: &Decision) -> Option<f64> {
        match &decision.cost {
            Some(c) if c.counts.priced > 0 => Some(c.after),
            _ => self.fallback_cost,
        }
    }

    /// Every checkpoint finding for this decision.
    #[must_use]
    pub fn findings_for(&self, decision: &Decision) -> Vec<Finding> {
        let mut out = self.findings.clone();
        let Some(cost) = self.monthly_cost(decision) else {
            return out;
        };
        if let Some(cap) = self.cap.filter(|cap| cost > *cap) {
            out.push(finding(
                "WD-ENV-004",
                Enforcement::Deny,
                &self.resource,
                format!(
                    "environment cost {}/month is above the per-environment cap `max-monthly-cost` {} (over by {})",
                    usd(cost),
                    usd(cap),
                    usd(cost - cap)
                ),
            ));
        }
        if let Some((space, budget, running)) = &self.budget {
            if running + cost > *budget {
                out.push(finding(
                    "WD-ENV-005",
                    Enforcement::Deny,
                    &self.resource,
                    format!(
                        "space {space}'s environment budget `budget-monthly` is {}: running {}, this environment +{}, over by {} (headroom {})",
                        usd(*budget),
                        usd(*running),
                        usd(cost),
                        usd(running + cost - budget),
                        usd((budget - running).max(0.0))
                    ),
                ));
            }
        }
        out
    }
}

/// Monthly cost of the running environments per space.
#[must_use]
pub fn running_cost_by_space(running: &[Environment]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for e in running {
        *out.entry(e.space.clone()).or_insert(0.0) += e.monthly_cost.unwrap_or(0.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BlueprintSpec {
        BlueprintSpec::parse(
            "b.yaml",
            "name: sandbox\nsource: {path: src}\ninputs:\n  region: {type: string, allowed: [eu-west-1, eu-central-1], default: eu-west-1}\n  size: {type: number, default: 1}\nduration: {default: 8h, max: 72h}\nspaces: [dev]\n",
        )
        .unwrap()
    }

    #[test]
    fn inputs_are_checked_against_the_blueprint() {
        let given: serde_json::Map<String, Value> = serde_json::from_value(
            serde_json::json!({"region": "us-east-2", "size": "3", "colour": "red"}),
        )
        .unwrap();
        let (resolved, findings) = resolve_inputs(&spec(), &given, "environment/1");
        assert_eq!(resolved.get("size"), Some(&Value::from(3)));
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("`colour` is not declared"));
        assert!(messages[1].contains("`region` = `us-east-2` is not one of"));
        assert!(findings
            .iter()
            .all(|f| f.rule_id == "WD-ENV-001" && f.enforcement == Enforcement::Deny));
        let (_, none) = resolve_inputs(&spec(), &serde_json::Map::new(), "environment/1");
        assert!(none.is_empty());
        assert!(space_finding(&spec(), "prod", "x").is_some());
        assert!(space_finding(&spec(), "dev", "x").is_none());
    }

    #[test]
    fn duration_and_cost_findings_name_their_limits() {
        let long = duration_finding(
            &spec(),
            Duration::from_secs(80 * 3600),
            "environment 3",
            "r",
        )
        .unwrap();
        assert_eq!(long.enforcement, Enforcement::RequireApproval);
        assert!(
            long.message.contains("80h") && long.message.contains("maximum 3d"),
            "{}",
            long.message
        );
        assert!(duration_finding(&spec(), Duration::from_secs(3600), "e", "r").is_none());
        let check = Checkpoint {
            resource: "environment/1".into(),
            cap: Some(100.0),
            budget: Some(("dev".into(), 600.0, 450.0)),
            fallback_cost: Some(200.0),
            ..Checkpoint::default()
        };
        let d = warden_core::decide::decide(
            &[],
            Vec::new(),
            Vec::new(),
            &warden_core::decide::DecideOptions {
                exceptions: &[],
                today: time::Date::MIN,
                tag_waivers: false,
                policy_revision: String::new(),
                rules: 0,
                evaluated_at: String::new(),
                duration_ms: 0.0,
                version: String::new(),
            },
        );
        let f = check.findings_for(&d);
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("over by $100.00"), "{}", f[0].message);
        assert!(f[1].message.contains("`budget-monthly` is $600.00: running $450.00, this environment +$200.00, over by $50.00 (headroom $150.00)"), "{}", f[1].message);
    }
}
