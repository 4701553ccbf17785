//! Auto Scaling groups: `desired_capacity` instances of the instance type their launch
//! template or launch configuration names, when that is in the same plan.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};
use crate::resource::{Mode, Resource};
use crate::value::Value;

/// `aws_autoscaling_group`.
pub(crate) fn group(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    if !s.items("mixed_instances_policy")?.is_empty() {
        return Err(Unpriceable::new(
            "a mixed instances policy is not priced (its instance types and spot share vary)",
        ));
    }
    let count = match s.number("desired_capacity")? {
        Some(n) => n,
        None => {
            let min = s.number("min_size")?.unwrap_or(0.0);
            out.note("no `desired_capacity`: priced at `min_size`");
            min
        }
    };
    let instance_type = if !s.items("launch_template")?.is_empty() {
        from_template(cx)?
    } else if let Some(name) = s.str("launch_configuration")? {
        let config = find(
            cx,
            "aws_launch_configuration",
            "launch_configuration",
            &["name", "id"],
            Some(name),
        )
        .ok_or_else(|| {
            Unpriceable::new(format!(
                "launch configuration `{name}` is not in this plan: its instance type is unknown"
            ))
        })?;
        instance_type_of(config, "launch configuration")?
    } else {
        return Err(Unpriceable::new(
            "no launch template or launch configuration to take the instance type from",
        ));
    };
    cx.hourly(
        out,
        format!("{count} × {instance_type} instance (Linux, on-demand)"),
        "aws.ec2",
        instance_type,
        count,
    )?;
    out.note("instance volumes not included");
    Ok(())
}

/// The instance type of the group's launch template, found by id, name, or the
/// configuration's reference to its block.
fn from_template<'a>(cx: &Ctx<'a>) -> Result<&'a str, Unpriceable> {
    let s = &cx.state;
    let id = s.str("launch_template.0.id").ok().flatten();
    let name = s.str("launch_template.0.name").ok().flatten();
    let template = find(cx, "aws_launch_template", "launch_template.id", &["id"], id)
        .or_else(|| find(cx, "aws_launch_template", "launch_template.name", &["name"], name))
        .ok_or_else(|| {
            Unpriceable::new(
                "its launch template is not in this plan (or not found): the instance type is unknown",
            )
        })?;
    instance_type_of(template, "launch template")
}

/// A live resource of `kind` that `attribute` of the group points at: by a known value of
/// one of `keys`, or by the configuration's reference to its block.
fn find<'a>(
    cx: &Ctx<'a>,
    kind: &str,
    attribute: &str,
    keys: &[&str],
    value: Option<&str>,
) -> Option<&'a Resource> {
    let candidates = cx
        .changes
        .resources
        .iter()
        .filter(|r| r.kind == kind && r.mode == Mode::Managed && r.action.is_live());
    if let Some(value) = value {
        let mut candidates = candidates.clone();
        if let Some(r) = candidates.find(|r| {
            keys.iter()
                .any(|k| r.after.get(k).and_then(Value::as_str) == Some(value))
        }) {
            return Some(r);
        }
    }
    let references = cx.state.config?.references_of(attribute);
    let mut candidates = candidates;
    candidates.find(|r| {
        let block = r.config_address();
        references.iter().any(|reference| {
            reference == &block
                || reference
                    .strip_prefix(block.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

fn instance_type_of<'a>(r: &'a Resource, what: &str) -> Result<&'a str, Unpriceable> {
    match r.attr("instance_type") {
        crate::resource::Attr::Known(v) => v.as_str().ok_or_else(|| {
            Unpriceable::new(format!("the {what}'s `instance_type` is not a string"))
        }),
        crate::resource::Attr::Unknown => Err(Unpriceable {
            reason: format!("the {what}'s `instance_type` is known only after apply"),
            unknown: true,
        }),
        crate::resource::Attr::Absent => Err(Unpriceable::new(format!(
            "the {what} `{}` names no `instance_type`",
            r.address
        ))),
    }
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{plan, price_of};
    use crate::cost::{estimate, Catalog, Usage};

    #[test]
    fn a_group_through_its_launch_template() {
        let changes = plan(
            r#"[
            {"address":"aws_launch_template.web","type":"aws_launch_template","change":{"actions":["create"],"before":null,
              "after":{"name":"web","instance_type":"c6i.large"}}},
            {"address":"aws_autoscaling_group.web","type":"aws_autoscaling_group","change":{"actions":["create"],"before":null,
              "after":{"desired_capacity":4,"min_size":2,"max_size":8,"launch_template":[{"name":"web","version":"$Latest"}]}}},
            {"address":"aws_autoscaling_group.lost","type":"aws_autoscaling_group","change":{"actions":["create"],"before":null,
              "after":{"desired_capacity":1,"launch_template":[{"name":"elsewhere"}]}}}
            ]"#,
        );
        let e = estimate(&changes, Catalog::embedded(), &Usage::default());
        // 4 × c6i.large: 4 × 730 × 0.085 = 248.20
        assert_eq!(price_of(&e, "aws_autoscaling_group.web"), (0.0, 248.2));
        assert!(e
            .free
            .iter()
            .any(|f| f.address == "aws_launch_template.web"));
        assert!(
            e.unpriced[0].reason.contains("launch template"),
            "{:?}",
            e.unpriced
        );
    }
}
