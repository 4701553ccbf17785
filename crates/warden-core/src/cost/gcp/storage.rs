//! Cloud Storage buckets: storage per GB-month by class, from the usage file.

use crate::cost::money::unit_usd;
use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `google_storage_bucket`: `storage_gb` of the usage file.
pub(crate) fn bucket(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let class = cx.state.str("storage_class")?.unwrap_or("STANDARD");
    let class = match class {
        "MULTI_REGIONAL" | "REGIONAL" => "STANDARD",
        other => other,
    };
    let Some(gb) = cx.usage.storage_gb() else {
        return Err(Unpriceable::new(format!(
            "usage-based: set `storage_gb` for it in the usage file ({class}: {}/GB-month)",
            unit_usd(cx.price("gcp.storage", class)?)
        )));
    };
    cx.monthly(
        out,
        format!("{class} storage"),
        "GB-month",
        "gcp.storage",
        class,
        gb,
    )?;
    out.note("operations and data transfer not included");
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly_with, unpriced};

    #[test]
    fn storage_from_usage() {
        // multi-region US, STANDARD: 1000 GB × 0.026 = 26.00
        assert_eq!(
            monthly_with(
                "google_storage_bucket",
                r#"{"location":"US"}"#,
                "google_storage_bucket: { storage_gb: 1000 }"
            ),
            26.0
        );
        // NEARLINE in europe-west1: 1000 × 0.01 = 10.00
        assert_eq!(
            monthly_with(
                "google_storage_bucket",
                r#"{"location":"EUROPE-WEST1","storage_class":"NEARLINE"}"#,
                "google_storage_bucket: { storage_gb: 1000 }"
            ),
            10.0
        );
        assert!(unpriced("google_storage_bucket", r#"{"location":"US"}"#).contains("storage_gb"));
    }
}
