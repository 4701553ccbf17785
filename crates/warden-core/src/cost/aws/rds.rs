//! RDS DB instances: the instance class per hour by engine and deployment (single-AZ or
//! Multi-AZ), storage per GB-month and provisioned IOPS.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_db_instance` (MySQL, MariaDB, PostgreSQL).
pub(crate) fn instance(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let class = s.required_str("instance_class")?;
    let engine = s.required_str("engine")?;
    let engine_key = match engine {
        "mysql" | "mariadb" => "mysql",
        "postgres" => "postgres",
        e if e.starts_with("aurora") => {
            return Err(Unpriceable::new(
                "Aurora engines are billed per cluster instance (`aws_rds_cluster_instance`), not in the catalog",
            ))
        }
        e => {
            return Err(Unpriceable::new(format!(
                "engine `{e}` is not in the catalog (mysql, mariadb, postgres)"
            )))
        }
    };
    let multi_az = s.bool("multi_az")?.unwrap_or(false);
    let (suffix, deployment) = if multi_az {
        ("/multi-az", "Multi-AZ")
    } else {
        ("", "single-AZ")
    };
    cx.hourly(
        out,
        format!("{class} {engine} instance ({deployment})"),
        "aws.rds",
        &format!("{engine_key}/{class}{suffix}"),
        1.0,
    )?;
    let Some(size) = s.number("allocated_storage")? else {
        return Err(Unpriceable::new("no `allocated_storage`"));
    };
    let iops = s.number("iops")?.filter(|i| *i > 0.0);
    let storage_type = match s.str("storage_type")? {
        Some(t) => t,
        None if iops.is_some() => "io1",
        None => "gp2",
    };
    cx.monthly(
        out,
        format!("{storage_type} storage ({deployment})"),
        "GB-month",
        "aws.rds_storage",
        &format!("{storage_type}{suffix}"),
        size,
    )?;
    if let (Some(iops), "io1" | "io2") = (iops, storage_type) {
        cx.monthly(
            out,
            format!("{storage_type} provisioned IOPS ({deployment})"),
            "IOPS-month",
            "aws.rds_storage",
            &format!("{storage_type}/iops{suffix}"),
            iops,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn single_az_and_multi_az() {
        // db.t3.micro mysql 0.017 × 730 = 12.41; gp2 20 GB × 0.115 = 2.30; total 14.71
        assert_eq!(
            monthly(
                "aws_db_instance",
                r#"{"instance_class":"db.t3.micro","engine":"mysql","allocated_storage":20,"storage_type":"gp2"}"#
            ),
            14.71
        );
        // db.m5.large postgres Multi-AZ 0.356 × 730 = 259.88; gp3 100 GB × 0.23 = 23.00;
        // total 282.88
        assert_eq!(
            monthly(
                "aws_db_instance",
                r#"{"instance_class":"db.m5.large","engine":"postgres","multi_az":true,"allocated_storage":100,"storage_type":"gp3"}"#
            ),
            282.88
        );
        // db.r6g.large mariadb (priced as mysql) 0.215 × 730 = 156.95; io1 100 GB × 0.125 =
        // 12.50; 1000 IOPS × 0.10 = 100.00; total 269.45
        assert_eq!(
            monthly(
                "aws_db_instance",
                r#"{"instance_class":"db.r6g.large","engine":"mariadb","allocated_storage":100,"iops":1000}"#
            ),
            269.45
        );
    }

    #[test]
    fn engines_outside_the_catalog() {
        assert!(unpriced(
            "aws_db_instance",
            r#"{"instance_class":"db.r5.large","engine":"aurora-mysql","allocated_storage":1}"#
        )
        .contains("Aurora"));
        assert!(unpriced(
            "aws_db_instance",
            r#"{"instance_class":"db.r5.large","engine":"oracle-ee","allocated_storage":20}"#
        )
        .contains("`oracle-ee`"));
    }
}
