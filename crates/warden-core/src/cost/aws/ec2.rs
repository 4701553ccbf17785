//! EC2 instances: the instance type per hour, and its root and EBS block devices.

use crate::cost::pricer::{Ctx, Field, Priced, Unpriceable};

use super::ebs;

/// `aws_instance`: Linux, shared tenancy, on-demand.
pub(crate) fn instance(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let instance_type = s.required_str("instance_type")?;
    if let Some(tenancy @ ("dedicated" | "host")) = s.str("tenancy")? {
        return Err(Unpriceable::new(format!(
            "`tenancy = \"{tenancy}\"` is not in the catalog (shared tenancy only)"
        )));
    }
    if let Some(market) = s.items("instance_market_options")?.first() {
        if market.get("market_type").and_then(|v| v.as_str()) == Some("spot") {
            return Err(Unpriceable::new(
                "spot instances are not priced: their price moves with demand",
            ));
        }
    }
    cx.hourly(
        out,
        format!("{instance_type} instance (Linux, on-demand)"),
        "aws.ec2",
        instance_type,
        1.0,
    )?;
    if s.str("credit_specification.0.cpu_credits")? == Some("unlimited") {
        out.note("unlimited CPU credits: surplus credits are billed by usage, not included");
    }
    // The root volume: sized by the AMI unless the configuration says.
    match s.field("root_block_device") {
        Field::Known(v) if !v.items().is_empty() => {
            let root = s.child("root_block_device.0", "root_block_device");
            ebs::block_device(cx, out, "root volume", &root)?;
        }
        _ => {
            out.note(format!(
                "root volume: its size comes from the AMI; {} GB {} assumed",
                ebs::ROOT_DEFAULT_GB,
                ebs::ROOT_DEFAULT_TYPE
            ));
            ebs::storage(
                cx,
                out,
                "root volume",
                ebs::ROOT_DEFAULT_TYPE,
                ebs::ROOT_DEFAULT_GB,
                None,
                None,
            )?;
        }
    }
    let devices = s.child("ebs_block_device", "ebs_block_device");
    for i in 0..s.items("ebs_block_device")?.len() {
        let device = devices.child(&i.to_string(), "ebs_block_device");
        let name = device
            .str("device_name")?
            .map_or_else(|| format!("EBS volume {i}"), |d| format!("EBS volume {d}"));
        ebs::block_device(cx, out, &name, &device)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{estimate_one, monthly, plan, unpriced};
    use crate::cost::{estimate, Catalog, Usage};

    #[test]
    fn an_instance_with_its_volumes() {
        // m5.large 0.096/h × 730 = 70.08
        // root gp3 50 GB × 0.08 = 4.00
        // data io1 100 GB × 0.125 = 12.50, 1000 IOPS × 0.065 = 65.00
        // total 70.08 + 4.00 + 12.50 + 65.00 = 151.58
        let after = r#"{"instance_type":"m5.large","availability_zone":"us-east-1a",
            "root_block_device":[{"volume_size":50,"volume_type":"gp3","iops":3000,"throughput":125}],
            "ebs_block_device":[{"device_name":"/dev/sdf","volume_size":100,"volume_type":"io1","iops":1000}]}"#;
        assert_eq!(monthly("aws_instance", after), 151.58);
        let e = estimate_one("aws_instance", after, "");
        let parts: Vec<(&str, f64)> = e.resources[0]
            .components
            .iter()
            .map(|c| (c.description.as_str(), c.monthly))
            .collect();
        assert_eq!(
            parts,
            [
                ("m5.large instance (Linux, on-demand)", 70.08),
                ("root volume: gp3 storage", 4.0),
                ("EBS volume /dev/sdf: io1 storage", 12.5),
                ("EBS volume /dev/sdf: io1 provisioned IOPS", 65.0),
            ]
        );
    }

    #[test]
    fn the_root_volume_left_to_the_ami_is_assumed_and_said() {
        // t3.nano 0.0052 × 730 = 3.796 → 3.80; root 8 GB gp2 × 0.10 = 0.80; total 4.60
        let e = estimate_one(
            "aws_instance",
            r#"{"instance_type":"t3.nano","root_block_device":null}"#,
            "",
        );
        assert_eq!(e.after, 4.6);
        assert!(e.resources[0]
            .notes
            .iter()
            .any(|n| n.contains("8 GB gp2 assumed")));
    }

    #[test]
    fn a_volume_size_known_only_after_apply_is_named() {
        // Set in the configuration (or no configuration to tell): unpriced, named.
        let changes = plan(
            r#"[{"address":"aws_instance.a","type":"aws_instance","change":{"actions":["create"],"before":null,
                "after":{"instance_type":"t3.micro","root_block_device":[{"volume_type":"gp3"}]},
                "after_unknown":{"root_block_device":[{"volume_size":true}]}}}]"#,
        );
        let e = estimate(&changes, Catalog::embedded(), &Usage::default());
        assert_eq!(
            e.unpriced[0].reason,
            "`root_block_device.volume_size` is known only after apply"
        );
        assert!(e.unpriced[0].unknown);
    }

    #[test]
    fn hours_per_month_come_from_usage() {
        // t3.micro 0.0104 × 200 h = 2.08; root 8 GB gp2 = 0.80; total 2.88
        let e = estimate_one(
            "aws_instance",
            r#"{"instance_type":"t3.micro"}"#,
            "aws_instance: { hours_per_month: 200 }",
        );
        assert_eq!(e.after, 2.88);
    }

    #[test]
    fn what_the_catalog_cannot_price() {
        assert_eq!(
            unpriced("aws_instance", r#"{"instance_type":"x9.mega"}"#),
            "no price for `x9.mega` in us-east-1 (`aws.ec2`)"
        );
        assert!(unpriced(
            "aws_instance",
            r#"{"instance_type":"t3.micro","tenancy":"dedicated"}"#
        )
        .contains("tenancy"));
        assert!(unpriced(
            "aws_instance",
            r#"{"instance_type":"t3.micro","instance_market_options":[{"market_type":"spot"}]}"#
        )
        .contains("spot"));
        assert_eq!(unpriced("aws_instance", "{}"), "no `instance_type`");
    }
}
