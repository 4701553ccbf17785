//! EBS: volumes (`aws_ebs_volume`) and the block devices of instances. Storage per GB-month by
//! type; gp3 IOPS above 3,000 and throughput above 125 MB/s, io1/io2 provisioned IOPS.

use crate::cost::pricer::{Ctx, Priced, State, Unpriceable};

/// Root volume size assumed when the AMI decides it (the Amazon Linux default).
pub(crate) const ROOT_DEFAULT_GB: f64 = 8.0;
/// Root volume type assumed when the AMI decides it.
pub(crate) const ROOT_DEFAULT_TYPE: &str = "gp2";
/// IOPS and throughput included with gp3.
const GP3_IOPS: f64 = 3_000.0;
const GP3_THROUGHPUT: f64 = 125.0;

/// `aws_ebs_volume`.
pub(crate) fn volume(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let Some(size) = s.number("size")? else {
        return Err(Unpriceable::new(if s.str("snapshot_id")?.is_some() {
            "no `size`: it comes from the snapshot"
        } else {
            "no `size`"
        }));
    };
    let kind = match s.str("type")? {
        Some(t) => t,
        None => {
            out.note("`type` left to the default: gp2 assumed");
            "gp2"
        }
    };
    storage(
        cx,
        out,
        "volume",
        kind,
        size,
        s.number("iops")?,
        s.number("throughput")?,
    )
}

/// One block device of an instance (`root_block_device.0`, as a sub-state).
pub(crate) fn block_device(
    cx: &Ctx<'_>,
    out: &mut Priced,
    name: &str,
    device: &State<'_>,
) -> Result<(), Unpriceable> {
    let size = match device.number("volume_size")? {
        Some(size) => size,
        None => {
            out.note(format!(
                "{name}: its size comes from the AMI or snapshot; {ROOT_DEFAULT_GB} GB assumed"
            ));
            ROOT_DEFAULT_GB
        }
    };
    let kind = device.str("volume_type")?.unwrap_or(ROOT_DEFAULT_TYPE);
    storage(
        cx,
        out,
        name,
        kind,
        size,
        device.number("iops")?,
        device.number("throughput")?,
    )
}

/// Storage of `size` GB of `kind`, with its provisioned IOPS and throughput.
pub(crate) fn storage(
    cx: &Ctx<'_>,
    out: &mut Priced,
    name: &str,
    kind: &str,
    size: f64,
    iops: Option<f64>,
    throughput: Option<f64>,
) -> Result<(), Unpriceable> {
    cx.monthly(
        out,
        format!("{name}: {kind} storage"),
        "GB-month",
        "aws.ebs",
        kind,
        size,
    )?;
    match kind {
        "gp3" => {
            let extra_iops = iops.unwrap_or(GP3_IOPS) - GP3_IOPS;
            if extra_iops > 0.0 {
                cx.monthly(
                    out,
                    format!("{name}: gp3 IOPS above 3,000"),
                    "IOPS-month",
                    "aws.ebs",
                    "gp3/iops",
                    extra_iops,
                )?;
            }
            let extra = throughput.unwrap_or(GP3_THROUGHPUT) - GP3_THROUGHPUT;
            if extra > 0.0 {
                cx.monthly(
                    out,
                    format!("{name}: gp3 throughput above 125 MB/s"),
                    "MBps-month",
                    "aws.ebs",
                    "gp3/throughput",
                    extra,
                )?;
            }
        }
        "io1" | "io2" => {
            let iops =
                iops.ok_or_else(|| Unpriceable::new(format!("{name}: {kind} without `iops`")))?;
            let key = if kind == "io1" {
                "io1/iops"
            } else {
                "io2/iops"
            };
            cx.monthly(
                out,
                format!("{name}: {kind} provisioned IOPS"),
                "IOPS-month",
                "aws.ebs",
                key,
                iops,
            )?;
            if kind == "io2" && iops > 32_000.0 {
                out.note(format!(
                    "{name}: io2 IOPS above 32,000 are billed at lower tiers; priced at the first"
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn volumes_by_type() {
        // gp2 100 GB × 0.10 = 10.00
        assert_eq!(
            monthly("aws_ebs_volume", r#"{"size":100,"type":"gp2"}"#),
            10.0
        );
        // gp3 500 GB × 0.08 = 40.00; (6000 − 3000) IOPS × 0.005 = 15.00;
        // (250 − 125) MB/s × 0.04 = 5.00; total 60.00
        assert_eq!(
            monthly(
                "aws_ebs_volume",
                r#"{"size":500,"type":"gp3","iops":6000,"throughput":250}"#
            ),
            60.0
        );
        // io2 200 GB × 0.125 = 25.00; 4000 IOPS × 0.065 = 260.00; total 285.00
        assert_eq!(
            monthly("aws_ebs_volume", r#"{"size":200,"type":"io2","iops":4000}"#),
            285.0
        );
        // st1 1000 GB × 0.045 = 45.00; sc1 1000 × 0.015 = 15.00; standard 10 × 0.05 = 0.50
        assert_eq!(
            monthly("aws_ebs_volume", r#"{"size":1000,"type":"st1"}"#),
            45.0
        );
        assert_eq!(
            monthly("aws_ebs_volume", r#"{"size":1000,"type":"sc1"}"#),
            15.0
        );
        assert_eq!(
            monthly("aws_ebs_volume", r#"{"size":10,"type":"standard"}"#),
            0.5
        );
        // eu-central-1 gp3 100 GB × 0.0952 = 9.52
        assert_eq!(
            monthly(
                "aws_ebs_volume",
                r#"{"size":100,"type":"gp3","availability_zone":"eu-central-1a"}"#
            ),
            9.52
        );
    }

    #[test]
    fn volumes_without_a_size_are_unpriced() {
        assert_eq!(
            unpriced("aws_ebs_volume", r#"{"snapshot_id":"snap-1"}"#),
            "no `size`: it comes from the snapshot"
        );
        assert!(unpriced("aws_ebs_volume", r#"{"size":10,"type":"gp9"}"#).contains("`gp9`"));
    }
}
