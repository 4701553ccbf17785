//! Terraform drift: a plan's `resource_drift` (what Terraform last knew → what is live, as
//! a refresh-only plan shows it) → a [`Comparison`].
//!
//! An entry whose states are equal once compared (Terraform 1.0 lists refreshed resources
//! whose values did not change) is not drift. Data sources are skipped.

use super::diff::{diff, DiffOptions};
use super::remediation;
use super::{Comparison, DriftError, DriftReport, DriftedResource, Source, Status};
use crate::changeset::{ChangeSet, TerraformInfo};
use crate::resource::{Action, Mode, Resource};
use crate::value::Value;

/// The drift of a parsed plan, with the last-known and live states of the drifted
/// resources to evaluate (resources deleted outside Terraform are in neither: nothing is
/// live, and what was there is no longer the question).
///
/// # Errors
/// The change set is not a Terraform plan.
pub fn compare(plan: &ChangeSet) -> Result<Comparison, DriftError> {
    let Some(info) = plan.terraform.as_ref() else {
        return Err(DriftError::NotAPlan {
            path: plan.input.path.clone(),
        });
    };
    let mut report = DriftReport::new(Source::Terraform, vec![plan.input.clone()]);
    let mut last_known = Vec::new();
    let mut live = Vec::new();
    for r in info.drift.iter().filter(|r| r.mode == Mode::Managed) {
        report.summary.compared += 1;
        let status = if r.action.is_live() {
            Status::Changed
        } else {
            Status::Deleted
        };
        let changes = if status == Status::Changed {
            diff(
                &r.before,
                &r.after,
                &r.before_sensitive,
                &r.after_sensitive,
                &DiffOptions::default(),
            )
        } else {
            Vec::new()
        };
        if status == Status::Changed && changes.is_empty() {
            continue;
        }
        if status == Status::Changed {
            last_known.push(state(r, &r.before, &r.before_sensitive, &r.before));
            live.push(state(r, &r.before, &r.after_sensitive, &r.after));
        }
        let mut drifted = DriftedResource::new(r, &r.address, status, changes);
        drifted.remediation = remediation::terraform(&drifted);
        report.drifted.push(drifted);
    }
    if info.errored {
        report.errors.push(crate::decision::EngineError {
            engine: "input".to_owned(),
            message: format!(
                "{}: the plan says it errored (`errored: true`); its drift may be incomplete",
                plan.input.path
            ),
        });
    }
    report.refresh();
    let context = TerraformInfo {
        providers: info.providers.clone(),
        config: info.config.clone(),
        data_sources: info.data_sources.clone(),
        ..TerraformInfo::default()
    };
    let states = |resources: Vec<Resource>| ChangeSet {
        resources,
        context: plan.context.clone(),
        input: plan.input.clone(),
        terraform: Some(context.clone()),
    };
    Ok(Comparison {
        report,
        quiet: Vec::new(),
        last_known: states(last_known),
        live: states(live),
    })
}

/// A drifted resource as an in-place update from `before` to `after`: how engines see a
/// state (rules read `after`; conftest-style Rego policies look for `update`), with the
/// transition to it when there is one (the live state comes from the last-known one).
fn state(r: &Resource, before: &Value, sensitive: &Value, after: &Value) -> Resource {
    Resource {
        action: Action::Update,
        action_reason: None,
        before: before.clone(),
        after: after.clone(),
        after_unknown: Value::Null,
        before_sensitive: Value::Null,
        after_sensitive: sensitive.clone(),
        ..r.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::ChangeKind;

    fn plan(drift: &str) -> ChangeSet {
        let text = format!(
            r#"{{"format_version":"1.2","terraform_version":"1.9.0","resource_drift":{drift}}}"#
        );
        crate::inputs::terraform::parse_plan("p.json", text.as_bytes()).unwrap()
    }

    #[test]
    fn changed_deleted_and_unchanged_entries() {
        let cs = plan(
            r#"[
            {"address":"aws_security_group.web","mode":"managed","type":"aws_security_group","name":"web",
             "change":{"actions":["update"],"before":{"name":"web","ingress":[{"cidr_blocks":["10.0.0.0/8"]}]},
                                            "after":{"name":"web","ingress":[{"cidr_blocks":["0.0.0.0/0"]}]}}},
            {"address":"aws_s3_bucket.logs","mode":"managed","type":"aws_s3_bucket","name":"logs",
             "change":{"actions":["delete"],"before":{"bucket":"logs"},"after":null}},
            {"address":"aws_iam_role.same","mode":"managed","type":"aws_iam_role","name":"same",
             "change":{"actions":["update"],"before":{"name":"r"},"after":{"name":"r"}}}
        ]"#,
        );
        let c = compare(&cs).unwrap();
        let r = &c.report;
        assert_eq!(r.summary.compared, 3);
        assert_eq!(r.summary.drifted, 2);
        let sg = r
            .drifted
            .iter()
            .find(|d| d.address == "aws_security_group.web")
            .unwrap();
        assert_eq!(sg.status, Status::Changed);
        assert_eq!(sg.changes.len(), 1);
        assert_eq!(sg.changes[0].path, "ingress.0.cidr_blocks");
        assert_eq!(sg.changes[0].change, ChangeKind::Changed);
        assert_eq!(sg.location.pointer.as_deref(), Some("/resource_drift/0"));
        let bucket = r
            .drifted
            .iter()
            .find(|d| d.address == "aws_s3_bucket.logs")
            .unwrap();
        assert_eq!(bucket.status, Status::Deleted);
        // Only the changed resource is evaluated, in both states.
        assert_eq!(c.last_known.resources.len(), 1);
        assert_eq!(c.live.resources.len(), 1);
        assert_eq!(
            c.live.resources[0].after.path("ingress.0.cidr_blocks.0"),
            Some(&Value::from("0.0.0.0/0"))
        );
        assert_eq!(
            c.last_known.resources[0]
                .after
                .path("ingress.0.cidr_blocks.0"),
            Some(&Value::from("10.0.0.0/8"))
        );
    }

    #[test]
    fn manifests_are_not_plans() {
        let cs = crate::inputs::kubernetes::parse_manifests(
            "k.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
        )
        .unwrap();
        assert!(matches!(compare(&cs), Err(DriftError::NotAPlan { .. })));
    }
}
