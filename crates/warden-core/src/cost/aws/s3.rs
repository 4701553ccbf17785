//! S3 buckets: storage per GB-month, from the usage file (a plan does not say how much a
//! bucket will hold).

use crate::cost::money::unit_usd;
use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_s3_bucket`: `storage_gb` of the usage file, in the STANDARD class.
pub(crate) fn bucket(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let Some(gb) = cx.usage.storage_gb() else {
        return Err(Unpriceable::new(format!(
            "usage-based: set `storage_gb` for it in the usage file (STANDARD: {}/GB-month)",
            unit_usd(cx.price("aws.s3", "STANDARD")?)
        )));
    };
    cx.monthly(
        out,
        "STANDARD storage",
        "GB-month",
        "aws.s3",
        "STANDARD",
        gb,
    )?;
    out.note("requests and data transfer not included");
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly_with, unpriced};

    #[test]
    fn storage_from_usage() {
        // 500 GB × 0.023 = 11.50
        assert_eq!(
            monthly_with(
                "aws_s3_bucket",
                r#"{"bucket":"b"}"#,
                "aws_s3_bucket.x: { storage_gb: 500 }"
            ),
            11.5
        );
        assert_eq!(
            unpriced("aws_s3_bucket", r#"{"bucket":"b"}"#),
            "usage-based: set `storage_gb` for it in the usage file (STANDARD: $0.023/GB-month)"
        );
    }
}
