//! governance rules.

pub(crate) mod agent_attempts_exhausted;
pub(crate) mod agent_change_quota_exceeded;
pub(crate) mod agent_cost_budget_exceeded;
mod cost_delta_above_threshold;
mod drift_introduces_violation;
mod environment_concurrency_exceeded;
mod environment_cost_above_cap;
mod environment_duration_above_max;
mod environment_request_not_allowed;
mod environment_space_budget_exceeded;
pub(crate) mod hardcoded_secret;
mod instance_type_not_allowed;
mod instance_type_requires_approval;
mod instance_types;
mod provider_not_allowed;
mod region_not_allowed;
mod required_tags_missing;
mod resource_type_not_allowed;
mod risk_score_above_threshold;
mod stateful_resource_destroyed;
mod too_many_resources_destroyed;

use crate::rule::RuleMeta;

/// The governance rules, in id order.
pub static RULES: &[&RuleMeta] = &[
    &agent_attempts_exhausted::AGENT_ATTEMPTS_EXHAUSTED,
    &agent_change_quota_exceeded::AGENT_CHANGE_QUOTA_EXCEEDED,
    &agent_cost_budget_exceeded::AGENT_COST_BUDGET_EXCEEDED,
    &cost_delta_above_threshold::COST_DELTA_ABOVE_THRESHOLD,
    &drift_introduces_violation::DRIFT_INTRODUCES_VIOLATION,
    &environment_request_not_allowed::ENVIRONMENT_REQUEST_NOT_ALLOWED,
    &environment_duration_above_max::ENVIRONMENT_DURATION_ABOVE_MAX,
    &environment_concurrency_exceeded::ENVIRONMENT_CONCURRENCY_EXCEEDED,
    &environment_cost_above_cap::ENVIRONMENT_COST_ABOVE_CAP,
    &environment_space_budget_exceeded::ENVIRONMENT_SPACE_BUDGET_EXCEEDED,
    &risk_score_above_threshold::RISK_SCORE_ABOVE_THRESHOLD,
    &region_not_allowed::REGION_NOT_ALLOWED,
    &instance_type_not_allowed::INSTANCE_TYPE_NOT_ALLOWED,
    &required_tags_missing::REQUIRED_TAGS_MISSING,
    &resource_type_not_allowed::RESOURCE_TYPE_NOT_ALLOWED,
    &provider_not_allowed::PROVIDER_NOT_ALLOWED,
    &too_many_resources_destroyed::TOO_MANY_RESOURCES_DESTROYED,
    &stateful_resource_destroyed::STATEFUL_RESOURCE_DESTROYED,
    &hardcoded_secret::HARDCODED_SECRET,
    &instance_type_requires_approval::INSTANCE_TYPE_REQUIRES_APPROVAL,
];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("governance");
    }
}
