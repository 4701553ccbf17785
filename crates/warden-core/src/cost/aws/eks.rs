//! EKS: the cluster per hour, and managed node groups as their instances.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// The instance type EKS uses when a node group names none.
const DEFAULT_INSTANCE_TYPE: &str = "t3.medium";

/// `aws_eks_cluster` (standard support).
pub(crate) fn cluster(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    cx.hourly(out, "EKS cluster", "aws.eks", "cluster/hour", 1.0)
}

/// `aws_eks_node_group`: `desired_size` instances of its first instance type.
pub(crate) fn node_group(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    if s.str("capacity_type")? == Some("SPOT") {
        return Err(Unpriceable::new(
            "spot node groups are not priced: their price moves with demand",
        ));
    }
    let types = s.items("instance_types")?;
    let instance_type = match types.first() {
        Some(t) => t
            .as_str()
            .ok_or_else(|| Unpriceable::new("`instance_types` holds a non-string"))?,
        None if s.str("launch_template.0.id")?.is_some()
            || s.str("launch_template.0.name")?.is_some() =>
        {
            return Err(Unpriceable::new(
                "the instance type comes from the launch template: not priced",
            ))
        }
        None => {
            out.note(format!(
                "no `instance_types`: EKS's default {DEFAULT_INSTANCE_TYPE} assumed"
            ));
            DEFAULT_INSTANCE_TYPE
        }
    };
    if types.len() > 1 {
        out.note("several instance types: priced as the first");
    }
    let Some(nodes) = s.number("scaling_config.0.desired_size")? else {
        return Err(Unpriceable::new("no `scaling_config.desired_size`"));
    };
    cx.hourly(
        out,
        format!("{nodes} × {instance_type} node (Linux, on-demand)"),
        "aws.ec2",
        instance_type,
        nodes,
    )?;
    out.note("node volumes not included");
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn clusters_and_node_groups() {
        // 0.10 × 730 = 73.00
        assert_eq!(monthly("aws_eks_cluster", "{}"), 73.0);
        // 3 × m5.large: 3 × 730 × 0.096 = 210.24
        assert_eq!(
            monthly(
                "aws_eks_node_group",
                r#"{"instance_types":["m5.large"],"scaling_config":[{"desired_size":3,"min_size":1,"max_size":5}]}"#
            ),
            210.24
        );
        // default t3.medium: 2 × 730 × 0.0416 = 60.736 → 60.74
        assert_eq!(
            monthly(
                "aws_eks_node_group",
                r#"{"scaling_config":[{"desired_size":2}]}"#
            ),
            60.74
        );
        assert!(unpriced(
            "aws_eks_node_group",
            r#"{"capacity_type":"SPOT","scaling_config":[{"desired_size":2}]}"#
        )
        .contains("spot"));
    }
}
