//! Cloud SQL for MySQL and PostgreSQL (Enterprise edition): the tier per hour — shared-core
//! tiers by name, dedicated-core tiers by vCPU and memory — and storage; high availability
//! (REGIONAL) doubles both.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `google_sql_database_instance`.
pub(crate) fn instance(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    if let Some(version) = s.str("database_version")? {
        if version.starts_with("SQLSERVER") {
            return Err(Unpriceable::new(
                "SQL Server instances include a license that is not in the catalog",
            ));
        }
    }
    if s.str("settings.0.edition")? == Some("ENTERPRISE_PLUS") {
        return Err(Unpriceable::new(
            "the Enterprise Plus edition is not in the catalog",
        ));
    }
    let tier = s.required_str("settings.0.tier")?;
    let ha = s.str("settings.0.availability_type")? == Some("REGIONAL");
    let (copies, label) = if ha {
        (2.0, " (high availability)")
    } else {
        (1.0, "")
    };
    match shape(tier) {
        Some((vcpus, memory_gb)) => {
            cx.hourly(
                out,
                format!("{tier}: {vcpus} vCPU{label}"),
                "gcp.sql",
                "vcpu_hour",
                vcpus * copies,
            )?;
            cx.hourly(
                out,
                format!("{tier}: {memory_gb} GB memory{label}"),
                "gcp.sql",
                "memory_gb_hour",
                memory_gb * copies,
            )?;
        }
        None => cx.hourly(
            out,
            format!("{tier} instance{label}"),
            "gcp.sql",
            tier,
            copies,
        )?,
    }
    let size = s.number("settings.0.disk_size")?.unwrap_or(10.0);
    let disk = s.str("settings.0.disk_type")?.unwrap_or("PD_SSD");
    cx.monthly(
        out,
        format!("{disk} storage{label}"),
        "GB-month",
        "gcp.sql",
        &format!("storage/{disk}"),
        size * copies,
    )
}

/// vCPUs and GB of memory of a dedicated-core tier: `db-custom-<vCPU>-<MB>`,
/// `db-n1-standard-<n>` (3.75 GB per vCPU), `db-n1-highmem-<n>` (6.5 GB per vCPU).
fn shape(tier: &str) -> Option<(f64, f64)> {
    if let Some(rest) = tier.strip_prefix("db-custom-") {
        let (cpu, mb) = rest.split_once('-')?;
        return Some((cpu.parse().ok()?, mb.parse::<f64>().ok()? / 1024.0));
    }
    for (prefix, gb_per_vcpu) in [("db-n1-standard-", 3.75), ("db-n1-highmem-", 6.5)] {
        if let Some(n) = tier.strip_prefix(prefix) {
            let n: f64 = n.parse().ok()?;
            return Some((n, n * gb_per_vcpu));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn tiers_storage_and_high_availability() {
        // db-f1-micro 0.0105 × 730 = 7.665 → 7.67; storage PD_SSD 10 GB (default) × 0.17 =
        // 1.70; total 9.37
        assert_eq!(
            monthly(
                "google_sql_database_instance",
                r#"{"region":"us-central1","database_version":"POSTGRES_15","settings":[{"tier":"db-f1-micro"}]}"#
            ),
            9.37
        );
        // db-custom-2-7680, REGIONAL: 2 vCPU × 2 × 730 × 0.0413 = 120.596 → 120.60;
        // 7.5 GB × 2 × 730 × 0.007 = 76.65; PD_SSD 100 GB × 2 × 0.17 = 34.00;
        // total 231.25
        assert_eq!(
            monthly(
                "google_sql_database_instance",
                r#"{"region":"us-central1","database_version":"MYSQL_8_0","settings":[{"tier":"db-custom-2-7680",
                    "availability_type":"REGIONAL","disk_size":100,"disk_type":"PD_SSD"}]}"#
            ),
            231.25
        );
        assert!(unpriced(
            "google_sql_database_instance",
            r#"{"database_version":"SQLSERVER_2019_STANDARD","settings":[{"tier":"db-custom-2-7680"}]}"#
        )
        .contains("license"));
    }
}
