//! KMS: per customer managed key-month (requests not priced).

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_kms_key`.
pub(crate) fn key(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    cx.monthly(out, "customer managed key", "month", "aws.kms", "key", 1.0)
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::monthly;

    #[test]
    fn a_key() {
        // 1 × 1.00
        assert_eq!(monthly("aws_kms_key", "{}"), 1.0);
    }
}
